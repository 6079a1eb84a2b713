//! What a chart shows: panels (one per metric), each with labelled series of (step, value) points.

use std::ops::Range;

use crate::error::PlotError;

/// One line in a panel: a run's values of one metric against the step (or time) axis.
///
/// Points are drawn in the order given (sort by step first). A point whose step or value is NaN
/// or infinite is not drawn: it leaves a gap in the line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Shown in the legend, e.g. the run's name or uid.
    pub label: String,
    /// The x coordinates, one per value.
    pub steps: Vec<f64>,
    /// The y coordinates, one per step.
    pub values: Vec<f64>,
}

/// One chart in the grid: usually one metric, with one series per run.
///
/// A panel with no drawable point at all (no series, or only empty or non-finite ones) is drawn
/// as its title over a framed "no data" box rather than failing the whole chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// Drawn above the panel, e.g. the metric name.
    pub title: String,
    /// The x axis description, e.g. "step"; empty for none.
    pub x_label: String,
    /// The lines of this panel; each gets its own colour and legend entry.
    pub series: Vec<Series>,
}

impl Series {
    /// A series from its label and matching steps and values.
    pub fn new(label: impl Into<String>, steps: Vec<f64>, values: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            steps,
            values,
        }
    }

    /// Whether point `i` can be drawn (both coordinates finite).
    pub(crate) fn is_usable(&self, i: usize) -> bool {
        self.steps[i].is_finite() && self.values[i].is_finite()
    }

    /// The maximal index ranges of consecutive drawable points, in order.
    pub(crate) fn finite_runs(&self) -> Vec<Range<usize>> {
        let n = self.steps.len().min(self.values.len());
        let mut runs = Vec::new();
        let mut start = None;
        for i in 0..n {
            match (self.is_usable(i), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    runs.push(s..i);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            runs.push(s..n);
        }
        runs
    }
}

impl Panel {
    /// A panel from its title, x axis description and series.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, series: Vec<Series>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            series,
        }
    }

    /// Every series must have as many steps as values.
    pub(crate) fn validate(&self) -> Result<(), PlotError> {
        match self.series.iter().find(|s| s.steps.len() != s.values.len()) {
            Some(s) => Err(PlotError::LengthMismatch {
                panel: self.title.clone(),
                series: s.label.clone(),
                steps: s.steps.len(),
                values: s.values.len(),
            }),
            None => Ok(()),
        }
    }

    /// The smallest box holding every drawable point, or `None` when there is none.
    pub(crate) fn bounds(&self) -> Option<Bounds> {
        let mut bounds: Option<Bounds> = None;
        for s in &self.series {
            for i in (0..s.steps.len()).filter(|&i| s.is_usable(i)) {
                let (x, y) = (s.steps[i], s.values[i]);
                let b = bounds.get_or_insert(Bounds { x: x..x, y: y..y });
                b.x = b.x.start.min(x)..b.x.end.max(x);
                b.y = b.y.start.min(y)..b.y.end.max(y);
            }
        }
        bounds
    }
}

/// The data extent of a panel, as closed ranges (`start <= end`, both finite).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bounds {
    pub x: Range<f64>,
    pub y: Range<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_runs_split_at_gaps() {
        let s = Series::new(
            "a",
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN],
            vec![f64::NAN, 1.0, 2.0, f64::INFINITY, 4.0, 5.0, 6.0],
        );
        assert_eq!(s.finite_runs(), vec![1..3, 4..6]);
        assert!(Series::default().finite_runs().is_empty());
    }

    #[test]
    fn bounds_ignore_non_finite_points() {
        let p = Panel::new(
            "loss",
            "step",
            vec![
                Series::new("a", vec![0.0, 1.0], vec![f64::NAN, 3.0]),
                Series::new("b", vec![5.0, f64::INFINITY], vec![-1.0, 100.0]),
            ],
        );
        assert_eq!(
            p.bounds(),
            Some(Bounds {
                x: 1.0..5.0,
                y: -1.0..3.0
            })
        );
        assert_eq!(Panel::default().bounds(), None);
    }

    #[test]
    fn validate_names_the_mismatched_series() {
        let p = Panel::new("acc", "", vec![Series::new("run-1", vec![0.0], vec![])]);
        let err = p.validate().unwrap_err().to_string();
        assert!(err.contains("run-1") && err.contains("acc"), "{err}");
    }
}
