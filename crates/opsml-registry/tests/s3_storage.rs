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

#[path = "../../opsml-storage/tests/s3_server/mod.rs"]
mod s3_server;

use std::fs;
use std::sync::Arc;

use opsml_crypt::MasterKey;
use opsml_registry::{ArtifactStorage, Artifacts, Store, MIN_PART_BYTES};
use s3_server::{noise, read_all, server};

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
