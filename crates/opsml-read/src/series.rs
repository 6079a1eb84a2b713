//! One metric's points for a chart: downsampled to about the chart's width (LTTB, first and
//! last kept) over a step range, or, for a chart that follows a running experiment, only the
//! points logged after those it has.

use opsml_types::MetricColumns;
use serde::Serialize;

use crate::run_table::FloatCell;
use crate::select::{downsample, in_step_range, PointSelection};

/// Which of a metric's points a chart asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesRequest {
    /// The points a selection keeps (every point with the default selection).
    Selected(PointSelection),
    /// The points after the first `count` (in the order they were logged), all of them.
    After(usize),
    /// The points logged at or after `since` and before `until` (microseconds since the Unix
    /// epoch), at most `max_points` of them (LTTB): a chart by time, zoomed in.
    Logged {
        since: i64,
        until: i64,
        max_points: Option<usize>,
    },
}

/// A metric's points in columns.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesPoints {
    pub name: String,
    /// Points the metric has in all, so that a chart knows where the next ones begin.
    pub total: usize,
    /// Whether points were left out of the range asked for (a chart zoomed in on it asks
    /// again for that range).
    pub downsampled: bool,
    /// NaN points in the range asked for, and infinite ones: a chart says how many it shows
    /// as gaps, kept or not.
    pub nan: usize,
    pub infinite: usize,
    pub steps: Vec<Option<i64>>,
    /// Values, NaN and the infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    pub values: Vec<FloatCell>,
    /// When each point was logged, in microseconds since the Unix epoch.
    pub times: Vec<i64>,
}

/// At most `max` of the points `in_range` (all of them without a limit), and whether some
/// were left out. Downsampling keeps the NaN and infinite points besides those LTTB chooses
/// (up to as many again).
fn at_most(columns: &MetricColumns, in_range: &[usize], max: Option<usize>) -> (Vec<usize>, bool) {
    match max {
        Some(max) if in_range.len() > max => {
            let mut chosen = downsample(columns, in_range, max);
            let gaps = in_range
                .iter()
                .copied()
                .filter(|&i| !columns.values[i].is_finite());
            chosen.extend(gaps.take(max));
            chosen.sort_unstable();
            chosen.dedup();
            (chosen, true)
        }
        _ => (in_range.to_vec(), false),
    }
}

