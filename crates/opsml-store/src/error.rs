use std::path::PathBuf;

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

/// Errors of a store: a database, or a server reached over HTTP.
#[derive(Debug, Error)]
pub enum StoreError {
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
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    LocalIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A store's failure met by a storage (the client of a server uploading objects) travels
/// inside the storage's error unchanged.
impl From<StoreError> for opsml_storage::StorageError {
    fn from(error: StoreError) -> Self {
        Self::Backend(Box::new(error))
    }
}

impl StoreError {
    /// Whether the same request may succeed later, unchanged: the store was busy, out of
    /// reach, restarting or out of room. A refusal that retrying cannot cure (a constraint, a
    /// value the store cannot hold, a moved store file, a bug in our bookkeeping) is not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Sqlite { source, .. } => sqlite_transient(source),
            Self::Postgres { source, .. } => postgres_transient(source),
            Self::Unreachable { .. } | Self::LocalIo { .. } => true,
            Self::Server { status, .. } => matches!(status, 408 | 429) || *status >= 500,
            _ => false,
        }
    }
}

impl StoreError {
    /// The store's failure that a storage carried back (the client of a server uploading
    /// objects meets the server's answers), or the storage's own error when it is not one.
    pub fn from_storage(
        error: opsml_storage::StorageError,
    ) -> std::result::Result<Self, opsml_storage::StorageError> {
        match error {
            opsml_storage::StorageError::Backend(inner) => inner
                .downcast::<Self>()
                .map(|store| *store)
                .map_err(opsml_storage::StorageError::Backend),
            other => Err(other),
        }
    }

    /// Whether a unique constraint refused the write: another writer got there first.
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite { source, .. } => source
                .sqlite_error()
                .is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE),
            Self::Postgres { source, .. } => {
                source.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            }
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

    fn sqlite(code: std::ffi::c_int) -> StoreError {
        StoreError::Sqlite {
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
        let moved = StoreError::StoreMoved {
            path: PathBuf::from("/tmp/opsml.db"),
        };
        assert!(!moved.is_transient());
        let server = |status| StoreError::Server {
            url: "http://127.0.0.1:1".into(),
            status,
            code: "x".into(),
            message: "x".into(),
        };
        assert!(server(503).is_transient() && server(429).is_transient());
        assert!(!server(400).is_transient() && !server(409).is_transient());
    }
}
