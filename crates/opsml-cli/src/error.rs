//! What can go wrong in a command, and the exit code each failure gives.

use std::io;
use std::path::PathBuf;

use opsml_experiment::ExperimentError;
use opsml_query::QueryError;
use opsml_read::ReadError;
use opsml_registry::{RegistryError, StorageError, StoreError};
use thiserror::Error;

/// A store's failure reads as the registry's (the same message and exit code).
impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        Self::Registry(error.into())
    }
}

/// A storage's failure reads as the registry's (the same message and exit code).
impl From<StorageError> for CliError {
    fn from(error: StorageError) -> Self {
        Self::Registry(error.into())
    }
}

/// Errors of the command line. Each prints as one line after `opsml: `.
#[derive(Debug, Error)]
pub(crate) enum CliError {
    /// The server could not start or stopped serving.
    #[error("server: {0}")]
    Server(String),
    /// Some kept files could not be sent; they stay for the next sync.
    #[error("{0} file(s) could not be sent and are kept for the next sync")]
    SyncIncomplete(usize),
    /// The store, the storage or the key failed, or a uid, name or path is unknown.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Reading summaries or searching failed.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// Comparing, plotting or writing a report failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A search filter or order-by item is not valid; the message points at the mistake
    /// with a caret on a second line.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The local store file does not exist (commands never create one).
    #[error("no opsml store at {}; set OPSML_TRACKING_URI or pass --tracking-uri", .0.display())]
    NoStore(PathBuf),
    /// Artifacts cannot be decrypted: no secret in the environment and no key file.
    #[error(
        "no master key to decrypt artifacts: OPSML_ENCRYPT_SECRET is not set and there is no key file at {}",
        .0.display()
    )]
    NoMasterKey(PathBuf),
    /// The experiment has no metric of a requested name.
    #[error("experiment {uid} has no metric {name:?} (it has: {available})")]
    NoSuchMetric {
        uid: String,
        name: String,
        available: String,
    },
    /// None of the experiments to plot has a metric of a requested name.
    #[error("no experiment to plot has a metric {name:?} (they have: {available})")]
    NoMetricToPlot { name: String, available: String },
    /// None of the experiments to plot has any metric.
    #[error("nothing to plot: {0} no metrics")]
    NothingToPlot(String),
    /// A local file or directory could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written.
    #[error("writing the output failed: {0}")]
    Output(#[source] io::Error),
    /// The answer to a question could not be read.
    #[error("reading the answer from standard input failed: {0}")]
    Input(#[source] io::Error),
    /// The user answered no to a question.
    #[error("{0}")]
    Declined(String),
    /// The command cannot run as asked (a usage error found after parsing).
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// The process exit code: 2 for usage errors, 1 for everything else.
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// Whether this is standard output closed early (`opsml … | head`): not worth a message.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, Self::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// A CSV write's failure is the write's own (a closed pipe stays one).
impl From<csv::Error> for CliError {
    fn from(error: csv::Error) -> Self {
        match error.into_kind() {
            csv::ErrorKind::Io(error) => Self::Output(error),
            other => Self::Output(io::Error::other(format!("{other:?}"))),
        }
    }
}

impl From<io::Error> for CliError {
    /// Plain `?` on a write is a write to standard output.
    fn from(error: io::Error) -> Self {
        Self::Output(error)
    }
}

/// Result alias of this crate.
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
