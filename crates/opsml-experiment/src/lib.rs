//! Experiment tracking for machine learning, from Rust.
//!
//! Start an experiment, log parameters and metrics from a training loop, end
//! it; everything lands in the store named by `OPSML_TRACKING_URI` (an
//! embedded SQLite file by default). Logging calls only validate and queue:
//! a background writer on one process-wide runtime batches points into
//! transactions, and [`Experiment::flush`] / [`Experiment::end`] wait until
//! they are stored.
//!
//! ```no_run
//! use opsml_experiment::{Experiment, StartOptions, ParameterValue, Status};
//!
//! let exp = Experiment::start(StartOptions {
//!     space: Some("vision".into()),
//!     name: Some("resnet-sweep".into()),
//!     ..StartOptions::default()
//! })?;
//! exp.log_parameter("lr", ParameterValue::Float(1e-3))?;
//! for step in 0..1_000 {
//!     exp.log_metric("loss", 1.0 / (step as f64 + 1.0), Some(step))?;
//! }
//! exp.end(Status::Completed)?;
//!
//! let points = opsml_experiment::get_experiment_metrics(exp.store()?.as_ref(), exp.uid(), None)?;
//! assert_eq!(points.len(), 1_000);
//! # Ok::<(), opsml_experiment::ExperimentError>(())
//! ```

mod artifacts;
mod batch;
mod capture;
mod diff;
mod environment;
mod error;
mod experiment;
mod forked;
mod live;
mod name_words;
mod names;
mod pipeline;
mod runtime;

pub use artifacts::{download_artifact, download_artifacts, log_directory};
pub use capture::{ScriptSource, DEFAULT_CODE_MAX_FILE_BYTES};
pub use diff::diff_runs;
pub use error::{ExperimentError, Result};
pub use experiment::{
    Experiment, StartOptions, DEFAULT_HARDWARE_INTERVAL, DEFAULT_SPACE, HARDWARE_INTERVAL_ENV,
};
pub use opsml_registry::{Artifacts, PointRecord};
pub use opsml_types::REQUIREMENTS_PATH;
pub use opsml_types::{
    ArtifactRecord, ExperimentCard, MetricColumns, MetricPoint, Parameter, ParameterValue, Status,
};

// The rest of the surface a front end (the Python binding) builds on, so that it imports from
// this crate alone: stores and cards, plain data and its validation, the filter language, and
// the errors each layer reports.
pub use opsml_crypt::CryptError;
pub use opsml_log::{init as init_logging, LOG_ENV};
pub use opsml_plot::PlotError;
pub use opsml_query::{parse_filter, parse_order_by};
pub use opsml_registry::{
    default_store, reset_after_fork, CardQuery, CardRegistries, CardRegistry, RegistryError,
    SearchQuery, StorageError, Store, StoreError,
};
pub use opsml_types::{
    float_text, human_bytes, micros_to_datetime, normalize_artifact_path, now_micros,
    parse_version, printable, validate_description, validate_eval_metrics, validate_name,
    CardRecord, CodeCapture, ComputeEnvironment, GitInfo, GpuSample, HardwareSample, MetricSummary,
    RegistryType, TypesError, Version, MAX_EVAL_METRICS,
};
pub use pipeline::{NameInterner, DEFAULT_FLUSH_INTERVAL, DEFAULT_QUEUE_CAPACITY};
pub use runtime::runtime;
// What reads runs back, for callers that also log: the functions below flush this process's
// running experiments first.
pub use opsml_read::{
    distinct_labels, hardware_batch, metric_schema, runs_batch, select_points, Align, Cell,
    Comparison, FileChange, HtmlEscape, MetricTable, PackageChanges, PointSelection, Row, RunDiff,
    RunTable, Section, TextTable, COMPARED_STATISTICS,
};

use std::path::Path;

/// Compares experiments `uids` of `store`, in that order (see
/// [`opsml_read::compare_experiments`]), after flushing those of this process.
pub fn compare_experiments(store: &dyn Store, uids: &[&str]) -> Result<Comparison> {
    for uid in uids {
        flush_running(uid)?;
    }
    Ok(opsml_read::compare_experiments(store, uids)?)
}

/// Draws the metrics of experiments `uids` to `path` (see [`opsml_read::plot_metrics`]),
/// after flushing those of this process.
pub fn plot_metrics(
    store: &dyn Store,
    uids: &[&str],
    names: Option<&[String]>,
    path: &Path,
) -> Result<()> {
    for uid in uids {
        flush_running(uid)?;
    }
    Ok(opsml_read::plot_metrics(store, uids, names, path)?)
}

