//! The S3 artifact storage against a real S3-compatible server. Start one with
//! `eval "$(scripts/start-s3.sh)"`: it sets `OPSML_TEST_S3_ENDPOINT`,
//! `OPSML_TEST_S3_BUCKET` and the `AWS_*` credentials. Without
//! `OPSML_TEST_S3_ENDPOINT` each test says it is skipped and passes, unless
//! `OPSML_REQUIRE_SERVICES=1`, where it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod s3_server;

use std::io::{self, Read};
use std::sync::Arc;

use opsml_process::runtime;
use opsml_storage::{ArtifactStorage, LocalStorage, S3Storage, StorageError, MIN_PART_BYTES};
use opsml_types::new_uid;
use s3_server::{noise, read_all, server};

/// Yields `data`, then fails.
struct FailingAfter {
    data: io::Cursor<Vec<u8>>,
}

impl Read for FailingAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.data.read(buf)? {
            0 => Err(io::Error::other("source broke")),
            n => Ok(n),
        }
    }
}

#[test]
fn objects_round_trip_from_empty_to_several_parts() {
    let Some(server) = server("objects_round_trip_from_empty_to_several_parts") else {
        return;
    };
    let (storage, prefix) = server.storage();
    let cases = [
        ("empty", Vec::new()),
        ("small", b"hello object storage".to_vec()),
        ("one-part-exactly", noise(MIN_PART_BYTES, 1)),
        ("parts", noise(2 * MIN_PART_BYTES + 12_345, 2)),
    ];
    for (key, data) in &cases {
        let written = storage.put(&format!("a/{key}"), &mut &data[..]).unwrap();
        assert_eq!(written, data.len() as u64, "{key}");
    }
    for (key, data) in &cases {
        assert!(read_all(&storage, &format!("a/{key}")) == *data, "{key}");
    }
    // Small reads cross the chunks of the download stream.
    let mut reader = storage.open("a/parts").unwrap();
    let mut small = [0u8; 7];
    let mut streamed = Vec::new();
    loop {
        let n = reader.read(&mut small).unwrap();
        if n == 0 {
            break;
        }
        streamed.extend_from_slice(&small[..n]);
        if streamed.len() > 100_000 {
            break;
        }
    }
    assert_eq!(streamed[..], cases[3].1[..streamed.len()]);
    let mut expected: Vec<String> = cases.iter().map(|(k, _)| format!("a/{k}")).collect();
    expected.sort();
    assert_eq!(server.keys(&prefix), expected);
    storage.delete_prefix("a").unwrap();
}

#[test]
fn storage_works_from_the_runtime_blocking_pool() {
    let Some(server) = server("storage_works_from_the_runtime_blocking_pool") else {
        return;
    };
    let (storage, _prefix) = server.storage();
    let storage = Arc::new(storage);
    let data = noise(MIN_PART_BYTES + 1, 3);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (storage, data) = (Arc::clone(&storage), data.clone());
            runtime().spawn_blocking(move || {
                let key = format!("pool/{i}");
                storage.put(&key, &mut &data[..]).unwrap();
                read_all(storage.as_ref(), &key) == data
            })
        })
        .collect();
    for handle in handles {
        assert!(runtime().block_on(handle).unwrap());
    }
    storage.delete_prefix("pool").unwrap();
}

#[test]
fn put_replaces_an_object_only_once_it_is_complete() {
    let Some(server) = server("put_replaces_an_object_only_once_it_is_complete") else {
        return;
    };
    let (storage, prefix) = server.storage();
    storage.put("k", &mut &b"first"[..]).unwrap();
    let large = noise(MIN_PART_BYTES * 2, 4);
    storage.put("k", &mut &large[..]).unwrap();
    assert!(read_all(&storage, "k") == large);
    storage.put("k", &mut &b"third"[..]).unwrap();
    assert_eq!(read_all(&storage, "k"), b"third");

    // A source failing before, inside and after the first part: the
    // previous object stays, and nothing else appears.
    for fail_after in [0, 1000, MIN_PART_BYTES + 17, 2 * MIN_PART_BYTES + 5] {
        let mut source = FailingAfter {
            data: io::Cursor::new(noise(fail_after, 5)),
        };
        let err = storage.put("k", &mut source).unwrap_err();
        assert!(
            matches!(err, StorageError::UploadSource(_)),
            "{fail_after}: {err}"
        );
        assert_eq!(read_all(&storage, "k"), b"third", "{fail_after}");
        let mut source = FailingAfter {
            data: io::Cursor::new(noise(fail_after, 6)),
        };
        storage.put("fresh", &mut source).unwrap_err();
        assert_eq!(server.keys(&prefix), ["k"], "{fail_after}");
    }
    storage.delete("k").unwrap();
}

