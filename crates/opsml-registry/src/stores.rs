use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::{Result, SqliteStore, Store, TrackingUri};

/// One store per location per process: every registry, experiment and reader
/// shares its connection pool, and migrations run once.
static STORES: OnceLock<Mutex<HashMap<TrackingUri, Arc<dyn Store>>>> = OnceLock::new();

/// The store at `uri`, opened on first use.
pub fn open_store(uri: &TrackingUri) -> Result<Arc<dyn Store>> {
    let mut stores = STORES.get_or_init(Mutex::default).lock();
    if let Some(store) = stores.get(uri) {
        return Ok(Arc::clone(store));
    }
    let store: Arc<dyn Store> = match uri {
        TrackingUri::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
    };
    stores.insert(uri.clone(), Arc::clone(&store));
    Ok(store)
}

/// The store named by `OPSML_TRACKING_URI` (default `sqlite:///<cwd>/opsml.db`).
pub fn default_store() -> Result<Arc<dyn Store>> {
    open_store(&TrackingUri::from_env()?)
}
