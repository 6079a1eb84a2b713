//! Per-metric summaries, kept up to date by the writer as points arrive so that listing,
//! searching and comparing experiments never reads their points.

use serde::{Deserialize, Serialize};

use crate::MetricPoint;

/// Count, extremes, mean, first and last value of one metric of an experiment.
///
/// `first` and `last` follow the read-back order: by step, points without a step before all
/// others, ties in the order they were logged (by one writer). NaN values are counted in `count` but left out
/// of `min`, `max` and `mean` (which are `None` while every value is NaN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSummary {
    pub name: String,
    /// Points logged.
    pub count: u64,
    /// Points whose value is not NaN.
    pub value_count: u64,
    /// Sum of the values that are not NaN.
    #[serde(with = "crate::json_float")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::json_float::JsonFloat))]
    pub sum: f64,
    #[serde(with = "crate::json_float::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::json_float::JsonFloat>))]
    pub min: Option<f64>,
    #[serde(with = "crate::json_float::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::json_float::JsonFloat>))]
    pub max: Option<f64>,
    #[serde(with = "crate::json_float")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::json_float::JsonFloat))]
    pub first: f64,
    /// Step of the first point.
    pub first_step: Option<i64>,
    #[serde(with = "crate::json_float")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::json_float::JsonFloat))]
    pub last: f64,
    /// Step of the last point.
    pub last_step: Option<i64>,
}

/// Read-back order of a step: points without one come first.
fn order_key(step: Option<i64>) -> (bool, i64) {
    (step.is_some(), step.unwrap_or(0))
}

fn min_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl MetricSummary {
    /// The summary of a single point.
    pub fn of_point(name: &str, point: &MetricPoint) -> Self {
        let value = (!point.value.is_nan()).then_some(point.value);
        Self {
            name: name.to_owned(),
            count: 1,
            value_count: u64::from(value.is_some()),
            sum: value.unwrap_or(0.0),
            min: value,
            max: value,
            first: point.value,
            first_step: point.step,
            last: point.value,
            last_step: point.step,
        }
    }

    /// Adds one point logged after everything already summarised (without allocating: the
    /// writer calls this for every point it stores).
    pub fn add(&mut self, point: &MetricPoint) {
        self.count += 1;
        if !point.value.is_nan() {
            self.value_count += 1;
            self.sum += point.value;
            self.min = min_of(self.min, Some(point.value));
            self.max = max_of(self.max, Some(point.value));
        }
        self.take_first_and_last(point.value, point.step, point.value, point.step);
    }

    /// Takes `first`/`last` from a later run of points when they come before/after (ties keep
    /// the earlier point as first and take the later one as last).
    fn take_first_and_last(
        &mut self,
        first: f64,
        first_step: Option<i64>,
        last: f64,
        last_step: Option<i64>,
    ) {
        if order_key(first_step) < order_key(self.first_step) {
            self.first = first;
            self.first_step = first_step;
        }
        if order_key(last_step) >= order_key(self.last_step) {
            self.last = last;
            self.last_step = last_step;
        }
    }

    /// Adds the summary of points logged after everything already summarised.
    pub fn merge(&mut self, later: &MetricSummary) {
        self.count += later.count;
        self.value_count += later.value_count;
        self.sum += later.sum;
        self.min = min_of(self.min, later.min);
        self.max = max_of(self.max, later.max);
        self.take_first_and_last(later.first, later.first_step, later.last, later.last_step);
    }

    /// Mean of the values that are not NaN.
    pub fn mean(&self) -> Option<f64> {
        (self.value_count > 0).then(|| self.sum / self.value_count as f64)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn point(step: Option<i64>, value: f64) -> MetricPoint {
        MetricPoint {
            step,
            value,
            timestamp: None,
            created_at: 0,
        }
    }

    fn summarise(points: &[MetricPoint]) -> MetricSummary {
        let mut summary = MetricSummary::of_point("m", &points[0]);
        for p in &points[1..] {
            summary.add(p);
        }
        summary
    }

    #[test]
    fn first_and_last_follow_read_back_order_not_logging_order() {
        let s = summarise(&[
            point(Some(5), 1.0),
            point(Some(2), 2.0),
            point(None, 3.0),
            point(Some(9), 4.0),
            point(Some(9), 5.0),
            point(Some(7), 6.0),
        ]);
        assert_eq!((s.first, s.first_step), (3.0, None));
        assert_eq!((s.last, s.last_step), (5.0, Some(9)));
        assert_eq!((s.count, s.min, s.max), (6, Some(1.0), Some(6.0)));
        assert_eq!(s.mean(), Some(3.5));
    }

    #[test]
    fn nan_is_counted_but_left_out_of_extremes_and_mean() {
        let s = summarise(&[point(Some(0), f64::NAN), point(Some(1), 2.0)]);
        assert_eq!((s.count, s.value_count), (2, 1));
        assert_eq!((s.min, s.max, s.mean()), (Some(2.0), Some(2.0), Some(2.0)));
        assert!(s.first.is_nan());
        let all_nan = summarise(&[point(Some(0), f64::NAN)]);
        assert_eq!(
            (all_nan.min, all_nan.max, all_nan.mean()),
            (None, None, None)
        );
        let inf = summarise(&[point(None, f64::INFINITY), point(None, -1.0)]);
        assert_eq!((inf.min, inf.max), (Some(-1.0), Some(f64::INFINITY)));
    }

    proptest! {
        #[test]
        fn merging_batches_equals_adding_points_one_by_one(
            points in proptest::collection::vec(
                (proptest::option::of(-5i64..5), -1e6f64..1e6), 1..60),
            split in 1usize..60,
        ) {
            let points: Vec<_> = points.into_iter().map(|(s, v)| point(s, v)).collect();
            let split = split.min(points.len() - 1).max(1).min(points.len());
            let whole = summarise(&points);
            let mut merged = summarise(&points[..split.min(points.len())]);
            if split < points.len() {
                merged.merge(&summarise(&points[split..]));
            }
            prop_assert_eq!(whole.count, merged.count);
            prop_assert_eq!(whole.min, merged.min);
            prop_assert_eq!(whole.max, merged.max);
            prop_assert_eq!((whole.first, whole.first_step), (merged.first, merged.first_step));
            prop_assert_eq!((whole.last, whole.last_step), (merged.last, merged.last_step));
            prop_assert!((whole.sum - merged.sum).abs() <= 1e-6 * whole.sum.abs().max(1.0));

            // First and last are what a stable sort by step gives.
            let mut sorted = points.clone();
            sorted.sort_by_key(|p| order_key(p.step));
            prop_assert_eq!(whole.first, sorted[0].value);
            prop_assert_eq!(whole.last, sorted[sorted.len() - 1].value);
        }
    }
}
