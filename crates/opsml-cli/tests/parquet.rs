//! `export --format parquet`: every point comes back exactly through the Parquet
//! crate's own Arrow reader, with the documented column types.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::fs::{self, File};
use std::path::Path;

use arrow_array::types::UInt32Type;
use arrow_array::{
    Array, ArrayAccessor, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    RecordBatchReader, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use common::{fixture, piped, run, same, stored_points, Fixture, T0};
use opsml_experiment::{MetricPoint, Status};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, LogicalType};
use parquet::file::metadata::ParquetMetaData;

/// One row of an export: uid, metric name and the point.
type Row = (String, String, MetricPoint);

/// The schema, the file's Parquet metadata and every row of the file at `path`, read with
/// the Parquet crate's Arrow reader.
fn read_parquet(path: &Path) -> (SchemaRef, ParquetMetaData, Vec<Row>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let metadata = builder.metadata().as_ref().clone();
    let reader = builder.build().unwrap();
    let schema = reader.schema();
    let mut rows = Vec::new();
    for batch in reader {
        rows.extend(batch_rows(&batch.unwrap()));
    }
    (schema, metadata, rows)
}

fn dictionary_strings(batch: &RecordBatch, column: &str) -> Vec<String> {
    let array = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<DictionaryArray<UInt32Type>>()
        .unwrap_or_else(|| panic!("{column} is not a Dictionary<UInt32, _> array"));
    let strings = array.downcast_dict::<StringArray>().unwrap();
    assert_eq!(array.null_count(), 0, "{column}");
    (0..array.len())
        .map(|i| strings.value(i).to_owned())
        .collect()
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("{name} has an unexpected array type"))
}

fn optional(array: &Int64Array, i: usize) -> Option<i64> {
    array.is_valid(i).then(|| array.value(i))
}

fn batch_rows(batch: &RecordBatch) -> Vec<Row> {
    let uids = dictionary_strings(batch, "uid");
    let names = dictionary_strings(batch, "name");
    let steps = column::<Int64Array>(batch, "step");
    let values = column::<Float64Array>(batch, "value");
    let timestamps = column::<Int64Array>(batch, "timestamp");
    let created = column::<TimestampMicrosecondArray>(batch, "created_at");
    assert_eq!(values.null_count(), 0);
    assert_eq!(created.null_count(), 0);
    uids.into_iter()
        .zip(names)
        .enumerate()
        .map(|(i, (uid, name))| {
            let point = MetricPoint {
                step: optional(steps, i),
                value: values.value(i),
                timestamp: optional(timestamps, i),
                created_at: created.value(i),
            };
            (uid, name, point)
        })
        .collect()
}

/// What the store returns for `uids`, in order, as rows of an export.
fn expected_rows(fx: &Fixture, uids: &[&str]) -> Vec<Row> {
    uids.iter()
        .flat_map(|uid| {
            stored_points(fx, uid)
                .into_iter()
                .map(|(name, point)| ((*uid).to_owned(), name, point))
        })
        .collect()
}

/// The rows are the same, value by value (NaN equals NaN, -0.0 differs from 0.0).
fn assert_same_rows(actual: &[Row], expected: &[Row]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!((&a.0, &a.1), (&e.0, &e.1), "row {i}");
        assert_eq!(a.2.step, e.2.step, "row {i}: step");
        assert!(
            same(a.2.value, e.2.value),
            "row {i}: value {} != {}",
            a.2.value,
            e.2.value
        );
        assert_eq!(a.2.timestamp, e.2.timestamp, "row {i}: timestamp");
        assert_eq!(a.2.created_at, e.2.created_at, "row {i}: created_at");
    }
}

/// An experiment of 70,000 points (more than one record batch of the export): a metric
/// logged in descending step order with NaN, infinities and -0.0 among its values and
/// points without a step or timestamp, and a second metric.
fn large_experiment(fx: &Fixture) -> String {
    let experiment = fx.start("rl", "ppo");
    let mut points = Vec::new();
    for i in 0..70_000_i64 {
        let value = match i % 1000 {
            7 => f64::NAN,
            11 => f64::INFINITY,
            13 => -0.0,
            _ => (i as f64).sin() * 1e-3,
        };
        points.push((
            "loss",
            MetricPoint {
                step: (i % 997 != 0).then_some(70_000 - i),
                value,
                timestamp: (i % 3 != 0).then_some(1_700_000_000 + i),
                created_at: T0 + i * 1_000 + 123,
            },
        ));
    }
    for (step, value) in [(5, f64::NEG_INFINITY), (1, 2.5), (3, f64::NAN)] {
        points.push((
            "reward",
            MetricPoint {
                step: Some(step),
                value,
                timestamp: None,
                created_at: T0 - 1,
            },
        ));
    }
    experiment.log_points(points).unwrap();
    experiment.end(Status::Completed).unwrap();
    experiment.uid().to_owned()
}

fn export(fx: &Fixture, uids: &[&str], path: &Path) -> common::Output {
    let mut args = vec!["experiments", "export"];
    args.extend(uids);
    args.extend(["--format", "parquet", "-o", path.to_str().unwrap()]);
    run(fx, &args, piped())
}