/// The points of metric `name` in `columns` (read for that metric alone) that `request`
/// asks for. Downsampling keeps the points that are NaN or infinite besides those LTTB
/// chooses (up to as many again), so that a chart draws the gaps where they are.
pub fn series_points(columns: &MetricColumns, name: &str, request: SeriesRequest) -> SeriesPoints {
    let total = columns.len();
    let (chosen, downsampled, in_range) = match request {
        SeriesRequest::After(count) => {
            let new: Vec<usize> = (count.min(total)..total).collect();
            (new.clone(), false, new)
        }
        SeriesRequest::Selected(selection) => {
            let in_range = in_step_range(columns, 0..total, selection.steps);
            let (chosen, downsampled) = at_most(columns, &in_range, selection.max_points);
            (chosen, downsampled, in_range)
        }
        SeriesRequest::Logged {
            since,
            until,
            max_points,
        } => {
            let in_range: Vec<usize> = (0..total)
                .filter(|&i| (since..until).contains(&columns.created_at[i]))
                .collect();
            let (chosen, downsampled) = at_most(columns, &in_range, max_points);
            (chosen, downsampled, in_range)
        }
    };
    let value = |i: usize| columns.values[i];
    SeriesPoints {
        name: name.to_owned(),
        total,
        downsampled,
        nan: in_range.iter().filter(|&&i| value(i).is_nan()).count(),
        infinite: in_range.iter().filter(|&&i| value(i).is_infinite()).count(),
        steps: chosen.iter().map(|&i| columns.steps.get(i)).collect(),
        values: chosen.iter().map(|&i| FloatCell(Some(value(i)))).collect(),
        times: chosen.iter().map(|&i| columns.created_at[i]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsml_types::MetricPoint;

    fn loss(points: usize) -> MetricColumns {
        let mut columns = MetricColumns {
            names: vec!["loss".into()],
            ..MetricColumns::default()
        };
        for step in 0..points {
            columns.push(
                0,
                MetricPoint {
                    value: if step == 5 { f64::NAN } else { step as f64 },
                    step: Some(step as i64),
                    timestamp: None,
                    created_at: 1_000 + step as i64,
                },
            );
        }
        columns
    }

    #[test]
    fn after_sends_only_the_new_points_and_the_total() {
        let series = series_points(&loss(10), "loss", SeriesRequest::After(7));
        assert_eq!(series.total, 10);
        assert_eq!(series.steps, [Some(7), Some(8), Some(9)]);
        assert_eq!(series.times, [1_007, 1_008, 1_009]);
        let past_the_end = series_points(&loss(3), "loss", SeriesRequest::After(9));
        assert!(past_the_end.steps.is_empty() && past_the_end.total == 3);
    }

    #[test]
    fn a_selection_keeps_the_ends_says_it_downsampled_and_keeps_nan_as_a_value() {
        let selection = PointSelection {
            steps: None,
            max_points: Some(4),
        };
        let series = series_points(&loss(100), "loss", SeriesRequest::Selected(selection));
        assert!(series.downsampled);
        // LTTB's 4, and the NaN at step 5 kept as a gap.
        assert_eq!(series.steps.len(), 5);
        assert!(series.steps.contains(&Some(5)));
        assert_eq!(series.steps.first(), Some(&Some(0)));
        assert_eq!(series.steps.last(), Some(&Some(99)));
        let whole = series_points(
            &loss(10),
            "loss",
            SeriesRequest::Selected(PointSelection::default()),
        );
        assert!(!whole.downsampled && whole.values[5].0.is_some_and(f64::is_nan));
        let json = serde_json::to_string(&whole.values[5..6]).unwrap();
        assert_eq!(json, r#"["NaN"]"#);
    }

    #[test]
    fn downsampling_keeps_the_nan_and_infinite_points_and_counts_them() {
        let mut columns = loss(10_000);
        columns.values[4_321] = f64::INFINITY;
        let selection = PointSelection {
            steps: None,
            max_points: Some(100),
        };
        let series = series_points(&columns, "loss", SeriesRequest::Selected(selection));
        assert_eq!((series.nan, series.infinite), (1, 1));
        assert!(series.steps.contains(&Some(5)) && series.steps.contains(&Some(4_321)));
        assert!(series.steps.len() <= 102);
        let steps: Vec<i64> = series.steps.iter().map(|s| s.unwrap()).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "in the order logged");
    }

    #[test]
    fn a_step_range_is_not_downsampled_when_it_fits() {
        let selection = PointSelection {
            steps: Some((10, 20)),
            max_points: Some(50),
        };
        let series = series_points(&loss(1_000), "loss", SeriesRequest::Selected(selection));
        assert!(!series.downsampled);
        assert_eq!(series.steps.len(), 10);
        assert_eq!(series.total, 1_000);
    }

    #[test]
    fn a_time_range_takes_the_points_logged_in_it_downsampled_when_many() {
        // Point `step` was logged at 1000 + step microseconds.
        let logged = |since, until, max_points| {
            let request = SeriesRequest::Logged {
                since,
                until,
                max_points,
            };
            series_points(&loss(1_000), "loss", request)
        };
        let few = logged(1_100, 1_110, Some(50));
        assert!(!few.downsampled);
        assert_eq!(few.times, (1_100..1_110).collect::<Vec<_>>());
        let many = logged(1_000, 1_500, Some(20));
        assert!(many.downsampled && many.steps.len() <= 21);
        assert_eq!(many.times.first(), Some(&1_000));
        assert_eq!(many.times.last(), Some(&1_499));
        assert_eq!(many.nan, 1, "the NaN at step 5 is in the range");
        assert!(logged(5_000, 6_000, None).steps.is_empty());
    }
}
