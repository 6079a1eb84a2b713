#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::Utc;
use opsml_registry::{NewExperiment, PointRecord, PostgresStore, SqliteStore, Store, WriteBatch};
use opsml_types::{new_uid, ComputeEnvironment, ExperimentCard};

/// The backend the store tests run on: `OPSML_TEST_STORE=postgres` runs them on a fresh
/// schema of the database at `OPSML_TEST_POSTGRES_URI`; the default is a SQLite file.
pub(crate) enum TestStore {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_uri: String,
        uri: String,
        schema: String,
    },
}

impl TestStore {
    /// Another store on the same data, with connections of its own (as another process).
    pub(crate) fn open_again(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(dir) => Arc::new(SqliteStore::open(&dir.path().join("opsml.db")).unwrap()),
            Self::Postgres { uri, .. } => Arc::new(PostgresStore::open(uri).unwrap()),
        }
    }

    /// Runs SQL behind the store's back: `sqlite` on a SQLite store, `postgres` on PostgreSQL.
    pub(crate) fn execute(&self, sqlite: &str, postgres: &str) {
        match self {
            Self::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("opsml.db"))
                .unwrap()
                .execute_batch(sqlite)
                .unwrap(),
            Self::Postgres { uri, .. } => postgres::Client::connect(uri, postgres::NoTls)
                .unwrap()
                .batch_execute(postgres)
                .unwrap(),
        }
    }

    /// Sets an experiment's heartbeat behind the store's back, as a process that stopped
    /// beating long ago would have left it.
    pub(crate) fn set_heartbeat(&self, uid: &str, micros: i64) {
        let sql = format!("UPDATE experiments SET heartbeat_at = {micros} WHERE uid = '{uid}'");
        self.execute(&sql, &sql);
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_uri, schema, ..
        } = self
        {
            if let Ok(mut client) = postgres::Client::connect(admin_uri, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

/// Whether the store tests run on PostgreSQL.
pub(crate) fn on_postgres() -> bool {
    std::env::var("OPSML_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The database of `OPSML_TEST_POSTGRES_URI`; `None` (after saying so) when it is not set,
/// unless `OPSML_REQUIRE_SERVICES=1` asks for every service, which makes it a failure.
#[allow(clippy::print_stderr)] // a skipped test says why in its output
pub(crate) fn postgres_uri() -> Option<String> {
    match std::env::var("OPSML_TEST_POSTGRES_URI") {
        Ok(uri) if !uri.is_empty() => Some(uri),
        _ => {
            assert!(
                std::env::var("OPSML_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
                "OPSML_REQUIRE_SERVICES=1 but OPSML_TEST_POSTGRES_URI is not set \
                 (scripts/start-postgres.sh prints it)"
            );
            eprintln!("skipped: OPSML_TEST_POSTGRES_URI is not set (scripts/start-postgres.sh)");
            None
        }
    }
}

/// A fresh schema of the test database, and the URI of a store on it.
pub(crate) fn postgres_schema(admin_uri: &str) -> TestStore {
    let schema = format!("t_{}", new_uid().replace('-', ""));
    postgres::Client::connect(admin_uri, postgres::NoTls)
        .expect("connect to the test database")
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let separator = if admin_uri.contains('?') { '&' } else { '?' };
    let uri = format!("{admin_uri}{separator}options=-c%20search_path%3D{schema}");
    TestStore::Postgres {
        admin_uri: admin_uri.to_owned(),
        uri,
        schema,
    }
}

/// A store in a fresh place of the backend under test (kept alive by the returned guard).
pub(crate) fn temp_store() -> (TestStore, Arc<dyn Store>) {
    if on_postgres() {
        let admin_uri = std::env::var("OPSML_TEST_POSTGRES_URI")
            .expect("OPSML_TEST_STORE=postgres needs OPSML_TEST_POSTGRES_URI");
        let test_store = postgres_schema(&admin_uri);
        let store = test_store.open_again();
        return (test_store, store);
    }
    let (dir, store) = temp_sqlite_store();
    (TestStore::Sqlite(dir), store)
}

/// A SQLite store in a fresh temporary directory, for tests of SQLite itself.
pub(crate) fn temp_sqlite_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("opsml.db")).expect("open store");
    (dir, Arc::new(store))
}

pub(crate) fn new_experiment(space: &str, name: &str) -> NewExperiment {
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

pub(crate) fn create(store: &dyn Store, space: &str, name: &str) -> ExperimentCard {
    store
        .create_experiment(&new_experiment(space, name))
        .expect("create experiment")
}

/// A batch of `points` alone.
pub(crate) fn batch<'a>(names: &'a [String], points: &'a [PointRecord]) -> WriteBatch<'a> {
    WriteBatch {
        names,
        points,
        parameters: &[],
        hardware: &[],
    }
}
