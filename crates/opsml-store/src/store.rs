use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

use opsml_types::{
    micros_to_datetime, ArtifactRecord, CardRecord, ComputeEnvironment, ExperimentCard,
    ExperimentMetadata, HardwareSample, MetricColumns, MetricPoint, MetricSummary, Parameter,
    ParameterValue, Status, Version,
};

use opsml_storage::ArtifactStorage;

use crate::append::RemoteWriter;
use crate::error::Result;
use crate::lease::Lease;
use crate::uri::TrackingUri;

/// What is needed to create an experiment; the store allocates its version.
#[derive(Debug, Clone)]
pub struct NewExperiment {
    pub uid: String,
    pub space: String,
    pub name: String,
    pub tags: Vec<String>,
    pub parent_uid: Option<String>,
    pub compute_environment: ComputeEnvironment,
    pub opsml_version: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
    /// The process that runs it.
    pub lease: Lease,
}

impl NewExperiment {
    /// The card of this experiment once stored with `version`: running, created at the
    /// microsecond the stores keep.
    pub(crate) fn card(&self, version: Version) -> ExperimentCard {
        ExperimentCard {
            uid: self.uid.clone(),
            space: self.space.clone(),
            name: self.name.clone(),
            version,
            tags: self.tags.clone(),
            status: Status::Running,
            created_at: micros_to_datetime(self.created_at.timestamp_micros()),
            ended_at: None,
            experimentcard_uids: Vec::new(),
            parent_uid: self.parent_uid.clone(),
            compute_environment: self.compute_environment.clone(),
            opsml_version: self.opsml_version.clone(),
            username: self.username.clone(),
            metadata: ExperimentMetadata::default(),
        }
    }
}

/// Filters of a card listing. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CardQuery {
    pub uid: Option<String>,
    pub space: Option<String>,
    pub name: Option<String>,
    pub version: Option<Version>,
    /// Only cards of one of these spaces (a server's user sees the spaces it may read).
    pub spaces: Option<Vec<String>>,
    /// Cards carrying every one of these tags.
    pub tags: Vec<String>,
    /// Cards created at or before this instant.
    pub max_date: Option<DateTime<Utc>>,
    /// Newest first by creation time; otherwise by space, name, newest version first.
    pub sort_by_timestamp: bool,
    pub limit: usize,
}

/// Experiments matching a filter of the search language, in a chosen order.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The parsed filter (see `opsml_query::parse_filter`); `None` matches every experiment.
    pub filter: Option<opsml_query::Expr>,
    /// Only experiments of this space.
    pub space: Option<String>,
    /// Only experiments of one of these spaces (a server's user sees the spaces it may read).
    pub spaces: Option<Vec<String>>,
    /// Sort keys (see `opsml_query::parse_order_by`); newest first after them.
    pub order_by: Vec<opsml_query::OrderItem>,
    pub limit: usize,
}

impl SearchQuery {
    /// The filter with the space restrictions added to it.
    pub(crate) fn full_filter(&self) -> Option<opsml_query::Expr> {
        use opsml_query::{CmpOp, Condition, Expr, Test, TextField};
        let space = |test| {
            Expr::Cond(Condition::Text {
                field: TextField::Space,
                test,
            })
        };
        [
            self.filter.clone(),
            self.space
                .as_ref()
                .map(|s| space(Test::Compare(CmpOp::Eq, s.clone()))),
            self.spaces.as_ref().map(|s| space(Test::In(s.clone()))),
        ]
        .into_iter()
        .flatten()
        .reduce(Expr::and)
    }
}

/// What a table of runs shows besides the cards, in columns: each parameter's value and each
/// metric's summary per run, in the order of the runs asked for, `None` where a run lacks it.
/// Column names are stored once, not once per run: a cell's summary has an empty `name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableCells {
    runs: HashMap<String, usize>,
    pub parameters: BTreeMap<String, Vec<Option<ParameterValue>>>,
    pub summaries: BTreeMap<String, Vec<Option<MetricSummary>>>,
}

impl TableCells {
    /// An empty table of the runs `uids`.
    pub fn new(uids: &[String]) -> Self {
        Self {
            runs: uids
                .iter()
                .enumerate()
                .map(|(i, uid)| (uid.clone(), i))
                .collect(),
            ..Self::default()
        }
    }

    /// The row of run `uid`, if the table has it.
    pub fn row_of(&self, uid: &str) -> Option<usize> {
        self.runs.get(uid).copied()
    }

