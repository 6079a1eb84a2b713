//! Uploads straight into the server's storage through URLs the server signs (see the
//! server's `uploads` routes): the ciphertext goes from here to the bucket, not through the
//! server. An object smaller than one part goes up in one signed `PUT`; a larger one as a
//! multipart upload, a few parts in flight while the next is read. Signed URLs carry their
//! own authorisation: the bearer token never goes to the storage.

use std::collections::VecDeque;
use std::io::{self, Read};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use reqwest::Method;

use crate::client::{is_status, ApiClient};
use opsml_api::wire::{
    AbortMultipart, CompleteMultipart, MultipartUpload, PartUrls, PartUrlsRequest, UploadUrl,
};
use opsml_process::runtime;
use opsml_storage::{read_part, Result, StorageError, DEFAULT_PART_BYTES, MAX_UPLOAD_PARTS};
use opsml_store::StoreError;

/// Bytes per part, as the server's own S3 uploads use.
const PART_BYTES: usize = DEFAULT_PART_BYTES;
/// Parts being sent while the next one is read: an upload holds at most this many parts
/// plus one in memory.
const PARTS_IN_FLIGHT: usize = 2;
/// Part URLs asked of the server at a time.
const URLS_PER_REQUEST: u32 = 8;
/// Tries of one signed `PUT`, and the wait before the second (twice as long before the third).
const PUT_ATTEMPTS: u32 = 3;
const RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// How a direct upload went.
pub(super) enum Direct {
    /// The object is stored: its size.
    Stored(u64),
    /// Nothing is stored: the storage signs no URLs. These are the bytes already read from
    /// the source, which go through the server instead.
    NotSigned(Bytes),
    /// Nothing is stored: the storage could not be reached from here before any part was
    /// stored. The bytes read, as above.
    OutOfReach(Bytes),
}

/// Uploads `source` into the object at `route` (`/experiments/{uid}/objects/{id}`).
pub(super) fn upload(client: &ApiClient, route: &str, source: &mut dyn Read) -> Result<Direct> {
    let first = next_part(source)?;
    if first.len() < PART_BYTES {
        return upload_whole(client, route, first);
    }
    let created: Option<MultipartUpload> =
        offered(client.call(&Method::POST, &format!("{route}/multipart"), None::<&()>))?;
    let Some(upload_id) = created.and_then(|c| c.upload_id) else {
        return Ok(Direct::NotSigned(first));
    };
    let mut upload = Multipart {
        client,
        route,
        upload_id,
        urls: VecDeque::new(),
        next_part: 1,
    };
    // The first part tells whether the storage is reachable from here at all.
    let first_etag = match upload.url().and_then(|url| {
        runtime().block_on(put_signed(client.transfer().clone(), url, first.clone()))
    }) {
        Ok(etag) => etag,
        Err(e) => {
            tracing::debug!(error = %e, "direct upload failed; through the server");
            upload.abort();
            return Ok(Direct::OutOfReach(first));
        }
    };
    match upload.send_rest(first.len() as u64, first_etag, source) {
        Ok(stored) => Ok(Direct::Stored(stored)),
        Err(e) => {
            upload.abort();
            Err(e)
        }
    }
}

