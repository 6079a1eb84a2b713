use thiserror::Error;

/// Errors of experiment tracking.
#[derive(Debug, Error)]
pub enum ExperimentError {
    /// The store or the artifact storage failed.
    #[error(transparent)]
    Registry(opsml_registry::RegistryError),
    /// A name or value failed validation.
    #[error(transparent)]
    Invalid(#[from] opsml_types::TypesError),
    /// The experiment was ended; nothing more can be logged to it.
    #[error("experiment {uid} has ended; start or resume an experiment to log more")]
    Ended { uid: String },
    /// A forked child could not set up its own writer for the inherited experiment object.
    #[error(
        "experiment {uid}: this forked process cannot log through the experiment object \
         inherited from its parent (another thread held it during the fork); \
         call start_experiment(experiment_uid=\"{uid}\") in this process to log to it"
    )]
    Forked { uid: String },
    /// The background writer could not store logged data; the data is kept
    /// and written again on the next flush.
    #[error("experiment {uid}: storing logged data failed: {message}")]
    Write { uid: String, message: String },
    /// The captured files of a run could not be read back.
    #[error("experiment {uid}: reading its captured files failed: {message}")]
    ReadFiles { uid: String, message: String },
    /// The store refused logged data for good; it is kept in a recovery file that `opsml
    /// sync` stores.
    #[error(
        "experiment {uid}: the store did not take {counts} ({reason}); they are kept in {} \
         and `opsml sync` stores them",
        path.display()
    )]
    Kept {
        uid: String,
        counts: opsml_registry::KeptCounts,
        path: std::path::PathBuf,
        reason: String,
    },
    /// An option that does not fit the experiment being resumed.
    #[error("experiment {uid} is {field} {actual:?}, not {requested:?}")]
    ResumeMismatch {
        uid: String,
        field: &'static str,
        actual: String,
        requested: String,
    },
    /// A file opsml was asked to write (a report) could not be written.
    #[error("writing {}: {source}", path.display())]
    Output {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A chart could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] opsml_plot::PlotError),
    /// An option with a value that cannot be used.
    #[error("{name} = {value:?}: {reason}")]
    InvalidOption {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl From<opsml_registry::RegistryError> for ExperimentError {
    fn from(error: opsml_registry::RegistryError) -> Self {
        match error {
            // A bad value is a bad value, whichever layer noticed it.
            opsml_registry::RegistryError::Store(opsml_registry::StoreError::Invalid(e)) => {
                Self::Invalid(e)
            }
            other => Self::Registry(other),
        }
    }
}

impl From<opsml_registry::StoreError> for ExperimentError {
    fn from(error: opsml_registry::StoreError) -> Self {
        opsml_registry::RegistryError::from(error).into()
    }
}

impl From<opsml_read::ReadError> for ExperimentError {
    fn from(error: opsml_read::ReadError) -> Self {
        use opsml_read::ReadError;
        match error {
            ReadError::Store(e) => e.into(),
            ReadError::Plot(e) => Self::Plot(e),
            ReadError::Output { path, source } => Self::Output { path, source },
            // Artifact errors keep their kind (a tampered file stays one).
            ReadError::Files { uid, source } => match source.downcast::<ExperimentError>() {
                Ok(error) => *error,
                Err(other) => Self::ReadFiles {
                    uid,
                    message: other.to_string(),
                },
            },
            ReadError::InvalidOption {
                name,
                value,
                reason,
            } => Self::InvalidOption {
                name,
                value,
                reason,
            },
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
