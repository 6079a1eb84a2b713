//! The PostgreSQL store: the same tables and behaviour as the SQLite store, for teams that
//! share one database (directly, or behind opsml servers).

mod points;
mod schema;

use std::path::PathBuf;

use parking_lot::{Condvar, Mutex};
use postgres::{Client, NoTls};

use crate::database::Database;
use crate::error::{Result, StoreError};
use crate::sql::{PgSql, Sql};
use crate::store::ExperimentWriter;
use crate::tables::cards;
use crate::uri::TrackingUri;

/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// Connections of the pool open at once, busy or idle: a burst of requests (a server's) waits
/// for one rather than open connections until the database refuses more.
const MAX_POOLED_CONNECTIONS: usize = 32;

/// The pool's connections. Not r2d2: a `postgres::Client` panics when dropped on a thread
/// that drives a tokio runtime, and r2d2 drops connections wherever they are checked in;
/// this pool closes them on a thread of its own (`close_off_runtime`).
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
        store.with_client(|client| schema::migrate(client, &store.location))?;
        tracing::debug!(location = %store.location, "opened postgres store");
        Ok(store)
    }

    fn connect(&self) -> Result<Client> {
        Client::connect(&self.uri, NoTls).map_err(|source| StoreError::Postgres {
            location: self.location.clone(),
            source,
        })
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

    /// Runs `f` on a pooled connection; one whose database failed is not reused.
    fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut slot = Slot {
            store: self,
            client: Some(self.checkout()?),
        };
        #[allow(clippy::expect_used, reason = "a checked-out slot holds its client")]
        let client = slot
            .client
            .as_mut()
            .expect("a checked-out slot holds its client");
        let result = f(client);
        let healthy = !matches!(result, Err(StoreError::Postgres { .. })) && !client.is_closed();
        if healthy {
            let mut pool = self.pool.lock();
            if pool.idle.len() < MAX_IDLE_CONNECTIONS {
                pool.idle.extend(slot.client.take());
                drop(pool);
                self.returned.notify_one();
            }
        }
        result
    }
}

impl Database for PostgresStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        self.with_client(|client| f(&mut PgSql::new(client, &self.location)))
    }

    fn open_writer_of(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        let mut client = self.connect()?;
        if !cards::exists(&mut PgSql::new(&mut client, &self.location), uid)? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        Ok(Box::new(points::PostgresWriter::open(
            client,
            self.uri.clone(),
            self.location.clone(),
            uid.to_owned(),
        )))
    }

    fn recovery_dir(&self) -> PathBuf {
        // No place beside a database server: this machine's spool directory, a folder per
        // database so that `opsml sync` applies each file to the store that refused it.
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.location.as_bytes());
        let folder = hex::encode(&digest[..8]);
        crate::spool_dir().join("recovery").join(folder)
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        // A shared database has no local place for a key: the master key comes from
        // OPSML_ENCRYPT_SECRET.
        None
    }

    fn local_files(&self) -> Vec<PathBuf> {
        // Kept batches hold other runs' data: never captured as code.
        vec![Database::recovery_dir(self)]
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