/// The server's answer, or `None` from a server without signed uploads (one older than
/// them answers 404 or 405 to their routes).
fn offered<T>(answer: opsml_store::Result<T>) -> Result<Option<T>> {
    match answer {
        Ok(answer) => Ok(Some(answer)),
        Err(e) if is_status(&e, 404) || is_status(&e, 405) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// One signed `PUT` of a whole (small) object.
fn upload_whole(client: &ApiClient, route: &str, bytes: Bytes) -> Result<Direct> {
    let signed: Option<UploadUrl> = offered(client.get(&format!("{route}/upload-url"), &[]))?;
    let Some(url) = signed.and_then(|s| s.url) else {
        return Ok(Direct::NotSigned(bytes));
    };
    let size = bytes.len() as u64;
    match runtime().block_on(put_signed(client.transfer().clone(), url, bytes.clone())) {
        Ok(_) => Ok(Direct::Stored(size)),
        Err(e) => {
            tracing::debug!(error = %e, "direct upload failed; through the server");
            Ok(Direct::OutOfReach(bytes))
        }
    }
}

/// A multipart upload under way.
struct Multipart<'a> {
    client: &'a ApiClient,
    route: &'a str,
    upload_id: String,
    /// Signed URLs of the parts from `next_part` on.
    urls: VecDeque<String>,
    next_part: u32,
}

impl Multipart<'_> {
    /// The URL of the next part, asking the server for a few more when none is left.
    fn url(&mut self) -> Result<String> {
        if self.urls.is_empty() {
            let first = self.next_part;
            if first > MAX_UPLOAD_PARTS {
                return Err(StorageError::UploadSource(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    format!(
                        "the artifact is larger than {MAX_UPLOAD_PARTS} parts of {} MiB",
                        PART_BYTES >> 20
                    ),
                )));
            }
            let last = (first + URLS_PER_REQUEST - 1).min(MAX_UPLOAD_PARTS);
            let signed: PartUrls = self.client.call(
                &Method::POST,
                &format!("{}/multipart/part-urls", self.route),
                Some(&PartUrlsRequest {
                    upload_id: self.upload_id.clone(),
                    parts: (first..=last).collect(),
                }),
            )?;
            self.urls.extend(signed.urls);
        }
        let url = self.urls.pop_front().ok_or_else(|| StoreError::Server {
            url: self.client.base().to_owned(),
            status: 200,
            code: "bad_response".to_owned(),
            message: "the server signed no part URLs".to_owned(),
        })?;
        self.next_part += 1;
        Ok(url)
    }

    /// Sends the parts after the first (already stored as `first_etag`) and completes the
    /// upload; the object's size.
    fn send_rest(&mut self, size: u64, first_etag: String, source: &mut dyn Read) -> Result<u64> {
        let mut in_flight = VecDeque::new();
        let sent = self.send_parts(size, first_etag, source, &mut in_flight);
        // Parts still going up after a failure would only race the abort.
        for part in in_flight {
            part.abort();
        }
        let (size, etags) = sent?;
        self.client.call_empty(
            &Method::POST,
            &format!("{}/multipart/complete", self.route),
            Some(&CompleteMultipart {
                upload_id: self.upload_id.clone(),
                etags,
            }),
        )?;
        Ok(size)
    }

    /// Reads and sends the parts after the first; the object's size and every part's `ETag`.
    fn send_parts(
        &mut self,
        mut size: u64,
        first_etag: String,
        source: &mut dyn Read,
        in_flight: &mut VecDeque<tokio::task::JoinHandle<Result<String>>>,
    ) -> Result<(u64, Vec<String>)> {
        let runtime = runtime();
        let mut etags = vec![first_etag];
        loop {
            let part = next_part(source)?;
            if part.is_empty() {
                break;
            }
            size += part.len() as u64;
            let url = self.url()?;
            in_flight.push_back(runtime.spawn(put_signed(
                self.client.transfer().clone(),
                url,
                part,
            )));
            if in_flight.len() > PARTS_IN_FLIGHT {
                if let Some(oldest) = in_flight.pop_front() {
                    etags.push(finish(oldest)?);
                }
            }
        }
        while let Some(part) = in_flight.pop_front() {
            etags.push(finish(part)?);
        }
        Ok((size, etags))
    }

    /// Drops the upload's parts; a failure only leaves them to the bucket's lifecycle rules.
    fn abort(&self) {
        let aborted = self.client.call_empty(
            &Method::POST,
            &format!("{}/multipart/abort", self.route),
            Some(&AbortMultipart {
                upload_id: self.upload_id.clone(),
            }),
        );
        if let Err(e) = aborted {
            tracing::warn!(error = %e, "aborting a failed upload failed; the bucket's lifecycle rules must remove its parts");
        }
    }
}

/// `PUT`s `bytes` to a signed URL; the `ETag` the storage answered. A failure to connect
/// or a 5xx is tried again, twice, after a short wait.
async fn put_signed(http: reqwest::Client, url: String, bytes: Bytes) -> Result<String> {
    // The signature is a credential: messages name the object only.
    let location = url.split('?').next().unwrap_or_default().to_owned();
    let attempt = || async {
        let response = http
            .put(&url)
            .body(bytes.clone())
            .send()
            .await
            .map_err(|e| PutFailure::Again(io::Error::other(e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|etag| etag.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| {
                    PutFailure::Final(io::Error::other("the storage answered without an ETag"))
                });
        }
        let text = response.text().await.unwrap_or_default();
        let error = io::Error::other(format!("the storage answered {status}: {}", text.trim()));
        Err(if status.is_server_error() {
            PutFailure::Again(error)
        } else {
            PutFailure::Final(error)
        })
    };
    let waits = ExponentialBuilder::new()
        .with_min_delay(RETRY_WAIT)
        .with_max_times(PUT_ATTEMPTS as usize - 1);
    attempt
        .retry(waits)
        .sleep(tokio::time::sleep)
        .when(|failure| matches!(failure, PutFailure::Again(_)))
        .notify(|failure, _| tracing::debug!(error = %failure.error(), "a signed PUT failed; trying again"))
        .await
        .map_err(|failure| StorageError::Io {
            location,
            source: failure.into_error(),
        })
}

/// Why a signed `PUT` failed, and whether sending it again may help.
#[derive(Debug)]
enum PutFailure {
    /// The storage could not be reached or failed inside (a 5xx).
    Again(io::Error),
    /// The storage refused the request, or answered without an `ETag`.
    Final(io::Error),
}

impl PutFailure {
    fn error(&self) -> &io::Error {
        match self {
            Self::Again(e) | Self::Final(e) => e,
        }
    }

    fn into_error(self) -> io::Error {
        match self {
            Self::Again(e) | Self::Final(e) => e,
        }
    }
}

/// The `ETag` of a part sent in the background.
fn finish(part: tokio::task::JoinHandle<Result<String>>) -> Result<String> {
    runtime().block_on(part).map_err(|e| {
        StorageError::UploadSource(io::Error::other(format!("sending a part failed: {e}")))
    })?
}

/// Up to one part's bytes, fewer only at the end of `source`.
fn next_part(source: &mut dyn Read) -> Result<Bytes> {
    read_part(source, PART_BYTES)
        .map(Bytes::from)
        .map_err(StorageError::UploadSource)
}
