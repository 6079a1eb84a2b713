#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::Utc;
use opsml_store::{NewExperiment, PointRecord, PostgresStore, SqliteStore, Store, WriteBatch};
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

    /// The first column of every row a query answers, as integers.
    pub(crate) fn column(&self, sqlite: &str, postgres: &str) -> Vec<i64> {
        match self {
            Self::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("opsml.db")).unwrap();
                let mut statement = conn.prepare(sqlite).unwrap();
                statement
                    .query_map([], |row| row.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
            Self::Postgres { uri, .. } => postgres::Client::connect(uri, postgres::NoTls)
                .unwrap()
                .query(postgres, &[])
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect(),
        }
    }

    /// Makes every chunk write fail while the `fail_writes` table holds a row, as a full
    /// disk or a lost database would.
    pub(crate) fn install_write_failure(&self) {
        self.execute(
            "CREATE TABLE fail_writes (on_ INTEGER);
             CREATE TRIGGER fail_chunk_insert BEFORE INSERT ON metric_chunks
             WHEN EXISTS (SELECT 1 FROM fail_writes) BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
             CREATE TRIGGER fail_chunk_update BEFORE UPDATE ON metric_chunks
             WHEN EXISTS (SELECT 1 FROM fail_writes) BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
            "CREATE TABLE fail_writes (on_ INTEGER);
             CREATE FUNCTION fail_chunk_write() RETURNS trigger AS $$
             BEGIN
                 IF EXISTS (SELECT 1 FROM fail_writes) THEN
                     RAISE EXCEPTION 'injected failure';
                 END IF;
                 RETURN NEW;
             END $$ LANGUAGE plpgsql;
             CREATE TRIGGER fail_chunk_write BEFORE INSERT OR UPDATE ON metric_chunks
             FOR EACH ROW EXECUTE FUNCTION fail_chunk_write();",
        );
    }

    /// Turns the failure of [`install_write_failure`](Self::install_write_failure) on or off.
    pub(crate) fn fail_writes(&self, on: bool) {
        let sql = if on {
            "INSERT INTO fail_writes VALUES (1)"
        } else {
            "DELETE FROM fail_writes"
        };
        self.execute(sql, sql);
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
        lease: opsml_store::Lease::current(),
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