#[test]
fn delete_of_a_missing_object_is_ok_and_open_names_it() {
    let Some(server) = server("delete_of_a_missing_object_is_ok_and_open_names_it") else {
        return;
    };
    let (storage, prefix) = server.storage();
    storage.delete("never/stored").unwrap();
    storage.put("x", &mut &b"x"[..]).unwrap();
    storage.delete("x").unwrap();
    storage.delete("x").unwrap();
    let err = storage.open("x").map(|_| ()).unwrap_err();
    let StorageError::Io { source, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(source.kind(), io::ErrorKind::NotFound, "{err}");
    let url = format!("s3://{}/{prefix}/x", server.bucket);
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn delete_prefix_removes_everything_under_it_and_nothing_beside_it() {
    let Some(server) = server("delete_prefix_removes_everything_under_it_and_nothing_beside_it")
    else {
        return;
    };
    let (storage, prefix) = server.storage();
    // More objects than one listing page would need (1000) is slow here;
    // a few dozen still go through the bulk delete.
    for i in 0..40 {
        storage.put(&format!("run/{i}"), &mut &b"x"[..]).unwrap();
    }
    storage.put("run/deep/er/y", &mut &b"y"[..]).unwrap();
    storage.put("runner/kept", &mut &b"z"[..]).unwrap();
    storage.put("kept", &mut &b"z"[..]).unwrap();
    storage.delete_prefix("run").unwrap();
    assert_eq!(server.keys(&prefix), ["kept", "runner/kept"]);
    storage.delete_prefix("run").unwrap();
    storage.delete_prefix("runner").unwrap();
    storage.delete("kept").unwrap();
    assert!(server.keys(&prefix).is_empty());
}

#[test]
fn a_wrong_bucket_or_wrong_credentials_give_errors_naming_the_bucket() {
    let Some(server) = server("a_wrong_bucket_or_wrong_credentials_give_errors_naming_the_bucket")
    else {
        return;
    };
    let missing = format!("opsml-no-such-bucket-{}", &new_uid()[..8]);
    let storage = S3Storage::with_builder(&missing, "p", server.builder()).unwrap();
    for err in [
        storage.put("k", &mut &b"x"[..]).unwrap_err(),
        storage.open("k").map(|_| ()).unwrap_err(),
        storage.delete("k").unwrap_err(),
        storage.delete_prefix("k").unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(text.contains(&format!("s3://{missing}/p/k")), "{text}");
        assert!(
            text.contains(&format!("bucket {missing:?} does not exist")),
            "{text}"
        );
    }

    let wrong = server
        .builder()
        .with_access_key_id("opsml-wrong")
        .with_secret_access_key("wrong-secret");
    let storage = S3Storage::with_builder(&server.bucket, "p", wrong).unwrap();
    let err = storage.put("k", &mut &b"x"[..]).unwrap_err();
    let StorageError::Io { source, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(source.kind(), io::ErrorKind::PermissionDenied, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("s3://{}/p/k", server.bucket)),
        "{err}"
    );
}

#[test]
fn a_signed_download_url_reads_the_object_without_credentials() {
    let Some(server) = server("a_signed_download_url_reads_the_object_without_credentials") else {
        return;
    };
    let (storage, _prefix) = server.storage();
    let data = noise(100_000, 9);
    storage.put("signed", &mut &data[..]).unwrap();
    let url = storage
        .download_url("signed", std::time::Duration::from_mins(1))
        .unwrap()
        .expect("S3 signs download URLs");
    // A plain GET, no credentials: the signature in the URL is the permission.
    let fetched = runtime().block_on(async {
        let response = reqwest::get(&url).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.unwrap()
    });
    assert_eq!(&fetched[..], &data[..]);
    // Without the signature the same object is refused.
    let bare = url.split('?').next().unwrap().to_owned();
    let refused = runtime().block_on(async { reqwest::get(&bare).await.unwrap().status() });
    assert!(refused.is_client_error(), "{refused}");
    // Local storage signs nothing: downloads go through the server.
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStorage::new(dir.path().to_owned());
    assert!(local
        .download_url("k", std::time::Duration::from_mins(1))
        .unwrap()
        .is_none());
}
