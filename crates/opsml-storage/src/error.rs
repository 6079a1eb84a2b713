use std::io;

use thiserror::Error;

/// Errors of an artifact storage.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The storage could not be read or written.
    #[error("artifact storage {location}: {source}")]
    Io {
        location: String,
        #[source]
        source: io::Error,
    },
    /// Reading what was being uploaded failed (the caller knows what it was).
    #[error("reading the data to store failed: {0}")]
    UploadSource(#[source] io::Error),
    /// A storage URI could not be understood.
    #[error("invalid storage uri {uri:?}: {reason}")]
    InvalidUri { uri: String, reason: String },
    /// A storage URI names a backend this build cannot reach.
    #[error(
        "storage uri {uri:?} needs the {backend} backend, which is not available in this build"
    )]
    UnsupportedBackend { uri: String, backend: &'static str },
    /// The failure of a storage implemented elsewhere (the client of a server), carried
    /// unchanged so that the code that built that storage can read it back.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// Result alias of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
