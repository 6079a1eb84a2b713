//! Metric points as Arrow: the schema every reader of opsml sees (pyarrow, pandas, polars, a
//! Parquet export), and the Arrow IPC stream a server answers read-backs with, so a million
//! points cross the network as a few column buffers rather than a million JSON numbers.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType, UInt32Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt32Array,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use opsml_types::{MetricColumns, OptionalInts};

/// Media type of an Arrow IPC stream.
pub const ARROW_STREAM_MEDIA_TYPE: &str = "application/vnd.apache.arrow.stream";

/// The columns of metric points: name (dictionary of the distinct names), step, value,
/// timestamp and created_at (microseconds, UTC).
pub fn metric_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "name",
            DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("step", DataType::Int64, true),
        Field::new("value", DataType::Float64, false),
        Field::new("timestamp", DataType::Int64, true),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

fn int64_array(column: OptionalInts) -> Int64Array {
    let (values, present) = column.into_parts();
    Int64Array::new(ScalarBuffer::from(values), present.map(NullBuffer::from))
}

/// The points as one record batch of [`metric_schema`]; the columns move, nothing is copied.
pub fn metric_batch(columns: MetricColumns) -> Result<RecordBatch, ArrowError> {
    let name = DictionaryArray::<UInt32Type>::try_new(
        UInt32Array::from(columns.name_ids),
        Arc::new(StringArray::from_iter_values(&columns.names)),
    )?;
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(name),
        Arc::new(int64_array(columns.steps)),
        Arc::new(Float64Array::from(columns.values)),
        Arc::new(int64_array(columns.timestamps)),
        Arc::new(TimestampMicrosecondArray::from(columns.created_at).with_timezone("UTC")),
    ];
    RecordBatch::try_new(metric_schema(), arrays)
}

/// The points as an Arrow IPC stream of one batch.
pub fn encode_ipc(columns: MetricColumns) -> Result<Vec<u8>, ArrowError> {
    let batch = metric_batch(columns)?;
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 1024);
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())?;
    writer.write(&batch)?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

/// Appends the slots of a nullable Int64 array.
fn append_ints(column: &mut OptionalInts, array: &Int64Array) {
    let values = array.values().iter().copied();
    match array.nulls() {
        Some(nulls) => column.extend(values, nulls.iter()),
        None => column.extend(values, std::iter::repeat_n(true, array.len())),
    }
}

/// The points of an Arrow IPC stream of [`metric_schema`] batches; the error says what is
/// not as expected.
pub fn decode_ipc(bytes: &[u8]) -> Result<MetricColumns, String> {
    let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None)
        .map_err(|e| format!("not an Arrow IPC stream: {e}"))?;
    if reader.schema() != metric_schema() {
        return Err(format!("unexpected columns: {:?}", reader.schema()));
    }
    let mut columns = MetricColumns::default();
    for batch in reader {
        let batch = batch.map_err(|e| format!("reading a batch: {e}"))?;
        let names = batch.column(0).as_dictionary::<UInt32Type>();
        let dictionary = names.values().as_string::<i32>();
        // Batches may carry their own dictionaries: ids are rebased onto one list of names.
        let base = columns.names.len() as u32;
        columns
            .names
            .extend(dictionary.iter().map(|n| n.unwrap_or_default().to_owned()));
        columns
            .name_ids
            .extend(names.keys().values().iter().map(|id| base + id));
        append_ints(
            &mut columns.steps,
            batch.column(1).as_primitive::<Int64Type>(),
        );
        columns
            .values
            .extend_from_slice(batch.column(2).as_primitive::<Float64Type>().values());
        append_ints(
            &mut columns.timestamps,
            batch.column(3).as_primitive::<Int64Type>(),
        );
        columns.created_at.extend_from_slice(
            batch
                .column(4)
                .as_primitive::<TimestampMicrosecondType>()
                .values(),
        );
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use opsml_types::MetricPoint;

    use super::*;

    #[test]
    fn points_survive_the_stream_bit_for_bit() {
        let mut columns = MetricColumns {
            names: vec!["acc".into(), "loss, top-1".into()],
            ..MetricColumns::default()
        };
        for (name_id, step, value, timestamp) in [
            (0, Some(0), f64::NAN, None),
            (0, None, f64::INFINITY, Some(7)),
            (1, Some(2), -0.0, None),
            (1, Some(3), 6.972_284_278_342_099e-59, Some(-1)),
        ] {
            columns.push(
                name_id,
                MetricPoint {
                    step,
                    value,
                    timestamp,
                    created_at: 1_700_000_000_000_000 + i64::from(name_id),
                },
            );
        }
        let bytes = encode_ipc(columns.clone()).unwrap();
        let back = decode_ipc(&bytes).unwrap();
        assert_eq!(back.names, columns.names);
        assert_eq!(back.name_ids, columns.name_ids);
        for i in 0..columns.len() {
            let (a, b) = (back.point(i), columns.point(i));
            assert_eq!(
                (a.step, a.timestamp, a.created_at),
                (b.step, b.timestamp, b.created_at)
            );
            assert_eq!(a.value.to_bits(), b.value.to_bits());
        }
        assert!(decode_ipc(&MetricColumns::default().names.len().to_le_bytes()).is_err());
        let empty = decode_ipc(&encode_ipc(MetricColumns::default()).unwrap()).unwrap();
        assert!(empty.is_empty());
    }
}
