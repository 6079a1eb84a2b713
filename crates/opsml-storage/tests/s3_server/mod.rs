//! The S3-compatible test server of `OPSML_TEST_S3_ENDPOINT`, and what the tests of S3
//! storage share (this crate's, and the registry's, which includes this file).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::io::{self, Read, Write};

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use opsml_process::runtime;
use opsml_storage::{ArtifactStorage, S3Storage, MIN_PART_BYTES};
use opsml_types::new_uid;

/// Where the test server is.
pub(crate) struct Server {
    pub(crate) endpoint: String,
    pub(crate) bucket: String,
}

/// The server of `OPSML_TEST_S3_ENDPOINT`, or `None` (after saying so) when
/// it is unset and `OPSML_REQUIRE_SERVICES` is not `1`.
pub(crate) fn server(test: &str) -> Option<Server> {
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
    pub(crate) fn builder(&self) -> AmazonS3Builder {
        S3Storage::builder_from_env()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
    }

    /// Storage under a prefix of its own, with the smallest parts S3 accepts.
    pub(crate) fn storage(&self) -> (S3Storage, String) {
        let prefix = format!("tests/{}", new_uid());
        let storage = S3Storage::with_builder(&self.bucket, &prefix, self.builder())
            .unwrap()
            .with_part_size(MIN_PART_BYTES);
        (storage, prefix)
    }

    /// The keys stored under `prefix`, sorted, without the prefix.
    pub(crate) fn keys(&self, prefix: &str) -> Vec<String> {
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
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
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

pub(crate) fn read_all(storage: &dyn ArtifactStorage, key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    storage.open(key).unwrap().read_to_end(&mut out).unwrap();
    out
}
