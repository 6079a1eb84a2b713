//! The embedded SQLite store: one database file in WAL mode, shared by every
//! experiment, registry and reader of the process through a small connection pool.

mod points;
mod schema;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::Connection;

use crate::database::Database;
use crate::error::{Result, StoreError};
use crate::sql::{Sql, SqliteSql};
use crate::store::ExperimentWriter;
use crate::tables::cards;
use crate::uri::TrackingUri;

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_mins(1);
/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// A store in one SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// The pool: idle connections. Not r2d2, whose own threads open and close connections
    /// outside the fork gate that every SQLite call must pass (see `fork_gate`).
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let store = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        store.with_conn(|conn| schema::migrate(conn, path))?;
        tracing::debug!(path = %path.display(), "opened sqlite store");
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection> {
        let _inside = crate::fork_gate::sqlite_gate();
        let conn = Connection::open(&self.path).map_err(|e| self.error(e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.error(e))?;
        self.enable_wal(&conn)?;
        // FULL makes each committed flush survive power loss, not only a crash
        // of the process.
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| self.error(e))?;
        Ok(conn)
    }

    /// Switches the file to WAL, which lets readers run beside the writer. The
    /// mode is stored in the file, so this only writes once; but when several
    /// processes open a new file at once, the switch can fail with "database
    /// is locked" without waiting on the busy timeout, so it is retried.
    fn enable_wal(&self, conn: &Connection) -> Result<()> {
        let started = Instant::now();
        loop {
            let mode = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
            match mode {
                Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
                Ok(mode) => {
                    // Some file systems cannot hold a WAL; the store still works, serialised.
                    tracing::warn!(path = %self.path.display(), %mode, "store is not in WAL mode");
                    return Ok(());
                }
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(self.error(e)),
            }
        }
    }

    /// Runs `f` on a pooled connection; one left inside a transaction is not reused.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let _inside = crate::fork_gate::sqlite_gate();
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = f(&mut conn);
        if result.is_ok() || conn.is_autocommit() {
            let mut idle = self.idle.lock();
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
        result
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

impl Database for SqliteStore {
    fn location(&self) -> String {
        // Paths are absolute, so this reads sqlite:///path/to/opsml.db.
        format!("sqlite://{}", self.path.display())
    }

    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        self.with_conn(|conn| f(&mut SqliteSql::new(conn, &self.path)))
    }

    fn open_writer_of(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        let conn = self.connect()?;
        if !cards::exists(&mut SqliteSql::new(&conn, &self.path), uid)? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        Ok(Box::new(points::SqliteWriter::open(
            conn,
            self.path.clone(),
            uid.to_owned(),
        )))
    }

    fn recovery_dir(&self) -> PathBuf {
        // Beside the store file: `opsml.db` keeps them in `opsml.db.recovery/`.
        let mut name = self.path.clone().into_os_string();
        name.push(".recovery");
        PathBuf::from(name)
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        Some(self.path.with_extension("key"))
    }

    fn local_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone(), self.path.with_extension("key")];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            files.push(name.into());
        }
        // Kept batches hold other runs' data: never captured as code.
        files.push(Database::recovery_dir(self));
        files
    }

    fn tracking_uri(&self) -> TrackingUri {
        TrackingUri::Sqlite(self.path.clone())
    }
}
