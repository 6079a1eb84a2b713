use std::path::PathBuf;

use opsml_storage::StorageError;
use opsml_store::StoreError;
use thiserror::Error;

/// Errors of the registry: its store, its artifact storage, and the artifacts themselves
/// (local files, keys, digests).
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The artifact storage failed, or the data sent to it could not be read.
    #[error(transparent)]
    Storage(StorageError),
    /// A local file or directory to log does not exist.
    #[error("no such file or directory: {}", .0.display())]
    LocalPathNotFound(PathBuf),
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    LocalIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A directory was given where a file is expected.
    #[error("{} is a directory; use log_artifacts for directories", .0.display())]
    IsADirectory(PathBuf),
    /// A file was given where a directory is expected.
    #[error("{} is not a directory; use log_artifact for single files", .0.display())]
    NotADirectory(PathBuf),
    /// The experiment has no artifact at this path.
    #[error("experiment {uid} has no artifact {path:?}")]
    ArtifactNotFound { uid: String, path: String },
    /// A bare file name that several artifacts of the experiment have.
    #[error("experiment {uid} has {} artifacts named {name:?}: {}; give the whole path", paths.len(), paths.join(", "))]
    ArtifactAmbiguous {
        uid: String,
        name: String,
        paths: Vec<String>,
    },
    /// A stored artifact failed decryption or authentication.
    #[error("artifact {artifact:?}: {source}")]
    Crypt {
        artifact: String,
        #[source]
        source: opsml_crypt::CryptError,
    },
    /// The master key could not be loaded or does not open this experiment's key.
    #[error("{0}")]
    MasterKey(#[source] opsml_crypt::CryptError),
    /// No master key is set, and the store has no place for a key file.
    #[error(
        "no master key for the artifacts of {store}: set OPSML_ENCRYPT_SECRET to the team's \
         key (the base64 of 32 random bytes, the same for everyone who reads these artifacts); \
         this store cannot keep a key file"
    )]
    NoMasterKey { store: String },
    /// No secret is set and the key file beside the store is gone, while the store holds
    /// artifacts encrypted under a master key: a new key could open none of them.
    #[error(
        "the master key file {} is missing and the store holds artifacts encrypted with a \
         master key: restore the file from a backup, or set OPSML_ENCRYPT_SECRET to the key \
         they were written with; no new key is made",
        path.display()
    )]
    KeyFileMissing { path: PathBuf },
    /// A downloaded artifact does not match the checksum recorded when it was stored.
    #[error(
        "artifact {artifact:?} does not match its recorded digest; the stored copy was altered"
    )]
    ChecksumMismatch { artifact: String },
}

/// Result alias of this crate.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// A storage's failure as the registry's. A storage built elsewhere (the client of a
/// server) hands its own error back unchanged.
impl From<StorageError> for RegistryError {
    fn from(error: StorageError) -> Self {
        match StoreError::from_storage(error) {
            Ok(store) => Self::Store(store),
            Err(StorageError::Backend(inner)) => match inner.downcast::<Self>() {
                Ok(own) => *own,
                Err(other) => Self::Storage(StorageError::Backend(other)),
            },
            Err(other) => Self::Storage(other),
        }
    }
}

/// A value that failed validation is the store's to refuse, as the store says it.
impl From<opsml_types::TypesError> for RegistryError {
    fn from(error: opsml_types::TypesError) -> Self {
        Self::Store(StoreError::Invalid(error))
    }
}

impl RegistryError {
    /// Whether the same request may succeed later, unchanged (see [`StoreError::is_transient`]):
    /// a storage that failed to read or write may pass; the source of an upload, a key or a
    /// digest that failed will fail again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(error) => error.is_transient(),
            Self::Storage(StorageError::Io { .. }) | Self::LocalIo { .. } => true,
            _ => false,
        }
    }
}
