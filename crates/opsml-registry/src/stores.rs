use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use chrono::Utc;

use opsml_process::fork_generation;
use opsml_storage::{ArtifactStorage, StorageUri};
use opsml_store::{
    AccountStore, Lease, PostgresStore, SqliteStore, Store, StoreError, TrackingUri, STALE_AFTER,
};

use crate::error::{RegistryError, Result};

/// One store per location per process: every registry, experiment and reader
/// shares its connection pool, and migrations run once. A forked child opens
/// its own (the parent's entries stay, unused: closing the parent's
/// connections in the child would upset SQLite).
type StoreCache = HashMap<(u64, TrackingUri), CachedStore>;
static STORES: OnceLock<Mutex<StoreCache>> = OnceLock::new();

/// How often a process looks again for experiments whose process died: a run killed after
/// this process opened the store must not stay `running` for it.
const DEAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

struct CachedStore {
    store: Arc<dyn Store>,
    /// When dead experiments were last looked for.
    checked: Instant,
}

/// Forgets the parent's stores in a forked child.
pub(crate) fn reset_after_fork() {
    if let Some(stores) = STORES.get() {
        opsml_process::reset_after_fork(stores);
    }
}

/// The store at `uri`, opened on first use.
pub fn open_store(uri: &TrackingUri) -> Result<Arc<dyn Store>> {
    let mut stores = STORES.get_or_init(Mutex::default).lock();
    let key = (fork_generation(), uri.clone());
    if let Some(cached) = stores.get_mut(&key) {
        let store = Arc::clone(&cached.store);
        if cached.checked.elapsed() >= DEAD_CHECK_INTERVAL {
            cached.checked = Instant::now();
            drop(stores);
            check_for_dead(store.as_ref());
        }
        return Ok(store);
    }
    let store: Arc<dyn Store> = match uri {
        TrackingUri::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        TrackingUri::Postgres(uri) => Arc::new(PostgresStore::open(uri)?),
        TrackingUri::Http(base) => open_server(base)?,
    };
    stores.insert(
        key,
        CachedStore {
            store: Arc::clone(&store),
            checked: Instant::now(),
        },
    );
    drop(stores);
    check_for_dead(store.as_ref());
    Ok(store)
}

/// The opsml server at `base`, through its HTTP client.
#[cfg(feature = "remote")]
fn open_server(base: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(opsml_client::HttpStore::open(base)?))
}

/// A build without the HTTP client (an opsml server's own) cannot reach another server.
#[cfg(not(feature = "remote"))]
fn open_server(base: &str) -> Result<Arc<dyn Store>> {
    Err(StoreError::UnsupportedBackend {
        what: "tracking",
        uri: base.to_owned(),
        backend: "http client",
    }
    .into())
}

fn check_for_dead(store: &dyn Store) {
    match mark_dead_experiments_killed(store) {
        Ok(_) => {}
        // A server that refuses these credentials refuses the caller's own request next,
        // with the same message: saying it twice only buries it.
        Err(RegistryError::Store(StoreError::Server {
            status: 401 | 403, ..
        })) => tracing::debug!("no permission to look for experiments whose process died"),
        Err(e) => tracing::warn!(error = %e, "checking for experiments whose process died failed"),
    }
}

/// Marks killed every running experiment whose process is gone: checked
/// directly on this host, through a heartbeat older than [`STALE_AFTER`]
/// elsewhere. Their data stays; they can be resumed.
pub fn mark_dead_experiments_killed(store: &dyn Store) -> Result<Vec<String>> {
    let stale_before = Utc::now() - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default();
    let mut killed = Vec::new();
    for running in store.running_experiments()? {
        let holder_alive = match running.lease.as_ref().and_then(Lease::is_alive) {
            Some(alive) => alive,
            None => running.heartbeat_at.is_some_and(|t| t > stale_before),
        };
        // Ranks that resumed the experiment and forked children write to it too: it is
        // alive while any of them is, whoever holds the lease.
        let alive = holder_alive
            || running.writers.iter().any(|w| match w.lease.is_alive() {
                Some(alive) => alive,
                None => w.heartbeat_at > stale_before,
            });
        if !alive && store.mark_killed(&running)? {
            tracing::info!(uid = %running.uid, "experiment's process is gone; marked killed");
            killed.push(running.uid);
        }
    }
    Ok(killed)
}

/// The users, grants and tokens kept by the database at `uri` (an opsml server's), through
/// connections of their own.
pub fn open_account_store(uri: &TrackingUri) -> Result<Arc<dyn AccountStore>> {
    Ok(match uri {
        TrackingUri::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        TrackingUri::Postgres(uri) => Arc::new(PostgresStore::open(uri)?),
        TrackingUri::Http(base) => {
            return Err(StoreError::InvalidUri {
                what: "tracking",
                uri: base.clone(),
                reason: "a server keeps its accounts in its own database; \
                         give it a sqlite:// or postgres:// uri"
                    .to_owned(),
            }
            .into())
        }
    })
}

/// The store named by `OPSML_TRACKING_URI` (default `sqlite:///<cwd>/opsml.db`).
pub fn default_store() -> Result<Arc<dyn Store>> {
    open_store(&TrackingUri::from_env()?)
}

/// The same store through this process's own connections: a forked child must not use the
/// connections it inherited from its parent.
pub fn reopen(store: &dyn Store) -> Result<Arc<dyn Store>> {
    open_store(&store.tracking_uri())
}

/// Where the artifact objects of `store` are kept: a server's own storage, or for stores
/// reached directly the storage of `OPSML_STORAGE_URI`.
pub fn artifact_storage(store: &dyn Store) -> Result<Arc<dyn ArtifactStorage>> {
    match store.own_artifact_storage() {
        Some(storage) => Ok(storage),
        None => Ok(StorageUri::from_env()?.open()?.into()),
    }
}