    /// Sets the parameter `name` of the run at `row`.
    pub fn set_parameter(&mut self, row: usize, name: &str, value: ParameterValue) {
        let runs = self.runs.len();
        column(&mut self.parameters, name, runs)[row] = Some(value);
    }

    /// Sets the summary of metric `name` of the run at `row`.
    pub fn set_summary(&mut self, row: usize, name: &str, mut summary: MetricSummary) {
        let runs = self.runs.len();
        summary.name = String::new();
        column(&mut self.summaries, name, runs)[row] = Some(summary);
    }
}

/// The column `name` of `columns`, made empty for `runs` runs if it is new: the name is
/// copied only then.
#[allow(clippy::expect_used, reason = "the column was inserted just above")]
fn column<'a, T: Clone>(
    columns: &'a mut BTreeMap<String, Vec<Option<T>>>,
    name: &str,
    runs: usize,
) -> &'a mut Vec<Option<T>> {
    if !columns.contains_key(name) {
        columns.insert(name.to_owned(), vec![None; runs]);
    }
    columns.get_mut(name).expect("inserted above")
}

/// A metric point and the id of its name in [`WriteBatch::names`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRecord {
    pub name_id: u32,
    pub point: MetricPoint,
}

/// One batch handed from an experiment's background writer to its store.
#[derive(Debug, Clone, Copy)]
pub struct WriteBatch<'a> {
    /// Metric names by id; ids stay stable for the life of the writer.
    pub names: &'a [String],
    /// Points in the order they were logged.
    pub points: &'a [PointRecord],
    /// Parameters in the order they were logged; a later one replaces an earlier one.
    pub parameters: &'a [Parameter],
    /// Hardware samples in the order they were taken.
    pub hardware: &'a [HardwareSample],
}

/// Writes one experiment's points and parameters. Each call of
/// [`ExperimentWriter::write`] is one transaction: all of the batch is stored or
/// none of it, and on failure the same batch can be written again.
pub trait ExperimentWriter: Send {
    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()>;

    /// Records that the experiment's process is alive.
    fn heartbeat(&mut self) -> Result<()>;

    /// Called once after the last write: a writer that sends batches elsewhere tries to get
    /// the last of them there. Nothing to do for writers whose writes are stored at once.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// The writer and sequence number the next batch is written under, where the store
    /// records them with each batch: a batch kept in a recovery file after failed attempts
    /// carries them, so that replaying it changes nothing if one of those attempts was stored
    /// after all (a connection lost while the store committed it). `None` where a write that
    /// failed was never stored.
    fn next_batch_writer(&self) -> Option<RemoteWriter> {
        None
    }

    /// Called once the next batch is kept elsewhere instead of written: later batches go
    /// under a new writer, so that the kept batch stays the last of its writer's sequence.
    fn skip_batch(&mut self) {}
}

/// A running experiment as the store knows it, for finding dead ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunningExperiment {
    pub uid: String,
    /// The process that started or last resumed the experiment.
    pub lease: Option<Lease>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Every process with an open writer: the experiment is alive while one of them is.
    pub writers: Vec<WriterLease>,
}

/// A process writing to an experiment, and when it last said so.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriterLease {
    pub lease: Lease,
    pub heartbeat_at: DateTime<Utc>,
}

/// A place that holds experiment cards, metrics and parameters.
pub trait Store: Send + Sync + fmt::Debug {
    /// Where the store is, for messages.
    fn location(&self) -> String;

    /// Where batches this store refused for good are kept for `opsml sync` (see
    /// `opsml_client::RecoveryFile`); `None` for a store whose writers keep their own files.
    fn recovery_dir(&self) -> Option<PathBuf> {
        None
    }

    /// Creates an experiment with the next free version of its (space, name).
    fn create_experiment(&self, new: &NewExperiment) -> Result<ExperimentCard>;

    /// The card with this uid, children included.
    fn get_experiment(&self, uid: &str) -> Result<Option<ExperimentCard>>;

