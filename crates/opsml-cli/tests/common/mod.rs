#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
#![allow(dead_code)]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use opsml_cli::Console;
use opsml_experiment::{Experiment, MetricPoint, Parameter, ParameterValue, StartOptions, Status};
use opsml_registry::{
    master_key, open_store, Artifacts, KeyUse, LocalStorage, Store, TrackingUri, WriteBatch,
};
use opsml_types::{GpuSample, HardwareSample, ProcessSample};

/// 2023-11-14T22:13:20Z in microseconds: points are logged with known creation times.
pub(crate) const T0: i64 = 1_700_000_000_000_000;

/// A store in a temporary directory (`opsml.db`, artifacts in `opsml_registries`, the
/// defaults when that directory is the working directory) holding three experiments:
/// `first` (vision/resnet, completed, with metrics, parameters and two artifacts),
/// its child (vision/fold-1) and `second` (nlp/bert, failed).
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub storage: PathBuf,
    pub store: Arc<dyn Store>,
    pub first: String,
    pub child: String,
    pub second: String,
    /// Bytes of the artifact `model/weights.bin` of `first`.
    pub weights: Vec<u8>,
    /// Metric points of `first`, as logged (name, point).
    pub logged: Vec<(String, MetricPoint)>,
}

/// Deterministic bytes that do not compress.
pub(crate) fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn point(step: Option<i64>, value: f64, timestamp: Option<i64>, offset: i64) -> MetricPoint {
    MetricPoint {
        step,
        value,
        timestamp,
        created_at: T0 + offset,
    }
}

