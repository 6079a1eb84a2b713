use serde::{Deserialize, Serialize};

use crate::OptionalInts;

/// One logged value of a metric, without its name (names are interned by the
/// writer and kept beside the points).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Training step, if the caller gave one.
    pub step: Option<i64>,
    /// The value; NaN and infinities are kept as they are.
    pub value: f64,
    /// Caller-defined integer timestamp, if given.
    pub timestamp: Option<i64>,
    /// When the point was logged, in microseconds since the Unix epoch (UTC).
    pub created_at: i64,
}

/// Metric points of one experiment in columns, ordered by (name, step, insertion).
///
/// Point `i` has name `names[name_ids[i]]`. Columnar so that a million points read
/// back cost a few allocations, not a million objects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricColumns {
    /// Distinct metric names, sorted.
    pub names: Vec<String>,
    /// Index into `names` for each point.
    pub name_ids: Vec<u32>,
    /// Step of each point.
    pub steps: OptionalInts,
    /// Value of each point.
    pub values: Vec<f64>,
    /// Caller timestamp of each point.
    pub timestamps: OptionalInts,
    /// Creation time of each point, microseconds since the Unix epoch.
    pub created_at: Vec<i64>,
}

impl MetricColumns {
    /// Empty columns with room for `points` points.
    pub fn with_capacity(points: usize) -> Self {
        Self {
            names: Vec::new(),
            name_ids: Vec::with_capacity(points),
            steps: OptionalInts::with_capacity(points),
            values: Vec::with_capacity(points),
            timestamps: OptionalInts::with_capacity(points),
            created_at: Vec::with_capacity(points),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Name of point `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[self.name_ids[index] as usize]
    }

    /// Point `index` without its name.
    pub fn point(&self, index: usize) -> MetricPoint {
        MetricPoint {
            step: self.steps.get(index),
            value: self.values[index],
            timestamp: self.timestamps.get(index),
            created_at: self.created_at[index],
        }
    }

    /// Each metric's name id and the range of its points, in order (points of one metric are
    /// contiguous when read back).
    pub fn metric_ranges(&self) -> impl Iterator<Item = (u32, std::ops::Range<usize>)> + '_ {
        let mut start = 0;
        std::iter::from_fn(move || {
            let name_id = *self.name_ids.get(start)?;
            let end = self.name_ids[start..]
                .iter()
                .position(|&id| id != name_id)
                .map_or(self.len(), |offset| start + offset);
            let range = start..end;
            start = end;
            Some((name_id, range))
        })
    }

    /// Appends one point of metric `name_id`.
    pub fn push(&mut self, name_id: u32, point: MetricPoint) {
        self.name_ids.push(name_id);
        self.steps.push(point.step);
        self.values.push(point.value);
        self.timestamps.push(point.timestamp);
        self.created_at.push(point.created_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_ranges_cover_each_metric_once_in_order() {
        let mut columns = MetricColumns::default();
        for name_id in [0, 0, 1, 2, 2, 2] {
            columns.push(
                name_id,
                MetricPoint {
                    step: None,
                    value: 0.0,
                    timestamp: None,
                    created_at: 0,
                },
            );
        }
        let ranges: Vec<_> = columns.metric_ranges().collect();
        assert_eq!(ranges, vec![(0, 0..2), (1, 2..3), (2, 3..6)]);
        assert_eq!(MetricColumns::default().metric_ranges().count(), 0);
    }
}
