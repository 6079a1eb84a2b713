//! Artifact objects kept by an opsml server (in whatever storage it uses), streamed through
//! it as ciphertext. Keys are those the artifacts module makes, `experiment/{uid}/objects/{id}`.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures_util::{StreamExt, TryStreamExt};

use crate::client::{is_status, ApiClient};
use crate::direct::{self, Direct};
use crate::outbox::Outbox;
use opsml_api::wire::DownloadUrl;
use opsml_process::runtime;
use opsml_storage::{ArtifactStorage, Result, StorageError, StreamReader};
use opsml_store::StoreError;

/// Bytes per chunk of an upload.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks read ahead of the network.
const CHUNKS_IN_FLIGHT: usize = 4;

#[derive(Debug)]
pub(crate) struct HttpStorage {
    client: Arc<ApiClient>,
    /// Where objects wait while the server cannot take them; `None` while delivering them.
    outbox: Option<Outbox>,
}

impl HttpStorage {
    pub(crate) fn new(client: Arc<ApiClient>, outbox: Option<Outbox>) -> Self {
        Self { client, outbox }
    }

    /// The experiment and object id of `key` (`experiment/{uid}/objects/{id}`).
    fn object_of(key: &str) -> Option<(&str, &str)> {
        let mut parts = key.split('/');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("experiment"), Some(uid), Some("objects"), Some(id), None) => Some((uid, id)),
            _ => None,
        }
    }

    /// The route of object `key`, or an error for a key this storage does not keep.
    fn route(&self, key: &str) -> Result<String> {
        let parts: Vec<&str> = key.split('/').collect();
        match parts.as_slice() {
            ["experiment", uid, "objects", id] => Ok(format!("/experiments/{uid}/objects/{id}")),
            ["experiment", uid] => Ok(format!("/experiments/{uid}/objects")),
            _ => Err(StorageError::Io {
                location: self.location(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{key:?} is not an experiment's object"),
                ),
            }),
        }
    }

    fn delete_route(&self, route: &str) -> Result<()> {
        let url = self.client.url(route);
        let deleted = runtime().block_on(async {
            let response = self.client.send(|http| http.delete(&url)).await?;
            self.client.check(response).await.map(drop)
        });
        match deleted {
            // The experiment (and with it its objects) is gone already.
            Err(e) if is_status(&e, 404) => Ok(()),
            other => Ok(other?),
        }
    }
}

/// Fills `buf` from `source` unless it ends first; the bytes read.
fn read_full(source: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl HttpStorage {
    /// The object streamed straight from the storage through a URL the server signed, or
    /// `None` when its storage signs none.
    fn open_signed(&self, route: &str) -> opsml_store::Result<Option<Box<dyn Read + Send>>> {
        let signed: DownloadUrl = self.client.get(&format!("{route}/url"), &[])?;
        let Some(url) = signed.url else {
            return Ok(None);
        };
        let response = runtime().block_on(async {
            let response = self
                .client
                .transfer()
                .get(&url)
                .send()
                .await
                .map_err(|e| self.client.unreachable(&e))?;
            self.client.check(response).await
        })?;
        let stream = response.bytes_stream().map_err(io::Error::other).boxed();
        let location = url.split('?').next().unwrap_or_default().to_owned();
        Ok(Some(Box::new(StreamReader::new(
            runtime().handle().clone(),
            stream,
            location,
        ))))
    }

    /// Streams `source` through the server into the object at `route`.
    fn put_through_server(&self, route: &str, source: &mut dyn Read) -> Result<u64> {
        let url = self.client.url(route);
        let runtime = runtime();
        let token = runtime.block_on(self.client.token())?;
        // The request streams the chunks this thread reads from `source`, a few at a time.
        let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
        let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        });
        let request = self
            .client
            .transfer()
            .put(&url)
            .bearer_auth(token)
            .body(reqwest::Body::wrap_stream(chunks));
        let sent = runtime.spawn(async move { request.send().await });
        let mut total = 0u64;
        let mut failed = None;
        loop {
            let mut chunk = vec![0; CHUNK_BYTES];
            let read = match read_full(source, &mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    // The server sees the body end in an error and stores nothing.
                    let _ = sender.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
                    failed = Some(e);
                    break;
                }
            };
            chunk.truncate(read);
            total += read as u64;
            if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                // The request ended early; its answer says why.
                break;
            }
        }
        drop(sender);
        let response = runtime
            .block_on(sent)
            .map_err(|e| StoreError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        if let Some(e) = failed {
            return Err(StorageError::UploadSource(e));
        }
        let response = response.map_err(|e| self.client.unreachable(&e))?;
        runtime.block_on(self.client.check(response))?;
        Ok(total)
    }
}

impl ArtifactStorage for HttpStorage {
    fn location(&self) -> String {
        format!("{} (artifact objects)", self.client.base())
    }

    fn put(&self, key: &str, source: &mut dyn Read) -> Result<u64> {
        self.put_object(key, source)
    }

    fn keep_for_later(&self, key: &str, source: &mut dyn Read) -> Option<Result<u64>> {
        self.keep_object(key, source)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        self.open_object(key)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.delete_route(&self.route(key)?)
    }

    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        self.delete_route(&self.route(prefix)?)
    }
}

impl HttpStorage {
    fn put_object(&self, key: &str, source: &mut dyn Read) -> Result<u64> {
        let route = self.route(key)?;
        if let (Some(outbox), Some((uid, _))) = (&self.outbox, Self::object_of(key)) {
            if outbox.awaits_create(uid) {
                // The experiment is not on the server yet: its objects wait with it.
                if let Some(kept) = self.keep_object(key, source) {
                    return kept;
                }
            }
        }
        if self.client.storage_out_of_reach() {
            return self.put_through_server(&route, source);
        }
        let read = match direct::upload(&self.client, &route, source)? {
            Direct::Stored(size) => return Ok(size),
            Direct::NotSigned(read) => read,
            Direct::OutOfReach(read) => {
                self.client.mark_storage_out_of_reach();
                read
            }
        };
        self.put_through_server(&route, &mut read.reader().chain(source))
    }

    fn keep_object(&self, key: &str, source: &mut dyn Read) -> Option<Result<u64>> {
        let (uid, id) = Self::object_of(key)?;
        Some(self.outbox.as_ref()?.keep_object(uid, id, source))
    }

    fn open_object(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let route = self.route(key)?;
        if !self.client.storage_out_of_reach() {
            match self.open_signed(&route) {
                Ok(Some(reader)) => return Ok(reader),
                Ok(None) => {}
                // The storage may not be reachable from here: the server still is.
                Err(e) => {
                    tracing::debug!(error = %e, "direct download failed; through the server");
                    if matches!(e, StoreError::Unreachable { .. }) {
                        self.client.mark_storage_out_of_reach();
                    }
                }
            }
        }
        let url = self.client.url(&route);
        let response = runtime()
            .block_on(async {
                let response = self.client.send_transfer(|http| http.get(&url)).await?;
                self.client.check(response).await
            })
            .map_err(|e| match e {
                // As the other storages say it, so that callers name the artifact.
                StoreError::Server {
                    status: 404,
                    message,
                    ..
                } => StorageError::Io {
                    location: url.clone(),
                    source: io::Error::new(io::ErrorKind::NotFound, message),
                },
                other => other.into(),
            })?;
        let stream = response.bytes_stream().map_err(io::Error::other).boxed();
        Ok(Box::new(StreamReader::new(
            runtime().handle().clone(),
            stream,
            url,
        )))
    }
}
