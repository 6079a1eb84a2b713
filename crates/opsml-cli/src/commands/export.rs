//! `opsml experiments export`: the points of several experiments in one file.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::types::UInt32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use opsml_registry::Store;
use opsml_types::{MetricColumns, OptionalInts};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::args::{ExportArgs, ExportFormat};
use crate::context::{load_card, Context};
use crate::error::{CliError, Result};
use crate::output::{io_error, temp_beside};
use crate::points::{csv_writer, text_row, write_json_object, COLUMNS};

/// Most points in one Arrow record batch of a Parquet export: an experiment's points are
/// converted a slice at a time, never all experiments (nor a whole large one) at once.
const PARQUET_BATCH_ROWS: usize = 64 * 1024;

pub(super) fn run(context: &mut Context<'_, '_>, args: &ExportArgs) -> Result<()> {
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && args.format == ExportFormat::Parquet {
        return Err(CliError::Usage(
            "parquet is a binary format and is not written to standard output; \
             give a file with -o PATH (or use --format csv or --format jsonl)"
                .to_owned(),
        ));
    }
    let store = context.store()?;
    // Every uid is checked before anything is written.
    for uid in &args.uids {
        load_card(store.as_ref(), uid)?;
    }
    if to_stdout {
        if args.format == ExportFormat::Csv {
            context.data_verbatim();
        }
        write_points(store.as_ref(), args, context.out)?;
        return Ok(());
    }
    let points = write_file(store.as_ref(), args, &args.output)?;
    writeln!(
        context.out,
        "wrote {points} point{} of {} experiment{} to {}",
        if points == 1 { "" } else { "s" },
        args.uids.len(),
        if args.uids.len() == 1 { "" } else { "s" },
        args.output.display()
    )?;
    Ok(())
}

/// Writes into a temporary file beside `path`, renamed to `path` once complete:
/// a failed export leaves no partial file.
fn write_file(store: &dyn Store, args: &ExportArgs, path: &Path) -> Result<usize> {
    let io_error = io_error(path);
    let mut temp = temp_beside(path, "export")?;
    let points = if args.format == ExportFormat::Parquet {
        write_parquet(store, &args.uids, temp.as_file_mut()).map_err(|e| match e {
            CliError::Output(source) => io_error(source),
            other => other,
        })?
    } else {
        let mut writer = BufWriter::with_capacity(1 << 20, temp.as_file_mut());
        let points = write_points(store, args, &mut writer).map_err(|e| match e {
            CliError::Output(source) => io_error(source),
            other => other,
        })?;
        writer.flush().map_err(&io_error)?;
        points
    };
    temp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(points)
}

/// Writes a header (CSV) and every point of every experiment, one experiment at a
/// time; returns the number of points.
fn write_points(store: &dyn Store, args: &ExportArgs, out: &mut dyn Write) -> Result<usize> {
    if args.format == ExportFormat::Csv {
        return write_csv(store, &args.uids, out);
    }
    let mut points = 0;
    for uid in &args.uids {
        let columns = store.read_metrics(uid, None)?;
        for i in 0..columns.len() {
            write_json_object(out, Some(uid), &columns, i)?;
            out.write_all(b"\n")?;
        }
        points += columns.len();
    }
    Ok(points)
}

/// The points as CSV rows of text, each after its experiment's uid. Not arrow-csv over the
/// Parquet export's record batches: `export` and `metrics` write their points through one
/// row format (`text_row`), so that the two read alike.
fn write_csv(store: &dyn Store, uids: &[String], out: &mut dyn Write) -> Result<usize> {
    let mut csv = csv_writer(out);
    csv.write_record(std::iter::once("uid").chain(COLUMNS))?;
    let mut points = 0;
    for uid in uids {
        let columns = store.read_metrics(uid, None)?;
        for i in 0..columns.len() {
            let row = text_row(&columns, i);
            csv.write_record(std::iter::once(uid.as_str()).chain(row.iter().map(String::as_str)))?;
        }
        points += columns.len();
    }
    csv.flush()?;
    Ok(points)
}

/// The columns of a Parquet export: `uid` and `name` dictionary-encoded, `step` and
/// `timestamp` nullable, `value` as stored (NaN and infinities included), `created_at`
/// UTC microseconds.
fn parquet_schema() -> SchemaRef {
    let dictionary = DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
    let uid = Arc::new(Field::new("uid", dictionary, false));
    let points = opsml_api::metric_schema();
    Arc::new(Schema::new(
        std::iter::once(uid)
            .chain(points.fields().iter().cloned())
            .collect::<Vec<_>>(),
    ))
}

/// Writes every point of every experiment as a zstd-compressed Parquet file, one
/// experiment at a time and at most [`PARQUET_BATCH_ROWS`] points per record batch;
/// returns the number of points. Write failures come back as [`CliError::Output`].
fn write_parquet(store: &dyn Store, uids: &[String], out: impl Write + Send) -> Result<usize> {
    let schema = parquet_schema();
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer =
        ArrowWriter::try_new(out, Arc::clone(&schema), Some(properties)).map_err(parquet_error)?;
    let mut points = 0;
    for uid in uids {
        let columns = store.read_metrics(uid, None)?;
        let uid_values: ArrayRef = Arc::new(StringArray::from_iter_values([uid]));
        let name_values: ArrayRef = Arc::new(StringArray::from_iter_values(&columns.names));
        let mut start = 0;
        while start < columns.len() {
            let end = columns.len().min(start + PARQUET_BATCH_ROWS);
            let batch = record_batch(&schema, &uid_values, &name_values, &columns, start..end)
                .map_err(|e| CliError::Output(io::Error::other(e)))?;
            writer.write(&batch).map_err(parquet_error)?;
            start = end;
        }
        points += columns.len();
    }
    let mut out = writer.into_inner().map_err(parquet_error)?;
    out.flush()?;
    Ok(points)
}

/// Points `range` of one experiment as a record batch of [`parquet_schema`]; `uid_values`
/// holds its uid and `name_values` its metric names (the dictionaries of both columns).
fn record_batch(
    schema: &SchemaRef,
    uid_values: &ArrayRef,
    name_values: &ArrayRef,
    columns: &MetricColumns,
    range: std::ops::Range<usize>,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let uid = DictionaryArray::<UInt32Type>::try_new(
        UInt32Array::from(vec![0; range.len()]),
        Arc::clone(uid_values),
    )?;
    let name = DictionaryArray::<UInt32Type>::try_new(
        UInt32Array::from(columns.name_ids[range.clone()].to_vec()),
        Arc::clone(name_values),
    )?;
    let created_at = TimestampMicrosecondArray::from(columns.created_at[range.clone()].to_vec())
        .with_timezone("UTC");
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(uid),
        Arc::new(name),
        Arc::new(optional_ints(&columns.steps, range.clone())),
        Arc::new(Float64Array::from(columns.values[range.clone()].to_vec())),
        Arc::new(optional_ints(&columns.timestamps, range)),
        Arc::new(created_at),
    ];
    RecordBatch::try_new(Arc::clone(schema), arrays)
}

fn optional_ints(column: &OptionalInts, range: std::ops::Range<usize>) -> Int64Array {
    range.map(|i| column.get(i)).collect()
}

/// A Parquet failure as a write failure: the I/O error itself where there is one.
fn parquet_error(error: ParquetError) -> CliError {
    CliError::Output(match error {
        ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(other) => io::Error::other(other),
        },
        other => io::Error::other(other),
    })
}