#[test]
fn parquet_export_holds_every_point_of_every_experiment_exactly() {
    let fx = fixture();
    let large = large_experiment(&fx);
    let dir = fx.dir.path().join("out");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("points.parquet");
    let uids = [fx.first.as_str(), large.as_str(), fx.second.as_str()];
    let output = export(&fx, &uids, &path);
    assert_eq!(output.code, 0, "{output:?}");
    let expected = expected_rows(&fx, &uids);
    assert_eq!(expected.len(), 7 + 70_003 + 2);
    assert_eq!(
        output.out,
        format!(
            "wrote {} points of 3 experiments to {}\n",
            expected.len(),
            path.display()
        )
    );
    assert_eq!(output.err, "");

    let (schema, metadata, rows) = read_parquet(&path);
    assert_same_rows(&rows, &expected);
    // The fixture's NaN, both infinities and -0.0 are among them.
    assert!(rows.iter().any(|r| r.2.value.is_nan()));
    assert!(rows.iter().any(|r| r.2.value == f64::INFINITY));
    assert!(rows.iter().any(|r| r.2.value == f64::NEG_INFINITY));
    assert!(rows
        .iter()
        .any(|r| r.2.value == 0.0 && r.2.value.is_sign_negative()));
    assert!(rows.iter().any(|r| r.2.step.is_none()));
    assert!(rows.iter().any(|r| r.2.created_at < T0));

    // Schema: names, types and nullability.
    let dictionary = DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
    let fields: Vec<(&str, &DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
        .collect();
    assert_eq!(
        fields,
        [
            ("uid", &dictionary, false),
            ("name", &dictionary, false),
            ("step", &DataType::Int64, true),
            ("value", &DataType::Float64, false),
            ("timestamp", &DataType::Int64, true),
            (
                "created_at",
                &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false
            ),
        ]
    );
    // Readers that ignore the embedded Arrow schema still see UTC microseconds.
    let parquet_schema = metadata.file_metadata().schema_descr();
    assert_eq!(
        parquet_schema.column(5).logical_type_ref(),
        Some(&LogicalType::timestamp(
            true,
            parquet::basic::TimeUnit::MICROS
        ))
    );
    // Every column chunk is zstd-compressed.
    assert!(metadata.num_row_groups() >= 1);
    for group in metadata.row_groups() {
        for chunk in group.columns() {
            assert!(
                matches!(chunk.compression(), Compression::ZSTD(_)),
                "{}: {:?}",
                chunk.column_path(),
                chunk.compression()
            );
        }
    }
    // Only the finished file is left in the directory.
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn parquet_export_keeps_the_order_given_and_created_at_exactly() {
    let fx = fixture();
    let path = fx.dir.path().join("points.parquet");
    let output = export(&fx, &[&fx.second, &fx.first], &path);
    assert_eq!(output.code, 0, "{output:?}");
    let (_, _, rows) = read_parquet(&path);
    assert_same_rows(&rows, &expected_rows(&fx, &[&fx.second, &fx.first]));
    assert_eq!(rows[0].0, fx.second);
    assert_eq!(rows[2].0, fx.first);
    // The microseconds logged, as logged.
    let mut created: Vec<i64> = rows.iter().map(|r| r.2.created_at).collect();
    created.sort_unstable();
    let mut logged: Vec<i64> = fx.logged.iter().map(|(_, p)| p.created_at).collect();
    logged.extend([T0 + 100, T0 + 101]);
    logged.sort_unstable();
    assert_eq!(created, logged);
}

#[test]
fn parquet_export_of_experiments_without_points_has_the_schema_and_no_rows() {
    let fx = fixture();
    let empty = fx.start("vision", "empty");
    empty.end(Status::Completed).unwrap();
    let path = fx.dir.path().join("empty.parquet");
    let output = export(&fx, &[empty.uid()], &path);
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        output.out,
        format!("wrote 0 points of 1 experiment to {}\n", path.display())
    );
    let (schema, metadata, rows) = read_parquet(&path);
    assert!(rows.is_empty());
    assert_eq!(schema.fields().len(), 6);
    assert_eq!(metadata.file_metadata().num_rows(), 0);
}

#[test]
fn parquet_is_not_written_to_standard_output() {
    let fx = fixture();
    let output = run(
        &fx,
        &[
            "experiments",
            "export",
            &fx.first,
            "--format",
            "parquet",
            "-o",
            "-",
        ],
        piped(),
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert_eq!(output.out, "");
    assert_eq!(
        output.err,
        "opsml: parquet is a binary format and is not written to standard output; \
         give a file with -o PATH (or use --format csv or --format jsonl)\n"
    );
}

#[test]
fn a_failing_parquet_export_leaves_no_partial_file() {
    let fx = fixture();
    let dir = fx.dir.path().join("out");
    fs::create_dir(&dir).unwrap();
    // An unknown uid fails before anything is written.
    let path = dir.join("points.parquet");
    let output = export(&fx, &[&fx.first, "nope"], &path);
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.err.contains("\"nope\""), "{output:?}");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);

    // A store that fails on the second experiment, after the first was written: the
    // file already there stays as it was, and no temporary file is left behind.
    fs::write(&path, b"earlier export").unwrap();
    let db = rusqlite::Connection::open(&fx.db).unwrap();
    let corrupted = db
        .execute(
            "UPDATE metric_chunks SET data = x'00' WHERE experiment_uid = ?1",
            [&fx.second],
        )
        .unwrap();
    assert!(corrupted > 0);
    drop(db);
    let output = export(&fx, &[&fx.first, &fx.second], &path);
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.err.starts_with("opsml: "), "{output:?}");
    assert!(output.err.contains(&fx.second), "{output:?}");
    assert_eq!(output.out, "");
    assert_eq!(fs::read(&path).unwrap(), b"earlier export");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);

    // A directory that does not exist: nothing is created.
    let missing = dir.join("missing").join("points.parquet");
    let output = export(&fx, &[&fx.first], &missing);
    assert_eq!(output.code, 1, "{output:?}");
    assert!(!missing.parent().unwrap().exists());
}
