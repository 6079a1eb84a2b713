use std::path::PathBuf;

use thiserror::Error;

/// Errors of the registry and its stores.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The SQLite database failed.
    #[error("sqlite store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The tracking URI could not be understood.
    #[error("invalid tracking uri {uri:?}: {reason}")]
    InvalidUri { uri: String, reason: String },
    /// The tracking URI names a backend this build cannot reach.
    #[error(
        "tracking uri {uri:?} needs the {backend} backend, which is not available in this build"
    )]
    UnsupportedBackend { uri: String, backend: &'static str },
    /// No experiment has this uid.
    #[error("no experiment with uid {0:?}")]
    ExperimentNotFound(String),
    /// No experiment matches this space, name and version.
    #[error("no experiment in space {space:?} named {name:?}{}", version.as_ref().map(|v| format!(" with version {v}")).unwrap_or_default())]
    CardNotFound {
        space: String,
        name: String,
        version: Option<String>,
    },
    /// A stored row could not be decoded (the database was changed by hand or damaged).
    #[error("corrupted record in the store: {0}")]
    Corrupt(String),
    /// Versions kept colliding with concurrent writers.
    #[error("could not allocate a version for {space}/{name} after {attempts} attempts")]
    VersionContention {
        space: String,
        name: String,
        attempts: u32,
    },
    /// The store's directory could not be created.
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A value failed validation.
    #[error(transparent)]
    Invalid(#[from] opsml_types::TypesError),
}
