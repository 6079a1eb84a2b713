#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use opsml_registry::{
    Access, AccountStore, ArtifactStorage, LocalStorage, PostgresStore, SqliteStore, Store,
};
use opsml_server::{AppState, ServeLimits};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};

pub(crate) const ADMIN: &str = "root";
pub(crate) const ADMIN_PASSWORD: &str = "admin password";

/// A server on a free loopback port with a SQLite store in a temporary directory (or a
/// PostgreSQL schema of its own) and a first admin, serving until the test ends (or
/// [`Server::stop`]).
pub(crate) struct Server {
    pub base: String,
    address: std::net::SocketAddr,
    pub store: Arc<dyn Store>,
    pub accounts: Arc<dyn AccountStore>,
    pub storage: Arc<dyn ArtifactStorage>,
    admin_token: String,
    dir: tempfile::TempDir,
    limits: ServeLimits,
    runtime: Option<tokio::runtime::Runtime>,
    /// Dropped after the store and the runtime (fields drop in order of declaration).
    _schema: Option<Schema>,
}

impl Server {
    pub(crate) fn start() -> Self {
        Self::start_with(ServeLimits::default())
    }

    /// A server on SQLite within `limits`.
    pub(crate) fn start_with(limits: ServeLimits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalStorage::new(dir.path().join("objects")));
        let sqlite = Arc::new(SqliteStore::open(&dir.path().join("opsml.db")).unwrap());
        Self::start_in(dir, storage, (sqlite.clone(), sqlite), limits, None)
    }

    /// A server whose artifact objects go to `storage`.
    pub(crate) fn start_on(storage: Arc<dyn ArtifactStorage>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Arc::new(SqliteStore::open(&dir.path().join("opsml.db")).unwrap());
        Self::start_in(
            dir,
            storage,
            (sqlite.clone(), sqlite),
            ServeLimits::default(),
            None,
        )
    }

    /// A server on a fresh schema of the PostgreSQL database at `OPSML_TEST_POSTGRES_URI`;
    /// `None` (after saying so) when it is not set.
    pub(crate) fn start_postgres() -> Option<Self> {
        let schema = Schema::create(&postgres_uri()?);
        let postgres = Arc::new(PostgresStore::open(&schema.uri).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalStorage::new(dir.path().join("objects")));
        Some(Self::start_in(
            dir,
            storage,
            (postgres.clone(), postgres),
            ServeLimits::default(),
            Some(schema),
        ))
    }

    fn start_in(
        dir: tempfile::TempDir,
        storage: Arc<dyn ArtifactStorage>,
        (store, accounts): (Arc<dyn Store>, Arc<dyn AccountStore>),
        limits: ServeLimits,
        schema: Option<Schema>,
    ) -> Self {
        opsml_server::bootstrap_admin(accounts.as_ref(), ADMIN, ADMIN_PASSWORD).unwrap();
        let mut server = Self {
            base: String::new(),
            address: "127.0.0.1:0".parse().unwrap(),
            store,
            accounts,
            storage,
            admin_token: String::new(),
            dir,
            limits,
            runtime: None,
            _schema: schema,
        };
        server.serve();
        server.admin_token = server.token(ADMIN, ADMIN_PASSWORD);
        server
    }

    /// Another server on the same store, accounts and storage, with caches of its own: a
    /// second server process on the same database, as far as clients can tell.
    pub(crate) fn beside(&self) -> Self {
        let mut server = Self {
            base: String::new(),
            address: "127.0.0.1:0".parse().unwrap(),
            store: Arc::clone(&self.store),
            accounts: Arc::clone(&self.accounts),
            storage: Arc::clone(&self.storage),
            admin_token: String::new(),
            dir: tempfile::tempdir().unwrap(),
            limits: self.limits,
            runtime: None,
            _schema: None,
        };
        server.serve();
        server.admin_token = server.token(ADMIN, ADMIN_PASSWORD);
        server
    }

    /// Serves on the server's address (a free port the first time, the same one after).
    fn serve(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(self.address))
            .unwrap();
        self.address = listener.local_addr().unwrap();
        self.base = format!("http://{}", self.address);
        runtime.spawn(opsml_server::serve_with(
            listener,
            AppState::new(
                Arc::clone(&self.store),
                Arc::clone(&self.accounts),
                Arc::clone(&self.storage),
            ),
            self.limits,
            std::future::pending(),
        ));
        self.runtime = Some(runtime);
    }

    /// Stops serving at once, as a crash would: connections drop, the port closes.
    pub(crate) fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Serves again on the same port and store.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.serve();
    }

    /// Where the server keeps artifact objects (started with [`Server::start`]).
    pub(crate) fn objects_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("objects")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A token for `username`, which must log in.
    pub(crate) fn token(&self, username: &str, password: &str) -> String {
        let response = Client::new()
            .post(self.url("/auth/token"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "log in as {username}");
        let body: Value = response.json().unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a user through the API (as the admin) with these grants, and logs it in.
    pub(crate) fn user(&self, username: &str, grants: &[(&str, Access)]) -> String {
        let password = format!("{username} password");
        let created = self
            .as_admin(Client::new().post(self.url("/users")))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .unwrap();
        assert_eq!(created.status(), 201);
        for (space, access) in grants {
            let access = match access {
                Access::Read => "read",
                Access::Write => "write",
            };
            let granted = self
                .as_admin(Client::new().put(self.url(&format!("/users/{username}/grants/{space}"))))
                .json(&json!({ "access": access }))
                .send()
                .unwrap();
            assert_eq!(granted.status(), 204);
        }
        self.token(username, &password)
    }

    /// Creates experiment `uid` in `space` as the admin.
    pub(crate) fn create_experiment(&self, uid: &str, space: &str) {
        let created = self
            .admin_client()
            .post(self.url("/experiments"))
            .json(&new_experiment(uid, space, "run"))
            .send()
            .unwrap();
        assert_eq!(created.status(), 201, "create {uid}");
    }

    /// A client that sends the admin's token with every request.
    pub(crate) fn admin_client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {}", self.admin_token);
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&value).unwrap(),
        );
        Client::builder().default_headers(headers).build().unwrap()
    }

    pub(crate) fn as_admin(&self, request: RequestBuilder) -> RequestBuilder {
        request.bearer_auth(&self.admin_token)
    }
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