/// Writes the HTML report of experiments `uids` to `path` (see [`opsml_read::write_report`]),
/// after flushing those of this process.
pub fn write_report(store: &dyn Store, uids: &[&str], path: &Path) -> Result<()> {
    for uid in uids {
        flush_running(uid)?;
    }
    Ok(opsml_read::write_report(store, uids, path)?)
}

/// Every point of experiment `uid` (or of the named metrics), ordered by
/// (name, step, insertion). Experiments of this process with that uid are
/// flushed first, so what was logged before the call is included.
pub fn get_experiment_metrics(
    store: &dyn Store,
    uid: &str,
    names: Option<&[String]>,
) -> Result<MetricColumns> {
    flush_running(uid)?;
    Ok(store.read_metrics(uid, names)?)
}

/// The parameters of experiment `uid` (or the named ones), in the order first logged.
pub fn get_experiment_parameters(
    store: &dyn Store,
    uid: &str,
    names: Option<&[String]>,
) -> Result<Vec<Parameter>> {
    flush_running(uid)?;
    Ok(store.read_parameters(uid, names)?)
}

/// The hardware samples of experiment `uid`, in the order taken. Experiments
/// of this process with that uid are flushed first.
pub fn get_experiment_hardware_metrics(
    store: &dyn Store,
    uid: &str,
) -> Result<Vec<opsml_types::HardwareSample>> {
    flush_running(uid)?;
    Ok(store.read_hardware(uid)?)
}

/// Count, extremes, mean, first and last value of each metric of experiment `uid`, kept by
/// the writer as points arrive. Experiments of this process with that uid are flushed first.
pub fn get_metric_summaries(
    store: &dyn Store,
    uid: &str,
) -> Result<Vec<opsml_types::MetricSummary>> {
    flush_running(uid)?;
    Ok(store.metric_summaries(uid)?)
}

/// Card records of the experiments matching `query`, evaluated in the store. Experiments of
/// this process are flushed first, so their summaries include what was logged.
pub fn search_experiments(
    store: &dyn Store,
    query: &opsml_registry::SearchQuery,
) -> Result<Vec<opsml_types::CardRecord>> {
    for inner in live::running(None) {
        inner.flush()?;
    }
    Ok(store.search_experiments(query)?)
}

/// The runs table of the experiments `query` finds: their cards with every parameter and
/// metric summary in columns, read at once (see [`opsml_read::run_table`]). Experiments of
/// this process are flushed first.
pub fn runs_table(
    store: &dyn Store,
    query: &opsml_registry::SearchQuery,
) -> Result<opsml_read::RunTable> {
    let records = search_experiments(store, query)?;
    Ok(opsml_read::run_table(store, records)?)
}

/// The runs table of `records` (a card listing), in their order; experiments of this process
/// are flushed first.
pub fn cards_table(
    store: &dyn Store,
    records: Vec<opsml_types::CardRecord>,
) -> Result<opsml_read::RunTable> {
    for inner in live::running(None) {
        inner.flush()?;
    }
    Ok(opsml_read::run_table(store, records)?)
}

/// To be called right before `fork`: no thread is inside SQLite while the
/// process is copied.
pub fn before_fork() {
    opsml_registry::before_fork();
}

/// To be called in the parent right after `fork`.
pub fn after_fork_in_parent() {
    opsml_registry::after_fork_in_parent();
}

/// To be called in a child process right after `fork`: the child gets its
/// own runtime and store connections, and leaves the parent's experiments
/// (and any lock a vanished parent thread held) alone.
pub fn after_fork_in_child() {
    opsml_registry::after_fork_in_child();
    live::reset_after_fork();
    capture::reset_after_fork();
}

/// Waits until experiments of this process with this uid have stored what they logged.
pub fn flush_running(uid: &str) -> Result<()> {
    for inner in live::running(Some(uid)) {
        inner.flush()?;
    }
    Ok(())
}

/// Ends every experiment of this process still running, as `status`, storing
/// what they logged. Called at interpreter exit by the Python front.
pub fn end_all_running(status: Status) -> Vec<ExperimentError> {
    live::running(None)
        .into_iter()
        .filter_map(|inner| inner.end(status).err())
        .collect()
}
