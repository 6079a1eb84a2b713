//! Artifact storage in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, R2…)
//! through `object_store`. The trait is synchronous and is called from plain
//! threads and from the runtime's blocking pool; each call waits on the
//! process-wide runtime, where the HTTP client does its work.

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use parking_lot::Mutex;

use opsml_process::{fork_generation, runtime};

pub(crate) use self::error::io_error;
use self::error::{is_missing_object, storage_error};
use crate::artifact_storage::{ArtifactStorage, SignedUploads};
use crate::copy::read_part;
use crate::error::{Result, StorageError};
use crate::stream_reader::StreamReader;

mod error;
mod uploads;

pub use self::uploads::MAX_UPLOAD_PARTS;

/// Bytes of each part of a multipart upload. Objects smaller than one part go
/// up in a single request. At most 10,000 parts make an object on S3, so this
/// also bounds one artifact at about 156 GiB.
pub const DEFAULT_PART_BYTES: usize = 16 << 20;

/// The smallest part S3 accepts (every part but the last).
pub const MIN_PART_BYTES: usize = 5 << 20;

/// Parts uploading at once while the next one is read: an upload holds at
/// most this many parts plus one in memory, whatever the object's size.
const PARTS_IN_FLIGHT: usize = 2;

/// Settings that make every write carry headers of its own.
const UPLOAD_HEADER_SETTINGS: [&str; 5] = [
    "aws_server_side_encryption",
    "aws_sse_kms_key_id",
    "aws_sse_bucket_key_enabled",
    "aws_sse_customer_key_base64",
    "aws_checksum_algorithm",
];

/// Longest wait for the next bytes of a response. There is no limit on a
/// whole request: downloads of large objects may rightly take hours.
const IDLE_TIMEOUT: Duration = Duration::from_mins(2);

/// Objects in a bucket, under an optional key prefix.
pub struct S3Storage {
    bucket: String,
    prefix: String,
    part_bytes: usize,
    builder: AmazonS3Builder,
    /// The client, with the fork generation it belongs to: a forked child
    /// builds its own, as the parent's pooled connections are not its own.
    client: Mutex<(u64, Arc<AmazonS3>)>,
}

impl fmt::Debug for S3Storage {
    // The builder holds credentials: only where the objects are is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Storage")
            .field("location", &self.location())
            .field("part_bytes", &self.part_bytes)
            .finish_non_exhaustive()
    }
}

impl S3Storage {
    /// The bucket with endpoint, region and credentials from the standard
    /// `AWS_*` variables (see [`S3Storage::builder_from_env`]).
    pub fn from_env(bucket: &str, prefix: &str) -> Result<Self> {
        Self::with_builder(bucket, prefix, Self::builder_from_env())
    }

    /// A client configuration from the `AWS_*` variables that
    /// `AmazonS3Builder::from_env` reads (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT`,
    /// `AWS_ALLOW_HTTP` for a plain-http endpoint, ...), over defaults suited
    /// to streaming large objects: no limit on a whole request, an idle
    /// limit on each response instead (`AWS_TIMEOUT` and
    /// `AWS_READ_TIMEOUT` override them).
    pub fn builder_from_env() -> AmazonS3Builder {
        let defaults = ClientOptions::new()
            .with_timeout_disabled()
            .with_read_timeout(IDLE_TIMEOUT);
        let mut builder = AmazonS3Builder::new().with_client_options(defaults);
        for (key, value) in std::env::vars_os() {
            let (Some(key), Some(value)) = (key.to_str(), value.to_str()) else {
                continue;
            };
            if !key.starts_with("AWS_") {
                continue;
            }
            if let Ok(config_key) = key.to_ascii_lowercase().parse() {
                builder = builder.with_config(config_key, value);
            }
        }
        builder
    }

