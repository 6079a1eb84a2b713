use std::path::PathBuf;

use opsml_storage::StorageError;
use thiserror::Error;

/// What SQLite's own message leaves out about a failure.
fn sqlite_hint(error: &rusqlite::Error) -> &'static str {
    match error.sqlite_error() {
        Some(e) if e.extended_code == rusqlite::ffi::SQLITE_READONLY_DBMOVED => {
            " (the store file was moved or deleted while in use: what is logged now cannot be stored)"
        }
        Some(e) if e.code == rusqlite::ErrorCode::ReadOnly => {
            " (the disk or the store file is read-only)"
        }
        _ => "",
    }
}

/// The server's own message where there is one: the client's display of a server error
/// is only "db error".
fn postgres_message(error: &postgres::Error) -> String {
    match (error.as_db_error(), std::error::Error::source(error)) {
        (Some(db), _) => format!("{}: {}", db.severity(), db.message()),
        (None, Some(cause)) => format!("{error}: {cause}"),
        (None, None) => error.to_string(),
    }
}

/// Errors of the registry and its stores.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The SQLite database failed.
    #[error("sqlite store {path}: {source}{}", sqlite_hint(source))]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The PostgreSQL database failed (`location` carries no password).
    #[error("postgres store {location}: {}", postgres_message(source))]
    Postgres {
        location: String,
        #[source]
        source: postgres::Error,
    },
    /// The store file was deleted or replaced while an experiment was writing to it.
    #[error(
        "sqlite store {path}: the store file was moved or deleted while in use; \
         what is logged now cannot be stored"
    )]
    StoreMoved { path: PathBuf },
    /// A tracking or storage URI could not be understood.
    #[error("invalid {what} uri {uri:?}: {reason}")]
    InvalidUri {
        /// Which setting: "tracking" or "storage".
        what: &'static str,
        uri: String,
        reason: String,
    },
    /// A tracking or storage URI names a backend this build cannot reach.
    #[error(
        "{what} uri {uri:?} needs the {backend} backend, which is not available in this build"
    )]
    UnsupportedBackend {
        /// Which setting: "tracking" or "storage".
        what: &'static str,
        uri: String,
        backend: &'static str,
    },
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
    /// A remote writer's batch that cannot be applied: out of sequence, or under a writer id
    /// that belongs to another experiment.
    #[error("batch refused: {0}")]
    BatchRefused(String),
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
    /// The artifact storage could not be read or written.
    #[error("artifact storage {location}: {source}")]
    Storage {
        location: String,
        #[source]
        source: std::io::Error,
    },
    /// Reading what was being uploaded failed (the caller knows what it was).
    #[error("reading the data to store failed: {0}")]
    UploadSource(#[source] std::io::Error),
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
    /// An opsml server could not be reached (or did not answer in time).
    #[error("opsml server {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    /// An opsml server refused or failed a request; `code` is its machine-readable name.
    #[error("opsml server {url}: {message} ({status} {code})")]
    Server {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    /// Batches that could not be sent to a server yet; they are kept on disk.
    #[error(
        "{batches} batch(es) of experiment {uid} are not on {url} yet; they are kept in {} \
         and `opsml sync` sends them once the server can be reached", spool.display()
    )]
    Unshipped {
        uid: String,
        url: String,
        batches: usize,
        spool: PathBuf,
    },
    /// A value failed validation.
    #[error(transparent)]
    Invalid(#[from] opsml_types::TypesError),
}

/// A storage's failure as the registry's, with the same message. A storage built
/// elsewhere (the client of a server) hands its own error back unchanged.
impl From<StorageError> for RegistryError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Io { location, source } => Self::Storage { location, source },
            StorageError::UploadSource(source) => Self::UploadSource(source),
            StorageError::InvalidUri { uri, reason } => Self::InvalidUri {
                what: "storage",
                uri,
                reason,
            },
            StorageError::UnsupportedBackend { uri, backend } => Self::UnsupportedBackend {
                what: "storage",
                uri,
                backend,
            },
            StorageError::Backend(error) => match error.downcast::<Self>() {
                Ok(own) => *own,
                Err(other) => Self::Storage {
                    location: "artifact storage".to_owned(),
                    source: std::io::Error::other(other),
                },
            },
        }
    }
}

impl RegistryError {
    /// Whether the same request may succeed later, unchanged: the store was busy, out of
    /// reach, restarting or out of room. A refusal that retrying cannot cure (a constraint, a
    /// value the store cannot hold, a moved store file, a bug in our bookkeeping) is not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Sqlite { source, .. } => sqlite_transient(source),
            Self::Postgres { source, .. } => postgres_transient(source),
            Self::Unreachable { .. } | Self::Storage { .. } | Self::LocalIo { .. } => true,
            Self::Server { status, .. } => matches!(status, 408 | 429) || *status >= 500,
            _ => false,
        }
    }
}

fn sqlite_transient(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    let Some(e) = error.sqlite_error() else {
        // Conversions and misuse of the API: the same call fails the same way.
        return false;
    };
    if e.extended_code == rusqlite::ffi::SQLITE_READONLY_DBMOVED {
        return false;
    }
    matches!(
        e.code,
        ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::OutOfMemory
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::ReadOnly
    )
}

fn postgres_transient(error: &postgres::Error) -> bool {
    let Some(db) = error.as_db_error() else {
        // No answer from the server when the connection broke or could not be made; any
        // other failure without one (a value that cannot be sent) fails the same way again.
        return error.is_closed()
            || std::error::Error::source(error)
                .is_some_and(<dyn std::error::Error>::is::<std::io::Error>);
    };
    let code = db.code().code();
    // Connection exceptions, transaction rollbacks (serialization, deadlock), insufficient
    // resources, operator intervention (shutdown, restart) and system errors (I/O).
    ["08", "40", "53", "57", "58"]
        .iter()
        .any(|class| code.starts_with(class))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::ffi::c_int) -> RegistryError {
        RegistryError::Sqlite {
            path: PathBuf::from("/tmp/opsml.db"),
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        }
    }

    #[test]
    fn a_busy_or_full_store_may_pass_and_a_refusal_does_not() {
        use rusqlite::ffi;
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_FULL,
            ffi::SQLITE_IOERR,
        ] {
            assert!(sqlite(code).is_transient(), "code {code}");
        }
        for code in [
            ffi::SQLITE_CONSTRAINT,
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            ffi::SQLITE_MISMATCH,
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_READONLY_DBMOVED,
        ] {
            assert!(!sqlite(code).is_transient(), "code {code}");
        }
        let moved = RegistryError::StoreMoved {
            path: PathBuf::from("/tmp/opsml.db"),
        };
        assert!(!moved.is_transient());
        let server = |status| RegistryError::Server {
            url: "http://127.0.0.1:1".into(),
            status,
            code: "x".into(),
            message: "x".into(),
        };
        assert!(server(503).is_transient() && server(429).is_transient());
        assert!(!server(400).is_transient() && !server(409).is_transient());
    }
}
