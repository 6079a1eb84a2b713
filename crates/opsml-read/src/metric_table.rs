//! Metric points read back, held in Arrow arrays. The columns read from the store move into
//! the arrays without a copy, and handing the table to pyarrow, pandas, polars or any Arrow
//! reader shares that memory: exporting ten million points costs no pass over them.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType, UInt32Type};
use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_buffer::ScalarBuffer;
use arrow_schema::ArrowError;
use opsml_api::metric_batch;
use opsml_types::{MetricColumns, MetricPoint};

/// Columns of [`MetricTable::batch`] (the same as a server's read-back stream).
pub use opsml_api::metric_schema;

/// Metric points in Arrow arrays, ordered as read back (by name, step, insertion), readable
/// point by point and as one record batch.
#[derive(Debug, Clone)]
pub struct MetricTable {
    names: Vec<String>,
    batch: RecordBatch,
    name_ids: ScalarBuffer<u32>,
    steps: Int64Array,
    values: ScalarBuffer<f64>,
    timestamps: Int64Array,
    created_at: ScalarBuffer<i64>,
}

impl MetricTable {
    /// Moves `columns` into Arrow arrays (no copy of the points); the arrays are those of
    /// the store's own batch (`opsml_api::metric_batch`), kept typed for point access.
    pub fn new(columns: MetricColumns) -> Result<Self, ArrowError> {
        let names = columns.names.clone();
        let batch = metric_batch(columns)?;
        let name_ids = batch
            .column(0)
            .as_dictionary::<UInt32Type>()
            .keys()
            .values()
            .clone();
        let steps = batch.column(1).as_primitive::<Int64Type>().clone();
        let values = batch
            .column(2)
            .as_primitive::<Float64Type>()
            .values()
            .clone();
        let timestamps = batch.column(3).as_primitive::<Int64Type>().clone();
        let created_at = batch
            .column(4)
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .clone();
        Ok(Self {
            names,
            batch,
            name_ids,
            steps,
            values,
            timestamps,
            created_at,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Distinct metric names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Index into [`names`](Self::names) of each point.
    pub fn name_ids(&self) -> &[u32] {
        &self.name_ids
    }

    /// Name of point `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[self.name_ids[index] as usize]
    }

    /// Step of point `index`, if it has one.
    pub fn step(&self, index: usize) -> Option<i64> {
        optional(&self.steps, index)
    }

    /// Value of each point.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Point `index` without its name.
    pub fn point(&self, index: usize) -> MetricPoint {
        MetricPoint {
            step: self.step(index),
            value: self.values[index],
            timestamp: optional(&self.timestamps, index),
            created_at: self.created_at[index],
        }
    }

    /// The points as one record batch of [`metric_schema`]: `name` dictionary-encoded (each
    /// name stored once), `created_at` as UTC microseconds. Shares this table's memory.
    pub fn batch(&self) -> RecordBatch {
        self.batch.clone()
    }
}

fn optional(array: &Int64Array, index: usize) -> Option<i64> {
    array.is_valid(index).then(|| array.value(index))
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};

    use super::*;

    #[test]
    fn tables_keep_every_value_and_gap() {
        let mut columns = MetricColumns {
            names: vec!["acc".into(), "loss".into()],
            ..MetricColumns::default()
        };
        let points = [
            (0, Some(3), f64::NAN, None, 10),
            (1, None, f64::INFINITY, Some(7), 11),
            (1, Some(-2), 0.5, None, 12),
        ];
        for (name_id, step, value, timestamp, created_at) in points {
            columns.push(
                name_id,
                MetricPoint {
                    step,
                    value,
                    timestamp,
                    created_at,
                },
            );
        }
        let table = MetricTable::new(columns.clone()).unwrap();
        assert_eq!(table.len(), 3);
        for i in 0..3 {
            let (got, expected) = (table.point(i), columns.point(i));
            assert_eq!(
                (got.step, got.timestamp, got.created_at),
                (expected.step, expected.timestamp, expected.created_at)
            );
            assert_eq!(got.value.to_bits(), expected.value.to_bits());
            assert_eq!(table.name(i), columns.name(i));
        }

        let batch = table.batch();
        assert_eq!(batch.schema(), metric_schema());
        let steps = batch.column(1).as_primitive::<Int64Type>();
        assert_eq!(
            (0..3)
                .map(|i| steps.is_valid(i).then(|| steps.value(i)))
                .collect::<Vec<_>>(),
            vec![Some(3), None, Some(-2)]
        );
        let values = batch.column(2).as_primitive::<Float64Type>();
        assert!(values.value(0).is_nan());
        assert_eq!((values.value(1), values.value(2)), (f64::INFINITY, 0.5));
        let timestamps = batch.column(3).as_primitive::<Int64Type>();
        assert_eq!(timestamps.null_count(), 2);
        assert_eq!(timestamps.value(1), 7);
        let names = batch.column(0).as_dictionary::<UInt32Type>();
        assert_eq!(names.keys().values().to_vec(), vec![0, 1, 1]);
    }

    #[test]
    fn columns_without_gaps_carry_no_validity() {
        let mut columns = MetricColumns {
            names: vec!["loss".into()],
            ..MetricColumns::default()
        };
        for step in 0..4 {
            columns.push(
                0,
                MetricPoint {
                    step: Some(step),
                    value: 1.0,
                    timestamp: None,
                    created_at: 0,
                },
            );
        }
        let batch = MetricTable::new(columns).unwrap().batch();
        assert!(batch.column(1).nulls().is_none(), "steps are all present");
        assert_eq!(batch.column(3).null_count(), 4, "no timestamps");
    }

    #[test]
    fn name_ids_outside_the_names_are_refused() {
        let mut columns = MetricColumns {
            names: vec!["only".into()],
            ..MetricColumns::default()
        };
        columns.push(
            3,
            MetricPoint {
                step: None,
                value: 0.0,
                timestamp: None,
                created_at: 0,
            },
        );
        assert!(MetricTable::new(columns).is_err());
    }
}