    /// The bucket reached with `builder` (its bucket name is replaced).
    pub fn with_builder(bucket: &str, prefix: &str, builder: AmazonS3Builder) -> Result<Self> {
        let builder = builder.with_bucket_name(bucket);
        let prefix = prefix.trim_matches('/').to_owned();
        let location = url(bucket, &prefix, "");
        let client = builder
            .clone()
            .build()
            .map_err(|e| storage_error(bucket, location, e))?;
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix,
            part_bytes: DEFAULT_PART_BYTES,
            builder,
            client: Mutex::new((fork_generation(), Arc::new(client))),
        })
    }

    /// Whether writes carry headers of their own: server-side encryption or checksums.
    fn uploads_need_headers(&self) -> bool {
        UPLOAD_HEADER_SETTINGS
            .iter()
            .filter_map(|key| key.parse::<AmazonS3ConfigKey>().ok())
            .any(|key| self.builder.get_config_value(&key).is_some())
    }

    /// Uses parts of `bytes` (at least [`MIN_PART_BYTES`]) for multipart uploads.
    #[must_use]
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes.max(MIN_PART_BYTES);
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(crate) fn client(&self) -> Result<Arc<AmazonS3>> {
        let generation = fork_generation();
        let mut client = self.client.lock();
        if client.0 != generation {
            let fresh = self
                .builder
                .clone()
                .build()
                .map_err(|e| storage_error(&self.bucket, self.location(), e))?;
            *client = (generation, Arc::new(fresh));
        }
        Ok(Arc::clone(&client.1))
    }

    pub(crate) fn path(&self, key: &str) -> ObjectPath {
        self.prefix.split('/').chain(key.split('/')).collect()
    }

    fn url(&self, key: &str) -> String {
        url(&self.bucket, &self.prefix, key)
    }

    pub(crate) fn error(&self, key: &str, error: object_store::Error) -> StorageError {
        storage_error(&self.bucket, self.url(key), error)
    }

    /// Uploads what follows `first` (one whole part) as a multipart upload,
    /// aborted on any failure so that no part of it becomes visible.
    fn put_multipart(
        &self,
        client: &AmazonS3,
        key: &str,
        first: Vec<u8>,
        source: &mut dyn Read,
    ) -> Result<u64> {
        let runtime = runtime();
        let upload = runtime
            .block_on(client.put_multipart(&self.path(key)))
            .map_err(|e| self.error(key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        let mut total = first.len() as u64;
        let mut part = first;
        let outcome = loop {
            {
                // Parts are sent by tasks spawned on the runtime.
                let _context = runtime.enter();
                writer.put(Bytes::from(part));
            }
            if let Err(e) = runtime.block_on(writer.wait_for_capacity(PARTS_IN_FLIGHT)) {
                break Err(self.error(key, e));
            }
            match read_part(source, self.part_bytes) {
                Ok(next) if next.is_empty() => break Ok(()),
                Ok(next) => {
                    total += next.len() as u64;
                    part = next;
                }
                Err(e) => break Err(StorageError::UploadSource(e)),
            }
        };
        match outcome {
            // `finish` aborts the upload itself when completing it fails.
            Ok(()) => match runtime.block_on(writer.finish()) {
                Ok(_) => Ok(total),
                Err(e) => Err(self.error(key, e)),
            },
            Err(e) => {
                if let Err(abort) = runtime.block_on(writer.abort()) {
                    tracing::warn!(
                        object = %self.url(key),
                        error = %abort,
                        "aborting a failed multipart upload failed; the bucket's \
                         lifecycle rules must remove its parts"
                    );
                }
                Err(e)
            }
        }
    }
}

impl ArtifactStorage for S3Storage {
    fn location(&self) -> String {
        url(&self.bucket, &self.prefix, "")
    }

    fn put(&self, key: &str, source: &mut dyn Read) -> Result<u64> {
        let client = self.client()?;
        let first = read_part(source, self.part_bytes).map_err(StorageError::UploadSource)?;
        if first.len() < self.part_bytes {
            // The whole object fits in one part: one request, visible whole or not at all.
            let size = first.len() as u64;
            runtime()
                .block_on(client.put(&self.path(key), PutPayload::from(first)))
                .map_err(|e| self.error(key, e))?;
            return Ok(size);
        }
        self.put_multipart(&client, key, first, source)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let client = self.client()?;
        let runtime = runtime();
        let found = runtime
            .block_on(client.get(&self.path(key)))
            .map_err(|e| self.error(key, e))?;
        let stream = found
            .into_stream()
            .map(|chunk| chunk.map_err(io_error))
            .boxed();
        Ok(Box::new(StreamReader::new(
            runtime.handle().clone(),
            stream,
            self.url(key),
        )))
    }

    fn download_url(&self, key: &str, valid_for: Duration) -> Result<Option<String>> {
        use object_store::signer::{Method, Signer};
        let client = self.client()?;
        let url = runtime()
            .block_on(client.signed_url(Method::GET, &self.path(key), valid_for))
            .map_err(|e| self.error(key, e))?;
        Ok(Some(url.to_string()))
    }

    fn signed_uploads(&self) -> Option<&dyn SignedUploads> {
        // A signed URL carries none of the headers that encryption or checksums configured
        // for the bucket add: such uploads go through the server, which adds them.
        (!self.uploads_need_headers()).then_some(self as &dyn SignedUploads)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let client = self.client()?;
        match runtime().block_on(client.delete(&self.path(key))) {
            Ok(()) => Ok(()),
            Err(e) if is_missing_object(&e) => Ok(()),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let client = self.client()?;
        let listed = client
            .list(Some(&self.path(prefix)))
            .map_ok(|meta| meta.location)
            .boxed();
        runtime().block_on(async {
            let mut deleted = client.delete_stream(listed);
            while let Some(result) = deleted.next().await {
                match result {
                    Ok(_) => {}
                    // Removed meanwhile by someone else.
                    Err(e) if is_missing_object(&e) => {}
                    Err(e) => return Err(self.error(prefix, e)),
                }
            }
            Ok(())
        })
    }
}

/// `s3://bucket/prefix/key`, leaving out empty parts.
fn url(bucket: &str, prefix: &str, key: &str) -> String {
    let mut url = format!("s3://{bucket}");
    for part in [prefix, key] {
        if !part.is_empty() {
            url.push('/');
            url.push_str(part);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_under_the_prefix_and_messages_name_the_bucket() {
        let storage = S3Storage::with_builder(
            "bucket",
            "team/runs/",
            AmazonS3Builder::new()
                .with_region("us-east-1")
                .with_access_key_id("id")
                .with_secret_access_key("secret"),
        )
        .unwrap();
        assert_eq!(storage.location(), "s3://bucket/team/runs");
        assert_eq!(
            storage.path("experiment/u/objects/o").as_ref(),
            "team/runs/experiment/u/objects/o"
        );
        assert_eq!(storage.url("k"), "s3://bucket/team/runs/k");
        let debug = format!("{storage:?}");
        assert!(debug.contains("s3://bucket/team/runs") && !debug.contains("secret"));

        let bare = S3Storage::with_builder("b", "", AmazonS3Builder::new()).unwrap();
        assert_eq!(bare.path("a/b").as_ref(), "a/b");
        assert_eq!(bare.url("a/b"), "s3://b/a/b");
        assert_eq!(bare.with_part_size(1).part_bytes, MIN_PART_BYTES);
    }

    #[test]
    fn uploads_are_signed_unless_writes_need_headers_of_their_own() {
        let plain = S3Storage::with_builder("b", "", AmazonS3Builder::new()).unwrap();
        assert!(plain.signed_uploads().is_some());
        for key in UPLOAD_HEADER_SETTINGS {
            let value = match key {
                "aws_server_side_encryption" => "AES256",
                "aws_sse_bucket_key_enabled" => "true",
                "aws_checksum_algorithm" => "sha256",
                _ => "a2V5",
            };
            let builder = AmazonS3Builder::new().with_config(key.parse().unwrap(), value);
            let storage = S3Storage::with_builder("b", "", builder).unwrap();
            assert!(storage.signed_uploads().is_none(), "{key}");
        }
    }
}
