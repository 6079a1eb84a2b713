//! Signed uploads into an S3-compatible bucket: a server signs, a client sends the bytes
//! straight to the bucket. The bucket checks each part against the upload it belongs to, so
//! a URL signed for one object writes nothing else.

use std::time::Duration;

use object_store::multipart::{MultipartStore, PartId};
use object_store::signer::{Method, SignedUrlOptions, Signer};

use opsml_process::runtime;

use super::S3Storage;
use crate::artifact_storage::SignedUploads;
use crate::error::Result;

/// The most parts S3 joins into one object.
pub const MAX_UPLOAD_PARTS: u32 = 10_000;

impl SignedUploads for S3Storage {
    fn upload_url(&self, key: &str, valid_for: Duration) -> Result<String> {
        let client = self.client()?;
        runtime()
            .block_on(client.signed_url(Method::PUT, &self.path(key), valid_for))
            .map(|url| url.to_string())
            .map_err(|e| self.error(key, e))
    }

    fn create_multipart(&self, key: &str) -> Result<String> {
        let client = self.client()?;
        runtime()
            .block_on(client.create_multipart(&self.path(key)))
            .map_err(|e| self.error(key, e))
    }

    fn part_urls(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[u32],
        valid_for: Duration,
    ) -> Result<Vec<String>> {
        let client = self.client()?;
        let path = self.path(key);
        runtime().block_on(async {
            let mut urls = Vec::with_capacity(parts.len());
            for part in parts {
                let options = SignedUrlOptions::new().with_query([
                    ("partNumber", part.to_string()),
                    ("uploadId", upload_id.to_owned()),
                ]);
                let url = client
                    .signed_url_opts(Method::PUT, &path, valid_for, &options)
                    .await
                    .map_err(|e| self.error(key, e))?;
                urls.push(url.to_string());
            }
            Ok(urls)
        })
    }

    fn complete_multipart(&self, key: &str, upload_id: &str, etags: Vec<String>) -> Result<()> {
        let client = self.client()?;
        let parts = etags
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        runtime()
            .block_on(client.complete_multipart(&self.path(key), &upload_id.to_owned(), parts))
            .map(drop)
            .map_err(|e| self.error(key, e))
    }

    fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let client = self.client()?;
        runtime()
            .block_on(client.abort_multipart(&self.path(key), &upload_id.to_owned()))
            .map_err(|e| self.error(key, e))
    }
}
