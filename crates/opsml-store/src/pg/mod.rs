//! The PostgreSQL store: the same tables and behaviour as the SQLite store, for teams that
//! share one database (directly, or behind opsml servers).

mod accounts;
mod append;
mod artifacts;
mod cards;
mod points;
mod schema;
mod search;
mod summaries;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use opsml_query::Dialect;
use opsml_types::{
    ArtifactRecord, CardRecord, ExperimentCard, ExperimentMetadata, HardwareSample, MetricColumns,
    MetricSummary, Parameter, Status, Version,
};
use parking_lot::{Condvar, Mutex};
use postgres::{Client, NoTls};

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

/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// Connections of the pool open at once, busy or idle: a burst of requests (a server's) waits
/// for one rather than open connections until the database refuses more.
const MAX_POOLED_CONNECTIONS: usize = 32;

/// The pool's connections.
#[derive(Default)]
struct Pool {
    idle: Vec<Client>,
    /// Connections open, idle ones included.
    open: usize,
}

/// A connection taken from the pool. One not given back (failed, a full idle list, a panic
/// in the work done on it) is closed and its place in the pool freed.
struct Slot<'a> {
    store: &'a PostgresStore,
    client: Option<Client>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(client);
            self.store.forget_one();
        }
    }
}

/// A store in one PostgreSQL database.
pub struct PostgresStore {
    uri: String,
    location: String,
    pool: Mutex<Pool>,
    /// Signalled when a connection is returned or closed.
    returned: Condvar,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Closes connections on a thread of their own: closing blocks on the client's own runtime,
/// which panics on a thread that drives another runtime (an async server, a writer task).
pub(super) fn close_off_runtime(clients: Vec<Client>) {
    if clients.is_empty() {
        return;
    }
    let closing = std::thread::Builder::new()
        .name("opsml-pg-close".into())
        .spawn(move || drop(clients));
    match closing {
        Ok(handle) => {
            let _ = handle.join();
        }
        Err(e) => tracing::warn!(error = %e, "could not close postgres connections"),
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        close_off_runtime(std::mem::take(&mut self.pool.lock().idle));
    }
}

/// The URI without its password, for messages.
fn redacted(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => uri.to_owned(),
    }
}

impl PostgresStore {
    /// Connects to the database at `uri` and brings its schema up to date.
    pub fn open(uri: &str) -> Result<Self> {
        let store = Self {
            uri: uri.to_owned(),
            location: redacted(uri),
            pool: Mutex::new(Pool::default()),
            returned: Condvar::new(),
        };
        store.with_client(schema::migrate)?;
        tracing::debug!(location = %store.location, "opened postgres store");
        Ok(store)
    }

    fn connect(&self) -> Result<Client> {
        Client::connect(&self.uri, NoTls).map_err(|e| self.error(e))
    }

    /// An idle connection, or a new one while fewer than [`MAX_POOLED_CONNECTIONS`] are
    /// open; otherwise waits for one to be returned.
    fn checkout(&self) -> Result<Client> {
        let mut pool = self.pool.lock();
        loop {
            while let Some(client) = pool.idle.pop() {
                if !client.is_closed() {
                    return Ok(client);
                }
                pool.open -= 1;
            }
            if pool.open < MAX_POOLED_CONNECTIONS {
                pool.open += 1;
                break;
            }
            self.returned.wait(&mut pool);
        }
        drop(pool);
        self.connect().inspect_err(|_| self.forget_one())
    }

    /// Counts a connection of the pool as closed.
    fn forget_one(&self) {
        self.pool.lock().open -= 1;
        self.returned.notify_one();
    }

    /// Runs `f` on a pooled connection; a connection that failed is not reused.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut slot = Slot {
            store: self,
            client: Some(self.checkout()?),
        };
        #[allow(clippy::expect_used, reason = "a checked-out slot holds its client")]
        let client = slot
            .client
            .as_mut()
            .expect("a checked-out slot holds its client");
        let result = f(client).map_err(|e| self.error(e));
        if result.is_ok() {
            let mut pool = self.pool.lock();
            if pool.idle.len() < MAX_IDLE_CONNECTIONS {
                pool.idle.extend(slot.client.take());
                drop(pool);
                self.returned.notify_one();
            }
        }
        result
    }

    fn error(&self, source: postgres::Error) -> StoreError {
        StoreError::Postgres {
            location: self.location.clone(),
            source,
        }
    }

    /// Runs `f` on a pooled connection, after checking that experiment `uid` exists.
    fn with_experiment<T>(
        &self,
        uid: &str,
        f: impl FnOnce(&mut Client) -> std::result::Result<Result<T>, postgres::Error>,
    ) -> Result<T> {
        self.with_client(|client| {
            if !cards::exists(client, uid)? {
                return Ok(Err(StoreError::ExperimentNotFound(uid.to_owned())));
            }
            f(client)
        })?
    }
}

/// Fails with "not found" when an update touched no row.
fn changed(count: u64, uid: &str) -> Result<()> {
    if count == 0 {
        Err(StoreError::ExperimentNotFound(uid.to_owned()))
    } else {
        Ok(())
    }
}

