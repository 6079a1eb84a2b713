//! The embedded SQLite store: one database file in WAL mode, shared by every
//! experiment, registry and reader of the process through a small connection pool.

mod accounts;
mod append;
mod artifacts;
mod cards;
mod points;
mod schema;
mod search;
mod summaries;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use opsml_query::Dialect;
use opsml_types::{
    ArtifactRecord, CardRecord, ExperimentCard, ExperimentMetadata, HardwareSample, MetricColumns,
    MetricSummary, Parameter, Status, Version,
};
use parking_lot::Mutex;
use rusqlite::Connection;

use crate::append::RemoteWriter;
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::statements;
use crate::store::{
    CardQuery, ExperimentWriter, NewExperiment, RunningExperiment, SearchQuery, Store, TableCells,
    WriteBatch,
};
use crate::stored::corrupt;
use crate::uri::TrackingUri;

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_mins(1);
/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// A store in one SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
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
        store.with_conn(schema::migrate)?;
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

    /// Runs `f` on a pooled connection.
    pub(crate) fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let _inside = crate::fork_gate::sqlite_gate();
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = f(&mut conn).map_err(|e| self.error(e));
        if result.is_ok() || conn.is_autocommit() {
            let mut idle = self.idle.lock();
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
        result
    }

    /// `f` on a connection, once experiment `uid` is known to exist.
    fn with_experiment<T>(
        &self,
        uid: &str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<Result<T>>,
    ) -> Result<T> {
        self.with_conn(|conn| {
            if !cards::exists(conn, uid)? {
                return Ok(Err(StoreError::ExperimentNotFound(uid.to_owned())));
            }
            f(conn)
        })?
    }

    pub(crate) fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        // Paths are absolute, so this reads sqlite:///path/to/opsml.db.
        format!("sqlite://{}", self.path.display())
    }

    fn recovery_dir(&self) -> Option<PathBuf> {
        // Beside the store file: `opsml.db` keeps them in `opsml.db.recovery/`.
        let mut name = self.path.clone().into_os_string();
        name.push(".recovery");
        Some(PathBuf::from(name))
    }

    fn create_experiment(&self, new: &NewExperiment) -> Result<ExperimentCard> {
        for _ in 0..cards::VERSION_ATTEMPTS {
            match self.with_conn(|conn| cards::create(conn, new))? {
                cards::Created::Card(card) => return Ok(*card),
                cards::Created::VersionTaken => {
                    tracing::debug!(space = %new.space, name = %new.name, "version taken, retrying");
                }
            }
        }
        Err(StoreError::VersionContention {
            space: new.space.clone(),
            name: new.name.clone(),
            attempts: cards::VERSION_ATTEMPTS,
        })
    }

    fn get_experiment(&self, uid: &str) -> Result<Option<ExperimentCard>> {
        self.with_conn(|conn| cards::get(conn, uid))
    }

    fn find_experiment(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<ExperimentCard>> {
        self.with_conn(|conn| cards::find(conn, space, name, version))
    }

    fn list_experiments(&self, query: &CardQuery) -> Result<Vec<CardRecord>> {
        self.with_conn(|conn| {
            search::records(conn, &statements::list_cards(query, Dialect::Sqlite))
        })
    }

    fn update_experiment(&self, card: &ExperimentCard) -> Result<()> {
        match self.with_conn(|conn| cards::update(conn, card))? {
            0 => Err(StoreError::ExperimentNotFound(card.uid.clone())),
            _ => Ok(()),
        }
    }

    fn claim(&self, uid: &str, lease: &Lease) -> Result<()> {
        match self.with_conn(|conn| cards::claim(conn, uid, lease))? {
            0 => Err(StoreError::ExperimentNotFound(uid.to_owned())),
            _ => Ok(()),
        }
    }

    fn search_experiments(&self, query: &SearchQuery) -> Result<Vec<CardRecord>> {
        self.with_conn(|conn| {
            search::records(conn, &statements::search_cards(query, Dialect::Sqlite))
        })
    }

    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        self.with_experiment(uid, |conn| Ok(Ok(summaries::read(conn, uid)?)))
    }

    fn table_cells(&self, uids: &[String]) -> Result<TableCells> {
        let mut table = TableCells::new(uids);
        let json = serde_json::Value::from(uids.to_vec()).to_string();
        self.with_conn(|conn| {
            let experiments: usize =
                conn.query_row("SELECT count(*) FROM experiments", [], |row| {
                    row.get::<_, i64>(0)
                        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
                })?;
            // Reading a table through is about three times faster a row than looking each run
            // up: done when the table asks for a good part of the store's runs anyway.
            let wanted = (uids.len().saturating_mul(4) < experiments).then_some(json.as_str());
            if let Err(corrupt) = points::read_parameters_many(conn, wanted, &mut table)? {
                return Ok(Err(StoreError::Corrupt(corrupt)));
            }
            summaries::read_many(conn, wanted, &mut table)?;
            Ok(Ok(()))
        })??;
        Ok(table)
    }

    fn running_experiments(&self) -> Result<Vec<RunningExperiment>> {
        self.with_conn(|conn| cards::running(conn))
    }

    fn mark_killed(&self, running: &RunningExperiment) -> Result<bool> {
        self.with_conn(|conn| cards::mark_killed(conn, running))
    }

    fn set_status(&self, uid: &str, status: Status, ended_at: Option<DateTime<Utc>>) -> Result<()> {
        match self.with_conn(|conn| cards::set_status(conn, uid, status, ended_at))? {
            0 => Err(StoreError::ExperimentNotFound(uid.to_owned())),
            _ => Ok(()),
        }
    }

    fn delete_experiment(&self, uid: &str) -> Result<bool> {
        self.with_conn(|conn| cards::delete(conn, uid))
    }

    fn open_writer(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        let conn = self.connect()?;
        if !cards::exists(&conn, uid).map_err(|e| self.error(e))? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        Ok(Box::new(points::SqliteWriter::open(
            conn,
            self.path.clone(),
            uid.to_owned(),
        )))
    }

    fn append_batch(
        &self,
        uid: &str,
        writer: &RemoteWriter,
        batch: &WriteBatch<'_>,
    ) -> Result<bool> {
        self.with_experiment(uid, |conn| append::append(conn, uid, writer, batch))
    }

    fn read_metrics(&self, uid: &str, names: Option<&[String]>) -> Result<MetricColumns> {
        self.with_experiment(uid, |conn| {
            Ok(corrupt(points::read_metrics(conn, uid, names)?))
        })
    }

    fn read_parameters(&self, uid: &str, names: Option<&[String]>) -> Result<Vec<Parameter>> {
        self.with_experiment(uid, |conn| {
            Ok(corrupt(points::read_parameters(conn, uid, names)?))
        })
    }

    fn read_hardware(&self, uid: &str) -> Result<Vec<HardwareSample>> {
        self.with_experiment(uid, |conn| Ok(corrupt(points::read_hardware(conn, uid)?)))
    }

    fn set_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()> {
        match self.with_conn(|conn| cards::set_metadata(conn, uid, metadata))? {
            0 => Err(StoreError::ExperimentNotFound(uid.to_owned())),
            _ => Ok(()),
        }
    }

    fn wrapped_data_key(&self, uid: &str) -> Result<Option<Vec<u8>>> {
        self.with_conn(|conn| artifacts::wrapped_key(conn, uid))
    }

    fn holds_wrapped_keys(&self) -> Result<bool> {
        self.with_conn(|conn| {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM experiment_keys)", [], |row| {
                row.get(0)
            })
        })
    }

    fn insert_wrapped_data_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        self.with_conn(|conn| artifacts::insert_wrapped_key(conn, uid, wrapped))
    }

    fn put_artifacts(&self, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>> {
        self.with_conn(|conn| artifacts::put(conn, uid, records))
    }

    fn list_artifacts(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        self.with_experiment(uid, |conn| Ok(Ok(artifacts::list(conn, uid, prefix)?)))
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        Some(self.path.with_extension("key"))
    }

    fn tracking_uri(&self) -> TrackingUri {
        TrackingUri::Sqlite(self.path.clone())
    }

    fn local_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone(), self.path.with_extension("key")];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            files.push(name.into());
        }
        // Kept batches hold other runs' data: never captured as code.
        files.extend(self.recovery_dir());
        files
    }
}

/// The text in column `index` of `row`, borrowed from the row (no copy is made).
fn text_at<'row>(row: &'row rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'row str> {
    row.get_ref(index)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
