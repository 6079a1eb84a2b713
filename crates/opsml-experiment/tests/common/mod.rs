#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
#![allow(dead_code)]

use std::sync::Arc;

use opsml_crypt::MasterKey;
use opsml_experiment::{Artifacts, Experiment, Result, StartOptions};
use opsml_registry::{LocalStorage, SqliteStore, Store};

/// A store in a fresh temporary directory.
pub(crate) fn temp_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("opsml.db")).unwrap();
    (dir, Arc::new(store))
}

/// The artifacts of `store`, kept under `dir/artifacts` with a fixed master key per directory.
pub(crate) fn artifacts(dir: &tempfile::TempDir, store: Arc<dyn Store>) -> Artifacts {
    let master = MasterKey::load_or_create(&dir.path().join("master.key")).unwrap();
    Artifacts::new(
        store,
        Arc::new(LocalStorage::new(dir.path().join("artifacts"))),
        Arc::new(master),
    )
}

/// Starts an experiment in `store` with artifacts under `dir`.
pub(crate) fn start(
    dir: &tempfile::TempDir,
    store: Arc<dyn Store>,
    options: StartOptions,
) -> Result<Experiment> {
    Experiment::start_with(artifacts(dir, store), options)
}
