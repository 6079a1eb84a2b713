//! Selecting the points to read back: a step range, and at most N points per metric chosen
//! with LTTB, so that a chart or a quick look at a long run stays small.

use opsml_types::MetricColumns;

/// Which points of each metric to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointSelection {
    /// Only points with `start <= step < stop` (points without a step are left out).
    pub steps: Option<(i64, i64)>,
    /// At most this many points per metric (at least 2), chosen with LTTB; the first and
    /// last point of each metric are always kept.
    pub max_points: Option<usize>,
}

impl PointSelection {
    fn is_everything(&self) -> bool {
        self.steps.is_none() && self.max_points.is_none()
    }
}

/// The points of `columns` that `selection` keeps, in the same order.
pub fn select_points(columns: MetricColumns, selection: &PointSelection) -> MetricColumns {
    if selection.is_everything() {
        return columns;
    }
    let mut kept = MetricColumns {
        names: columns.names.clone(),
        ..MetricColumns::default()
    };
    for (name_id, points) in columns.metric_ranges() {
        let in_range = in_step_range(&columns, points, selection.steps);
        let chosen = match selection.max_points {
            Some(max) if in_range.len() > max => downsample(&columns, &in_range, max),
            _ => in_range,
        };
        for i in chosen {
            kept.push(name_id, columns.point(i));
        }
    }
    // Names left without points are dropped, as a read of those points alone would.
    compact_names(kept)
}

/// The points of `points` (indices into `columns`) whose step is in `steps` (all of them
/// without a range; a point without a step is outside every range).
pub(crate) fn in_step_range(
    columns: &MetricColumns,
    points: std::ops::Range<usize>,
    steps: Option<(i64, i64)>,
) -> Vec<usize> {
    points
        .filter(|&i| match (steps, columns.steps.get(i)) {
            (None, _) => true,
            (Some((lo, hi)), Some(step)) => lo <= step && step < hi,
            (Some(_), None) => false,
        })
        .collect()
}

/// `max` (at least 2) of the points `in_range` (indices into `columns`, of one metric),
/// chosen with LTTB: the first and last are kept.
pub(crate) fn downsample(columns: &MetricColumns, in_range: &[usize], max: usize) -> Vec<usize> {
    // Steps as x; a point without one takes its position instead.
    let xs: Vec<f64> = in_range
        .iter()
        .enumerate()
        .map(|(position, &i)| columns.steps.get(i).map_or(position as f64, |s| s as f64))
        .collect();
    let ys: Vec<f64> = in_range.iter().map(|&i| columns.values[i]).collect();
    opsml_plot::lttb(&xs, &ys, max.max(2))
        .into_iter()
        .map(|k| in_range[k])
        .collect()
}

#[allow(clippy::expect_used, reason = "fewer names than u32::MAX")]
fn compact_names(columns: MetricColumns) -> MetricColumns {
    let mut used = vec![false; columns.names.len()];
    for &id in &columns.name_ids {
        used[id as usize] = true;
    }
    if used.iter().all(|&u| u) {
        return columns;
    }
    let mut new_ids = vec![0u32; columns.names.len()];
    let mut names = Vec::new();
    for (old, name) in columns.names.into_iter().enumerate() {
        if used[old] {
            new_ids[old] = u32::try_from(names.len()).expect("fewer names than u32::MAX");
            names.push(name);
        }
    }
    MetricColumns {
        names,
        name_ids: columns
            .name_ids
            .iter()
            .map(|&id| new_ids[id as usize])
            .collect(),
        ..columns
    }
}

#[cfg(test)]
mod tests {
    use opsml_types::MetricPoint;

    use super::*;

    /// Points of one metric: (step, value).
    type Points = Vec<(Option<i64>, f64)>;

    fn columns(series: &[(&str, Points)]) -> MetricColumns {
        let mut columns = MetricColumns {
            names: series.iter().map(|(n, _)| (*n).to_owned()).collect(),
            ..MetricColumns::default()
        };
        for (id, (_, points)) in series.iter().enumerate() {
            for &(step, value) in points {
                let point = MetricPoint {
                    step,
                    value,
                    timestamp: None,
                    created_at: 0,
                };
                columns.push(u32::try_from(id).unwrap(), point);
            }
        }
        columns
    }

    #[test]
    fn step_ranges_are_half_open_and_leave_out_points_without_steps() {
        let all = columns(&[(
            "a",
            vec![
                (None, 9.0),
                (Some(0), 0.0),
                (Some(5), 5.0),
                (Some(10), 10.0),
            ],
        )]);
        let kept = select_points(
            all,
            &PointSelection {
                steps: Some((0, 10)),
                max_points: None,
            },
        );
        assert_eq!(
            kept.steps.iter().collect::<Vec<_>>(),
            vec![Some(0), Some(5)]
        );
    }

    #[test]
    fn downsampling_keeps_endpoints_and_extremes_per_metric() {
        let long: Vec<(Option<i64>, f64)> = (0..10_000)
            .map(|i| (Some(i), if i == 4321 { 100.0 } else { (i % 7) as f64 }))
            .collect();
        let all = columns(&[
            ("long", long),
            ("short", vec![(Some(0), 1.0), (Some(1), 2.0)]),
        ]);
        let kept = select_points(
            all,
            &PointSelection {
                steps: None,
                max_points: Some(50),
            },
        );
        let long_steps: Vec<i64> = (0..kept.len())
            .filter(|&i| kept.name(i) == "long")
            .map(|i| kept.steps.get(i).unwrap())
            .collect();
        assert_eq!(long_steps.len(), 50);
        assert_eq!((long_steps[0], long_steps[49]), (0, 9_999));
        assert!(long_steps.contains(&4321), "the spike survives");
        assert!(long_steps.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            (0..kept.len()).filter(|&i| kept.name(i) == "short").count(),
            2
        );
    }

    #[test]
    fn metrics_left_without_points_are_dropped() {
        let all = columns(&[
            ("early", vec![(Some(1), 1.0)]),
            ("late", vec![(Some(100), 2.0)]),
        ]);
        let kept = select_points(
            all,
            &PointSelection {
                steps: Some((50, 200)),
                max_points: None,
            },
        );
        assert_eq!(kept.names, vec!["late".to_owned()]);
        assert_eq!(kept.name(0), "late");
    }
}
