//! What every place that keeps artifact bytes (always ciphertext) offers: a local
//! directory, an S3-compatible bucket, or a server reached over HTTP.

use std::fmt;
use std::io::Read;

use crate::error::Result;

/// A flat namespace of objects addressed by `/`-separated keys.
pub trait ArtifactStorage: Send + Sync + fmt::Debug {
    /// Where the storage is, for messages.
    fn location(&self) -> String;

    /// Streams `source` into the object `key`, returning the bytes written. An
    /// existing object is replaced only once every byte is written.
    fn put(&self, key: &str, source: &mut dyn Read) -> Result<u64>;

    /// Keeps the object `key` from `source` where the storage holds what it cannot send now,
    /// to send it later (the client of a server that does not answer keeps it on disk);
    /// `None` where the storage has no such place and the failure of [`ArtifactStorage::put`]
    /// stands.
    fn keep_for_later(&self, _key: &str, _source: &mut dyn Read) -> Option<Result<u64>> {
        None
    }

    /// Streams the object `key`.
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>>;

    /// Removes the object `key`; a missing object is not an error.
    fn delete(&self, key: &str) -> Result<()>;

    /// Removes every object under `prefix/`.
    fn delete_prefix(&self, prefix: &str) -> Result<()>;

    /// A URL that downloads object `key` without credentials for `valid_for`, where the
    /// storage can sign one (a server hands these out so that downloads skip it).
    fn download_url(&self, _key: &str, _valid_for: std::time::Duration) -> Result<Option<String>> {
        Ok(None)
    }

    /// Uploads through URLs the storage signs, where it can (a server hands these out so that
    /// uploads skip it).
    fn signed_uploads(&self) -> Option<&dyn SignedUploads> {
        None
    }
}

/// Uploads straight to a storage through URLs it signs: one `PUT` of a whole object, or a
/// multipart upload whose parts go up one signed `PUT` each. Nothing of a multipart upload
/// is visible until it is completed.
pub trait SignedUploads: Send + Sync {
    /// A URL that `PUT`s object `key` (with a `Content-Length`) for `valid_for`.
    fn upload_url(&self, key: &str, valid_for: std::time::Duration) -> Result<String>;

    /// Starts a multipart upload of object `key`; its id.
    fn create_multipart(&self, key: &str) -> Result<String>;

    /// URLs that `PUT` parts `parts` (numbered from 1) of upload `upload_id`, in that order.
    fn part_urls(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[u32],
        valid_for: std::time::Duration,
    ) -> Result<Vec<String>>;

    /// Makes the object of the parts whose `PUT`s answered `etags`, in part order.
    fn complete_multipart(&self, key: &str, upload_id: &str, etags: Vec<String>) -> Result<()>;

    /// Drops the upload and its parts.
    fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()>;
}
