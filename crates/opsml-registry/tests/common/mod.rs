use std::sync::Arc;

use chrono::Utc;
use opsml_registry::{NewExperiment, SqliteStore, Store};
use opsml_types::{new_uid, ComputeEnvironment, ExperimentCard};

/// A store in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("opsml.db")).expect("open store");
    (dir, Arc::new(store))
}

pub fn new_experiment(space: &str, name: &str) -> NewExperiment {
    NewExperiment {
        uid: new_uid(),
        space: space.to_owned(),
        name: name.to_owned(),
        tags: vec!["t1".to_owned()],
        parent_uid: None,
        compute_environment: ComputeEnvironment {
            cpu_count: 2,
            ..ComputeEnvironment::default()
        },
        opsml_version: "0.1.0".to_owned(),
        username: "tester".to_owned(),
        created_at: Utc::now(),
        lease: opsml_registry::Lease::current(),
    }
}

pub fn create(store: &dyn Store, space: &str, name: &str) -> ExperimentCard {
    store
        .create_experiment(&new_experiment(space, name))
        .expect("create experiment")
}
