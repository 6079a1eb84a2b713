//! Artifacts of a server on S3-compatible storage go straight into the bucket through URLs
//! the server signs, and through the server when the bucket is out of the client's reach.
//! Needs a real S3-compatible server: `eval "$(scripts/start-s3.sh)"` sets
//! `OPSML_TEST_S3_ENDPOINT`, `OPSML_TEST_S3_BUCKET` and the `AWS_*` credentials. Without it
//! each test says it is skipped and passes, unless `OPSML_REQUIRE_SERVICES=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{error_of, uid, Server};
use opsml_client::HttpStore;
use opsml_crypt::MasterKey;
use opsml_registry::{
    Access, ArtifactStorage, Artifacts, Lease, NewExperiment, S3Storage, SignedUploads, Store,
};
use serde_json::json;

/// The bucket of the test S3 server under a prefix of the test's own, or `None` (after
/// saying so) when there is no server and `OPSML_REQUIRE_SERVICES` is not `1`.
fn bucket(test: &str) -> Option<S3Storage> {
    let endpoint = std::env::var("OPSML_TEST_S3_ENDPOINT").unwrap_or_default();
    if endpoint.trim().is_empty() {
        let why = "OPSML_TEST_S3_ENDPOINT is unset; start a local S3 server with \
                   `eval \"$(scripts/start-s3.sh)\"`";
        assert!(
            std::env::var("OPSML_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "{test}: OPSML_REQUIRE_SERVICES=1 but {why}"
        );
        let _ = writeln!(io::stderr(), "skipped signed_uploads::{test}: {why}");
        return None;
    }
    let bucket = std::env::var("OPSML_TEST_S3_BUCKET").unwrap_or_else(|_| "opsml-test".into());
    let builder = S3Storage::builder_from_env()
        .with_endpoint(endpoint.trim())
        .with_allow_http(true);
    let prefix = format!("server-tests/{}", opsml_types::new_uid());
    Some(S3Storage::with_builder(&bucket, &prefix, builder).unwrap())
}

/// The bucket as the server uses it, counting the objects that came through the server.
/// With `unreachable`, the URLs it signs point at a closed port: a bucket on a network the
/// client cannot reach.
#[derive(Debug)]
struct Watched {
    bucket: S3Storage,
    through_server: AtomicUsize,
    /// URLs signed for a whole object, a multipart upload, or a download.
    signed: AtomicUsize,
    unreachable: Option<String>,
}

impl Watched {
    fn new(bucket: S3Storage, out_of_reach: bool) -> Arc<Self> {
        let unreachable = out_of_reach.then(|| {
            // A port that was free a moment ago: nothing listens there.
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        });
        Arc::new(Self {
            bucket,
            through_server: AtomicUsize::new(0),
            signed: AtomicUsize::new(0),
            unreachable,
        })
    }

    /// A URL the client is handed, counted.
    fn signed(&self, url: String) -> String {
        self.signed.fetch_add(1, Ordering::SeqCst);
        self.rewritten(url)
    }

    fn rewritten(&self, url: String) -> String {
        match &self.unreachable {
            None => url,
            Some(closed) => {
                let endpoint = std::env::var("OPSML_TEST_S3_ENDPOINT").unwrap();
                url.replace(endpoint.trim().trim_end_matches('/'), closed)
            }
        }
    }
}

impl ArtifactStorage for Watched {
    fn location(&self) -> String {
        self.bucket.location()
    }

    fn put(&self, key: &str, source: &mut dyn Read) -> opsml_storage::Result<u64> {
        self.through_server.fetch_add(1, Ordering::SeqCst);
        self.bucket.put(key, source)
    }

    fn open(&self, key: &str) -> opsml_storage::Result<Box<dyn Read + Send>> {
        self.bucket.open(key)
    }

    fn delete(&self, key: &str) -> opsml_storage::Result<()> {
        self.bucket.delete(key)
    }

    fn delete_prefix(&self, prefix: &str) -> opsml_storage::Result<()> {
        self.bucket.delete_prefix(prefix)
    }

    fn download_url(
        &self,
        key: &str,
        valid_for: Duration,
    ) -> opsml_storage::Result<Option<String>> {
        Ok(self
            .bucket
            .download_url(key, valid_for)?
            .map(|url| self.signed(url)))
    }

    fn signed_uploads(&self) -> Option<&dyn SignedUploads> {
        Some(self)
    }
}

impl SignedUploads for Watched {
    fn upload_url(&self, key: &str, valid_for: Duration) -> opsml_storage::Result<String> {
        Ok(self.signed(self.bucket.upload_url(key, valid_for)?))
    }

    fn create_multipart(&self, key: &str) -> opsml_storage::Result<String> {
        self.signed.fetch_add(1, Ordering::SeqCst);
        self.bucket.create_multipart(key)
    }

    fn part_urls(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[u32],
        valid_for: Duration,
    ) -> opsml_storage::Result<Vec<String>> {
        let urls = self.bucket.part_urls(key, upload_id, parts, valid_for)?;
        Ok(urls.into_iter().map(|url| self.rewritten(url)).collect())
    }

    fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> opsml_storage::Result<()> {
        self.bucket.complete_multipart(key, upload_id, etags)
    }

    fn abort_multipart(&self, key: &str, upload_id: &str) -> opsml_storage::Result<()> {
        self.bucket.abort_multipart(key, upload_id)
    }
}

/// Bytes that do not compress (so that the ciphertext is as large as they are).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A writer's HTTP store, an experiment of its own, and its artifacts.
fn artifacts_of(server: &Server, user: &str, n: u32) -> (Artifacts, String) {
    std::env::set_var(
        opsml_registry::SPOOL_DIR_ENV,
        std::env::temp_dir().join("opsml-signed-uploads-spool"),
    );
    server.user(user, &[("team", Access::Write)]);
    let store =
        HttpStore::with_credentials(&server.base, user, &format!("{user} password")).unwrap();
    let uid = uid(n);
    store
        .create_experiment(&NewExperiment {
            uid: uid.clone(),
            space: "team".to_owned(),
            name: "uploads".to_owned(),
            tags: vec![],
            parent_uid: None,
            compute_environment: opsml_types::ComputeEnvironment::default(),
            opsml_version: "0.1.0".to_owned(),
            username: user.to_owned(),
            created_at: Utc::now(),
            lease: Lease::current(),
        })
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let storage = opsml_registry::artifact_storage(store.as_ref()).unwrap();
    let artifacts = Artifacts::new(store, storage, Arc::new(MasterKey::generate()));
    (artifacts, uid)
}

/// Logs `data` at `path`, checks that the bucket holds only its ciphertext and that it
/// downloads intact.
fn round_trip(server: &Server, artifacts: &Artifacts, uid: &str, path: &str, data: &[u8]) {
    let record = artifacts.log_bytes(uid, path, data).unwrap();
    let mut ciphertext = Vec::new();
    server
        .storage
        .open(&record.storage_key)
        .unwrap()
        .read_to_end(&mut ciphertext)
        .unwrap();
    assert!(
        ciphertext.len() >= data.len(),
        "{path}: the whole object is stored"
    );
    assert!(
        !ciphertext.windows(32).any(|w| w == &data[..32]),
        "{path}: the bucket holds no plaintext"
    );
    let out = tempfile::tempdir().unwrap();
    let key = artifacts.data_key(uid).unwrap();
    artifacts
        .download(&key, &record, &out.path().join("a"))
        .unwrap();
    assert!(
        std::fs::read(out.path().join("a")).unwrap() == data,
        "{path} reads back"
    );
}

/// As `user`, logs a 4 KiB artifact and one of `large` bytes into experiment `n`, reads
/// both back, and deletes the experiment, whose objects must go with it.
fn small_and_large(server: &Server, user: &str, n: u32, large: usize) {
    let (artifacts, uid) = artifacts_of(server, user, n);
    round_trip(server, &artifacts, &uid, "config.json", &noise(4096));
    round_trip(server, &artifacts, &uid, "model/weights.bin", &noise(large));
    let records = artifacts.list(&uid, None).unwrap();
    assert_eq!(records.len(), 2);
    assert!(artifacts.store().delete_experiment(&uid).unwrap());
    for record in records {
        let Err(err) = server.storage.open(&record.storage_key) else {
            panic!("{} outlived its experiment", record.storage_key);
        };
        assert!(err.to_string().contains(&record.storage_key), "{err}");
    }
}

#[test]
fn artifacts_go_straight_into_the_bucket() {
    let Some(bucket) = bucket("artifacts_go_straight_into_the_bucket") else {
        return;
    };
    let watched = Watched::new(bucket, false);
    let server = Server::start_on(watched.clone());
    // One signed PUT, and a multipart upload of three parts (16 + 16 + 8 MiB).
    small_and_large(&server, "ann", 1, 40 << 20);
    assert_eq!(watched.through_server.load(Ordering::SeqCst), 0);
}

#[test]
fn uploads_go_through_the_server_when_the_bucket_is_out_of_reach() {
    let Some(bucket) = bucket("uploads_go_through_the_server_when_the_bucket_is_out_of_reach")
    else {
        return;
    };
    let watched = Watched::new(bucket, true);
    let server = Server::start_on(watched.clone());
    small_and_large(&server, "ben", 2, 20 << 20);
    assert_eq!(watched.through_server.load(Ordering::SeqCst), 2);
    // Once out of reach, the client stops asking for URLs it cannot use.
    assert_eq!(watched.signed.load(Ordering::SeqCst), 1);
}

#[test]
fn tampered_upload_requests_are_refused_and_store_nothing() {
    let Some(bucket) = bucket("tampered_upload_requests_are_refused_and_store_nothing") else {
        return;
    };
    let server = Server::start_on(Watched::new(bucket, false));
    let admin = server.admin_client();
    server.create_experiment(&uid(3), "team");
    let object = format!(
        "/experiments/{}/objects/01a21900-0000-7000-8000-000000000001",
        uid(3)
    );
    let post = |path: &str, body: serde_json::Value| {
        error_of(
            admin
                .post(server.url(&format!("{object}/multipart/{path}")))
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    let started: serde_json::Value = admin
        .post(server.url(&format!("{object}/multipart")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let upload_id = started["upload_id"].as_str().unwrap().to_owned();

    let many: Vec<u32> = (1..=65).collect();
    for (body, named) in [
        (json!({ "upload_id": upload_id, "parts": [0] }), "part 0"),
        (
            json!({ "upload_id": upload_id, "parts": [10_001] }),
            "part 10001",
        ),
        (json!({ "upload_id": upload_id, "parts": many }), "not 65"),
        (json!({ "upload_id": upload_id, "parts": [] }), "not 0"),
        (json!({ "upload_id": "", "parts": [1] }), "upload id \"\""),
        (json!({ "upload_id": "a\nb", "parts": [1] }), "upload id"),
        (
            json!({ "upload_id": "u".repeat(2000), "parts": [1] }),
            "of 2000 bytes",
        ),
    ] {
        let (status, message) = post("part-urls", body.clone());
        assert_eq!(status, 400, "{body}");
        assert!(message.contains(named), "{body}: {message}");
    }
    let (status, message) = post("complete", json!({ "upload_id": upload_id, "etags": [] }));
    assert_eq!(status, 400);
    assert!(message.contains("not 0"), "{message}");
    let (status, message) = post(
        "complete",
        json!({ "upload_id": "no-such-upload", "etags": ["\"e\""] }),
    );
    assert_eq!(status, 404, "{message}");
    assert!(message.contains("no-such-upload"), "{message}");
    let (status, _) = post("abort", json!({ "upload_id": upload_id, "extra": 1 }));
    assert!(
        (400..500).contains(&status),
        "unknown fields are refused: {status}"
    );

    let aborted = admin
        .post(server.url(&format!("{object}/multipart/abort")))
        .json(&json!({ "upload_id": upload_id }))
        .send()
        .unwrap();
    assert_eq!(aborted.status(), 204);
    let key = format!(
        "experiment/{}/objects/01a21900-0000-7000-8000-000000000001",
        uid(3)
    );
    assert!(server.storage.open(&key).is_err(), "nothing is stored");
}