fn options(space: &str, name: &str, tags: &[&str]) -> StartOptions {
    StartOptions {
        space: Some(space.into()),
        name: Some(name.into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..StartOptions::default()
    }
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("opsml.db");
    let storage = dir.path().join("opsml_registries");
    let store = open_store(&TrackingUri::Sqlite(db.clone())).unwrap();
    let artifacts = Artifacts::new(
        Arc::clone(&store),
        Arc::new(LocalStorage::new(storage.clone())),
        master_key(store.as_ref(), KeyUse::Write).unwrap(),
    );

    let first = Experiment::start_with(
        artifacts.clone(),
        options("vision", "resnet", &["baseline", "gpu"]),
    )
    .unwrap();
    // Out of order, a repeated step, NaN, infinities, a point without step or timestamp.
    let logged: Vec<(String, MetricPoint)> = vec![
        ("loss".into(), point(Some(2), 0.5, Some(20), 0)),
        ("loss".into(), point(Some(0), 0.75, Some(0), 1)),
        ("loss".into(), point(Some(1), f64::NAN, Some(10), 2)),
        ("loss".into(), point(Some(1), 0.1, Some(11), 3)),
        ("accuracy".into(), point(Some(0), f64::INFINITY, None, 4)),
        ("accuracy".into(), point(None, 1e-300, None, 5)),
        // -inf in a metric of its own: the store's summaries cannot yet hold the NaN sum
        // of +inf and -inf in one metric.
        ("reward".into(), point(Some(3), f64::NEG_INFINITY, None, 6)),
    ];
    for (name, p) in &logged {
        first.log_point(name, *p).unwrap();
    }
    first
        .log_parameters(vec![
            param("lr", ParameterValue::Float(1e-3)),
            param("epochs", ParameterValue::Int(10)),
            param("optimizer", ParameterValue::Str("adam, \"fused\"".into())),
            param("nesterov", ParameterValue::Bool(true)),
            param("clip", ParameterValue::Float(f64::NAN)),
        ])
        .unwrap();
    let weights = noise(300_000);
    first.log_bytes("model/weights.bin", &weights).unwrap();
    first.log_bytes("notes.txt", b"first run\n").unwrap();

    let child = first.start_child(options("vision", "fold-1", &[])).unwrap();
    child.log_metric("loss", 2.0, Some(0)).unwrap();
    child.end(Status::Completed).unwrap();
    first.end(Status::Completed).unwrap();

    let second = Experiment::start_with(artifacts, options("nlp", "bert", &["baseline"])).unwrap();
    second
        .log_point("loss", point(Some(0), 3.5, None, 100))
        .unwrap();
    second
        .log_point("loss", point(Some(1), 2.5, None, 101))
        .unwrap();
    second.end(Status::Failed).unwrap();

    Fixture {
        first: first.uid().to_owned(),
        child: child.uid().to_owned(),
        second: second.uid().to_owned(),
        dir,
        db,
        storage,
        store,
        weights,
        logged,
    }
}

impl Fixture {
    /// Starts another experiment in the fixture's store (and storage).
    pub(crate) fn start(&self, space: &str, name: &str) -> Experiment {
        let artifacts = Artifacts::new(
            Arc::clone(&self.store),
            Arc::new(LocalStorage::new(self.storage.clone())),
            master_key(self.store.as_ref(), KeyUse::Write).unwrap(),
        );
        Experiment::start_with(artifacts, options(space, name, &[])).unwrap()
    }

    /// Stores `count` hardware samples (one second apart, with one GPU) for experiment `uid`.
    pub(crate) fn add_hardware(&self, uid: &str, count: usize) {
        let samples: Vec<HardwareSample> = (0..count)
            .map(|i| HardwareSample {
                timestamp: T0 + i as i64 * 1_000_000,
                cpu_percent: Some(10.0 + i as f32),
                process: Some(ProcessSample {
                    cpu_percent: 50.0,
                    rss_bytes: 100 << 20,
                    threads: 4,
                    processes: 1,
                }),
                gpus: vec![GpuSample {
                    index: 0,
                    name: "Test GPU".into(),
                    utilization_percent: Some(90),
                    ..GpuSample::default()
                }],
                ..HardwareSample::default()
            })
            .collect();
        let mut writer = self.store.open_writer(uid).unwrap();
        writer
            .write(&WriteBatch {
                names: &[],
                points: &[],
                parameters: &[],
                hardware: &samples,
            })
            .unwrap();
    }
}

pub(crate) fn param(name: &str, value: ParameterValue) -> Parameter {
    Parameter {
        name: name.into(),
        value,
    }
}

/// What one run of the command line produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// Runs `opsml --tracking-uri <db> --storage-uri <storage> ARGS` in process.
pub(crate) fn run(fx: &Fixture, args: &[&str], console: Console<'_>) -> Output {
    let mut full = vec![
        "opsml".to_owned(),
        "--tracking-uri".to_owned(),
        format!("sqlite://{}", fx.db.display()),
        "--storage-uri".to_owned(),
        fx.storage.display().to_string(),
    ];
    full.extend(args.iter().map(|a| (*a).to_owned()));
    run_raw(full, console)
}

/// Runs the command line on exactly `args` in process.
pub(crate) fn run_raw(args: Vec<String>, console: Console<'_>) -> Output {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = opsml_cli::run_with(args, &mut out, &mut err, console);
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// Piped output, no questions.
pub(crate) fn piped() -> Console<'static> {
    Console::plain()
}

/// Standard output on a terminal; standard error and input not.
pub(crate) fn terminal() -> Console<'static> {
    Console {
        stdout_is_terminal: true,
        stderr_is_terminal: false,
        input: None,
    }
}

/// A terminal that answers `answer` to a question.
pub(crate) fn answering(answer: &str) -> Console<'static> {
    Console {
        stdout_is_terminal: true,
        stderr_is_terminal: false,
        input: Some(Box::new(Cursor::new(answer.as_bytes().to_vec()))),
    }
}

/// Lines of tab-separated output, split into fields.
pub(crate) fn tsv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Records of RFC 4180 CSV text (quoted fields may hold commas, quotes and line breaks).
pub(crate) fn csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (_, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "CSV must end with a line break"
    );
    records
}

/// The metric points of `uid` as the store returns them (name, point), in its order.
pub(crate) fn stored_points(fx: &Fixture, uid: &str) -> Vec<(String, MetricPoint)> {
    let columns = fx.store.read_metrics(uid, None).unwrap();
    (0..columns.len())
        .map(|i| (columns.name(i).to_owned(), columns.point(i)))
        .collect()
}

/// Parses a value written by the command line (`nan`, `inf`, `-inf` included).
pub(crate) fn value(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a float: {text:?}"))
}

/// Microseconds of an ISO-8601 time written by the command line.
pub(crate) fn micros(text: &str) -> i64 {
    assert!(text.ends_with('Z'), "{text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .timestamp_micros()
}

/// Two floats are the same value (NaN equals NaN).
pub(crate) fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}