/// A schema of its own in the test database, dropped with it.
pub(crate) struct Schema {
    admin_uri: String,
    name: String,
    /// The URI of a store on the schema.
    pub uri: String,
}

impl Schema {
    pub(crate) fn create(admin_uri: &str) -> Self {
        let name = format!("t_{}", opsml_types::new_uid().replace('-', ""));
        postgres::Client::connect(admin_uri, postgres::NoTls)
            .expect("connect to the test database")
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        let separator = if admin_uri.contains('?') { '&' } else { '?' };
        Self {
            uri: format!("{admin_uri}{separator}options=-c%20search_path%3D{name}"),
            admin_uri: admin_uri.to_owned(),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin_uri, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

pub(crate) fn new_experiment(uid: &str, space: &str, name: &str) -> Value {
    json!({
        "uid": uid,
        "space": space,
        "name": name,
        "tags": ["baseline"],
        "parent_uid": null,
        "opsml_version": "0.1.0",
        "created_at": "2026-11-26T10:00:00Z",
        "lease": { "host": "elsewhere", "pid": 1, "started": 0 },
    })
}

pub(crate) fn uid(n: u32) -> String {
    format!("01a21900-0000-7000-8000-{n:012x}")
}

/// Status and message of an error response, checked to have the API's error shape.
pub(crate) fn error_of(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(body["error"]["code"].is_string(), "{body}");
    (status, message)
}