    /// The card of this space and name with this version, or the newest one.
    fn find_experiment(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<ExperimentCard>>;

    /// Card records matching the query.
    fn list_experiments(&self, query: &CardQuery) -> Result<Vec<CardRecord>>;

    /// Saves the card's tags, status and end time.
    fn update_experiment(&self, card: &ExperimentCard) -> Result<()>;

    /// Marks an experiment running in this process (resuming it).
    fn claim(&self, uid: &str, lease: &Lease) -> Result<()>;

    /// Card records of the experiments matching `query`, evaluated in the store.
    fn search_experiments(&self, query: &SearchQuery) -> Result<Vec<CardRecord>>;

    /// Summaries of the experiment's metrics, by name.
    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>>;

    /// The parameters and metric summaries of the experiments `uids`, in columns with a cell
    /// per experiment in that order (empty for an experiment that is not there), for tables
    /// of many runs. The default reads them one experiment at a time; the database stores
    /// read them all in two queries.
    fn table_cells(&self, uids: &[String]) -> Result<TableCells> {
        let mut table = TableCells::new(uids);
        for (row, uid) in uids.iter().enumerate() {
            let read = self
                .read_parameters(uid, None)
                .and_then(|parameters| Ok((parameters, self.metric_summaries(uid)?)));
            match read {
                Ok((parameters, summaries)) => {
                    for parameter in parameters {
                        table.set_parameter(row, &parameter.name, parameter.value);
                    }
                    for summary in summaries {
                        let name = summary.name.clone();
                        table.set_summary(row, &name, summary);
                    }
                }
                Err(crate::StoreError::ExperimentNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(table)
    }

    /// Experiments whose status is running.
    fn running_experiments(&self) -> Result<Vec<RunningExperiment>>;

    /// Marks a running experiment killed, ended at its last heartbeat,
    /// unless it changed since it was listed; `true` if it was marked.
    fn mark_killed(&self, running: &RunningExperiment) -> Result<bool>;

    /// Sets the status and end time of an experiment.
    fn set_status(&self, uid: &str, status: Status, ended_at: Option<DateTime<Utc>>) -> Result<()>;

    /// Removes an experiment with its metrics and parameters; `false` if it did not exist.
    fn delete_experiment(&self, uid: &str) -> Result<bool>;

    /// A writer for the points and parameters of an existing experiment.
    fn open_writer(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>>;

    /// Applies a batch sent by a remote writer (a client of a server) in one transaction,
    /// unless that writer's batch of this sequence number or a later one was applied
    /// already: a resend changes nothing. `true` if it was applied.
    fn append_batch(
        &self,
        uid: &str,
        writer: &RemoteWriter,
        batch: &WriteBatch<'_>,
    ) -> Result<bool>;

    /// Every point of the experiment (or of the named metrics), ordered by
    /// (name, step, insertion).
    fn read_metrics(&self, uid: &str, names: Option<&[String]>) -> Result<MetricColumns>;

    /// The experiment's parameters (or the named ones) in the order first logged.
    fn read_parameters(&self, uid: &str, names: Option<&[String]>) -> Result<Vec<Parameter>>;

    /// The experiment's hardware samples in the order they were taken.
    fn read_hardware(&self, uid: &str) -> Result<Vec<HardwareSample>>;

    /// Saves facts recorded after the start (git state, code capture).
    fn set_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()>;

    /// The experiment's data key, wrapped by the master key, if it has one yet.
    fn wrapped_data_key(&self, uid: &str) -> Result<Option<Vec<u8>>>;

    /// Whether any experiment has a wrapped data key: a master key made now could open none
    /// of them.
    fn holds_wrapped_keys(&self) -> Result<bool>;

    /// Stores a wrapped data key unless the experiment already has one, and
    /// returns the one stored: concurrent writers end up sharing one key.
    fn insert_wrapped_data_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>>;

    /// Records stored artifacts, replacing records of the same paths, in one
    /// transaction; returns the storage keys of the objects no longer recorded.
    fn put_artifacts(&self, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>>;

    /// Artifact records of the experiment, all or those at or under `prefix`, by path.
    fn list_artifacts(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>>;

    /// Where a generated master key is kept when `OPSML_ENCRYPT_SECRET` is not
    /// set: beside a local store; `None` where keys cannot be kept locally.
    fn default_key_file(&self) -> Option<PathBuf>;

    /// Local files and folders of the store itself, which code capture must never store.
    fn local_files(&self) -> Vec<PathBuf>;

    /// The URI that opens this store again: a forked child opens it through its own
    /// connections, as it must not use those it inherited from its parent.
    fn tracking_uri(&self) -> TrackingUri;

    /// The storage of this store's artifact objects where the store keeps its own (a server
    /// does); `None` for stores reached directly, whose objects go to the storage that the
    /// caller chooses.
    fn own_artifact_storage(&self) -> Option<Arc<dyn ArtifactStorage>> {
        None
    }
}
