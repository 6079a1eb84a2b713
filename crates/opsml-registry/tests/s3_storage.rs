//! Artifacts encrypted by [`Artifacts`] into the S3 artifact storage, against a real
//! S3-compatible server. Start one with `eval "$(scripts/start-s3.sh)"`: it sets
//! `OPSML_TEST_S3_ENDPOINT`, `OPSML_TEST_S3_BUCKET` and the `AWS_*` credentials. Without
//! `OPSML_TEST_S3_ENDPOINT` the test says it is skipped and passes, unless
//! `OPSML_REQUIRE_SERVICES=1`, where it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::fs;
use std::io::{self, Read, Write};
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use opsml_crypt::MasterKey;
use opsml_registry::{runtime, ArtifactStorage, Artifacts, S3Storage, Store, MIN_PART_BYTES};
use opsml_types::new_uid;

/// Where the test server is.
struct Server {
    endpoint: String,
    bucket: String,
}

/// The server of `OPSML_TEST_S3_ENDPOINT`, or `None` (after saying so) when
/// it is unset and `OPSML_REQUIRE_SERVICES` is not `1`.
fn server(test: &str) -> Option<Server> {
    let endpoint = std::env::var("OPSML_TEST_S3_ENDPOINT").unwrap_or_default();
    if endpoint.trim().is_empty() {
        let why = "OPSML_TEST_S3_ENDPOINT is unset; start a local S3 server with \
                   `eval \"$(scripts/start-s3.sh)\"`";
        assert!(
            std::env::var("OPSML_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "{test}: OPSML_REQUIRE_SERVICES=1 but {why}"
        );
        // Straight to stderr, past the test harness's capture, so that the skip shows.
        let _ = writeln!(io::stderr(), "skipped s3_storage::{test}: {why}");
        return None;
    }
    let bucket = std::env::var("OPSML_TEST_S3_BUCKET").unwrap_or_else(|_| "opsml-test".into());
    Some(Server {
        endpoint: endpoint.trim().to_owned(),
        bucket,
    })
}

impl Server {
    fn builder(&self) -> AmazonS3Builder {
        S3Storage::builder_from_env()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
    }

    /// Storage under a prefix of its own, with the smallest parts S3 accepts.
    fn storage(&self) -> (S3Storage, String) {
        let prefix = format!("tests/{}", new_uid());
        let storage = S3Storage::with_builder(&self.bucket, &prefix, self.builder())
            .unwrap()
            .with_part_size(MIN_PART_BYTES);
        (storage, prefix)
    }

    /// The keys stored under `prefix`, sorted, without the prefix.
    fn keys(&self, prefix: &str) -> Vec<String> {
        let client = self
            .builder()
            .with_bucket_name(&self.bucket)
            .build()
            .unwrap();
        let listed: Vec<_> = runtime()
            .block_on(
                client
                    .list(Some(&ObjectPath::from(prefix)))
                    .try_collect::<Vec<_>>(),
            )
            .unwrap();
        let mut keys: Vec<String> = listed
            .into_iter()
            .map(|meta| meta.location.as_ref()[prefix.len() + 1..].to_owned())
            .collect();
        keys.sort();
        keys
    }
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn read_all(storage: &dyn ArtifactStorage, key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    storage.open(key).unwrap().read_to_end(&mut out).unwrap();
    out
}

#[test]
fn encrypted_artifacts_round_trip_through_the_bucket() {
    let Some(server) = server("encrypted_artifacts_round_trip_through_the_bucket") else {
        return;
    };
    let (dir, store) = common::temp_sqlite_store();
    let card = common::create(&*store, "s3", "artifacts");
    let (storage, prefix) = server.storage();
    let storage: Arc<dyn ArtifactStorage> = Arc::new(storage);
    let master = MasterKey::load_or_create(&dir.path().join("master.key")).unwrap();
    let store: Arc<dyn Store> = store;
    let artifacts = Artifacts::new(store, Arc::clone(&storage), Arc::new(master));

    let model = dir.path().join("model.bin");
    let weights = noise(2 * MIN_PART_BYTES + 333, 7);
    fs::write(&model, &weights).unwrap();
    let record = artifacts
        .log_file(&card.uid, &model, Some("models/"))
        .unwrap();
    assert_eq!(record.path, "models/model.bin");
    assert_eq!(record.size, weights.len() as u64);
    let notes = artifacts
        .log_bytes(&card.uid, "notes.txt", &b"lr=0.001\n".repeat(1000))
        .unwrap();

    // What the bucket holds is ciphertext.
    let stored = read_all(storage.as_ref(), &record.storage_key);
    assert!(stored.len() >= weights.len());
    assert!(!stored.windows(64).any(|w| w == &weights[..64]));
    assert!(
        !String::from_utf8_lossy(&read_all(storage.as_ref(), &notes.storage_key))
            .contains("lr=0.001")
    );

    let key = artifacts.data_key(&card.uid).unwrap();
    let out = dir.path().join("out");
    artifacts
        .download(&key, &record, &out.join("model.bin"))
        .unwrap();
    artifacts
        .download(&key, &notes, &out.join("notes.txt"))
        .unwrap();
    assert!(fs::read(out.join("model.bin")).unwrap() == weights);
    assert_eq!(
        fs::read(out.join("notes.txt")).unwrap(),
        b"lr=0.001\n".repeat(1000)
    );

    // Replacing an artifact removes the object of the old version.
    let replaced = artifacts
        .log_bytes(&card.uid, "notes.txt", b"lr=0.01\n")
        .unwrap();
    let experiment = format!("experiment/{}/objects", card.uid);
    let mut objects = server.keys(&format!("{prefix}/{experiment}"));
    let mut expected = vec![
        record.storage_key[experiment.len() + 1..].to_owned(),
        replaced.storage_key[experiment.len() + 1..].to_owned(),
    ];
    objects.sort();
    expected.sort();
    assert_eq!(objects, expected);

    artifacts.delete_all(&card.uid).unwrap();
    assert!(server.keys(&prefix).is_empty());
    // A download whose object is gone names the artifact and where it was looked for.
    let err = artifacts
        .download(&key, &record, &out.join("again.bin"))
        .unwrap_err()
        .to_string();
    let url = format!("s3://{}/{prefix}/{}", server.bucket, record.storage_key);
    assert!(
        err.contains("\"models/model.bin\"") && err.contains(&url),
        "{err}"
    );
    assert!(!out.join("again.bin").exists());
}