impl Store for PostgresStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn recovery_dir(&self) -> Option<PathBuf> {
        // No place beside a database server: this machine's spool directory, a folder per
        // database so that `opsml sync` applies each file to the store that refused it.
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.location.as_bytes());
        let folder = hex::encode(&digest[..8]);
        Some(crate::spool_dir().join("recovery").join(folder))
    }

    fn create_experiment(&self, new: &NewExperiment) -> Result<ExperimentCard> {
        self.with_client(|client| cards::create(client, new))
    }

    fn get_experiment(&self, uid: &str) -> Result<Option<ExperimentCard>> {
        self.with_client(|client| cards::get(client, uid))?
            .transpose()
            .map_err(StoreError::Corrupt)
    }

    fn find_experiment(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<ExperimentCard>> {
        self.with_client(|client| cards::find(client, space, name, version))?
            .transpose()
            .map_err(StoreError::Corrupt)
    }

    fn list_experiments(&self, query: &CardQuery) -> Result<Vec<CardRecord>> {
        self.with_client(|client| {
            search::records(client, &statements::list_cards(query, Dialect::Postgres))
        })?
        .map_err(StoreError::Corrupt)
    }

    fn update_experiment(&self, card: &ExperimentCard) -> Result<()> {
        changed(
            self.with_client(|client| cards::update(client, card))?,
            &card.uid,
        )
    }

    fn claim(&self, uid: &str, lease: &Lease) -> Result<()> {
        changed(
            self.with_client(|client| cards::claim(client, uid, lease))?,
            uid,
        )
    }

    fn search_experiments(&self, query: &SearchQuery) -> Result<Vec<CardRecord>> {
        self.with_client(|client| {
            search::records(client, &statements::search_cards(query, Dialect::Postgres))
        })?
        .map_err(StoreError::Corrupt)
    }

    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        self.with_experiment(uid, |client| Ok(Ok(summaries::read(client, uid)?)))
    }

    fn table_cells(&self, uids: &[String]) -> Result<TableCells> {
        let mut table = TableCells::new(uids);
        self.with_client(|client| {
            if let Err(corrupt) = points::read_parameters_many(client, uids, &mut table)? {
                return Ok(Err(StoreError::Corrupt(corrupt)));
            }
            summaries::read_many(client, uids, &mut table)?;
            Ok(Ok(()))
        })??;
        Ok(table)
    }

    fn running_experiments(&self) -> Result<Vec<RunningExperiment>> {
        self.with_client(cards::running)
    }

    fn mark_killed(&self, running: &RunningExperiment) -> Result<bool> {
        self.with_client(|client| cards::mark_killed(client, running))
    }

    fn set_status(&self, uid: &str, status: Status, ended_at: Option<DateTime<Utc>>) -> Result<()> {
        changed(
            self.with_client(|client| cards::set_status(client, uid, status, ended_at))?,
            uid,
        )
    }

    fn delete_experiment(&self, uid: &str) -> Result<bool> {
        self.with_client(|client| cards::delete(client, uid))
    }

    fn open_writer(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        let mut client = self.connect()?;
        if !cards::exists(&mut client, uid).map_err(|e| self.error(e))? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        Ok(Box::new(points::PostgresWriter::open(
            client,
            self.uri.clone(),
            self.location.clone(),
            uid.to_owned(),
        )))
    }

    fn append_batch(
        &self,
        uid: &str,
        writer: &RemoteWriter,
        batch: &WriteBatch<'_>,
    ) -> Result<bool> {
        self.with_experiment(uid, |client| append::append(client, uid, writer, batch))
    }

    fn read_metrics(&self, uid: &str, names: Option<&[String]>) -> Result<MetricColumns> {
        self.with_experiment(uid, |client| {
            Ok(corrupt(points::read_metrics(client, uid, names)?))
        })
    }

    fn read_parameters(&self, uid: &str, names: Option<&[String]>) -> Result<Vec<Parameter>> {
        self.with_experiment(uid, |client| {
            Ok(corrupt(points::read_parameters(client, uid, names)?))
        })
    }

    fn read_hardware(&self, uid: &str) -> Result<Vec<HardwareSample>> {
        self.with_experiment(uid, |client| {
            Ok(corrupt(points::read_hardware(client, uid)?))
        })
    }

    fn set_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()> {
        changed(
            self.with_client(|client| cards::set_metadata(client, uid, metadata))?,
            uid,
        )
    }

    fn wrapped_data_key(&self, uid: &str) -> Result<Option<Vec<u8>>> {
        self.with_client(|client| artifacts::wrapped_key(client, uid))
    }

    fn holds_wrapped_keys(&self) -> Result<bool> {
        self.with_client(|client| {
            client
                .query_one("SELECT EXISTS (SELECT 1 FROM experiment_keys)", &[])
                .map(|row| row.get(0))
        })
    }

    fn insert_wrapped_data_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        self.with_client(|client| artifacts::insert_wrapped_key(client, uid, wrapped))
    }

    fn put_artifacts(&self, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>> {
        self.with_client(|client| artifacts::put(client, uid, records))
    }

    fn list_artifacts(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        self.with_experiment(uid, |client| Ok(Ok(artifacts::list(client, uid, prefix)?)))
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        // A shared database has no local place for a key: the master key comes from
        // OPSML_ENCRYPT_SECRET.
        None
    }

    fn local_files(&self) -> Vec<PathBuf> {
        // Kept batches hold other runs' data: never captured as code.
        self.recovery_dir().into_iter().collect()
    }

    fn tracking_uri(&self) -> TrackingUri {
        TrackingUri::Postgres(self.uri.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn locations_never_show_the_password() {
        assert_eq!(
            redacted("postgres://opsml:s3cret@db:5432/runs"),
            "postgres://opsml@db:5432/runs"
        );
        assert_eq!(redacted("postgres://db/runs"), "postgres://db/runs");
    }
}
