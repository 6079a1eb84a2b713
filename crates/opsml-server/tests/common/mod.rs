// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use opsml_registry::{Access, AccountStore, ArtifactStorage, LocalStorage, SqliteStore, Store};
use opsml_server::AppState;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};

pub const ADMIN: &str = "root";
pub const ADMIN_PASSWORD: &str = "admin password";

/// A server on a free loopback port with a SQLite store in a temporary directory and a
/// first admin, serving until the test ends (or [`Server::stop`]).
pub struct Server {
    pub base: String,
    address: std::net::SocketAddr,
    pub store: Arc<dyn Store>,
    pub accounts: Arc<dyn AccountStore>,
    pub storage: Arc<dyn ArtifactStorage>,
    admin_token: String,
    dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalStorage::new(dir.path().join("objects")));
        Self::start_in(dir, storage)
    }

    /// A server whose artifact objects go to `storage`.
    pub fn start_on(storage: Arc<dyn ArtifactStorage>) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), storage)
    }

    fn start_in(dir: tempfile::TempDir, storage: Arc<dyn ArtifactStorage>) -> Self {
        let sqlite = Arc::new(SqliteStore::open(&dir.path().join("opsml.db")).unwrap());
        let store: Arc<dyn Store> = sqlite.clone();
        let accounts: Arc<dyn AccountStore> = sqlite;
        opsml_server::bootstrap_admin(accounts.as_ref(), ADMIN, ADMIN_PASSWORD).unwrap();
        let mut server = Self {
            base: String::new(),
            address: "127.0.0.1:0".parse().unwrap(),
            store,
            accounts,
            storage,
            admin_token: String::new(),
            dir,
            runtime: None,
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
        runtime.spawn(opsml_server::serve(
            listener,
            AppState::new(
                Arc::clone(&self.store),
                Arc::clone(&self.accounts),
                Arc::clone(&self.storage),
            ),
            std::future::pending(),
        ));
        self.runtime = Some(runtime);
    }

    /// Stops serving at once, as a crash would: connections drop, the port closes.
    pub fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Serves again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        self.serve();
    }

    /// Where the server keeps artifact objects (started with [`Server::start`]).
    pub fn objects_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("objects")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A token for `username`, which must log in.
    pub fn token(&self, username: &str, password: &str) -> String {
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
    pub fn user(&self, username: &str, grants: &[(&str, Access)]) -> String {
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
    pub fn create_experiment(&self, uid: &str, space: &str) {
        let created = self
            .admin_client()
            .post(self.url("/experiments"))
            .json(&new_experiment(uid, space, "run"))
            .send()
            .unwrap();
        assert_eq!(created.status(), 201, "create {uid}");
    }

    /// A client that sends the admin's token with every request.
    pub fn admin_client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {}", self.admin_token);
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&value).unwrap(),
        );
        Client::builder().default_headers(headers).build().unwrap()
    }

    pub fn as_admin(&self, request: RequestBuilder) -> RequestBuilder {
        request.bearer_auth(&self.admin_token)
    }
}

pub fn new_experiment(uid: &str, space: &str, name: &str) -> Value {
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

pub fn uid(n: u32) -> String {
    format!("01a21900-0000-7000-8000-{n:012x}")
}

/// Status and message of an error response, checked to have the API's error shape.
pub fn error_of(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(body["error"]["code"].is_string(), "{body}");
    (status, message)
}
