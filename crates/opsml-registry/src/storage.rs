//! Where artifact bytes (always ciphertext) are kept: a local directory by
//! default, or an S3-compatible bucket; every backend implements the same trait.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::object_storage::S3Storage;
use crate::{RegistryError, Result};

/// Environment variable naming the artifact storage.
pub const STORAGE_URI_ENV: &str = "OPSML_STORAGE_URI";

/// Bytes copied per read while streaming into storage.
const COPY_BUFFER_BYTES: usize = 1 << 20;

/// Where artifacts are stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StorageUri {
    /// A local directory.
    Local(PathBuf),
    /// An S3-compatible bucket; `prefix` is empty or `/`-separated segments
    /// without leading or trailing `/`.
    S3 { bucket: String, prefix: String },
}

impl StorageUri {
    /// Parses a directory path (optionally `file://`; relative paths are taken
    /// from `cwd`) or `s3://bucket[/prefix]`. `gs://` and `az://` are
    /// recognised and refused until their backends are built in.
    pub fn parse(uri: &str, cwd: &Path) -> Result<Self> {
        let invalid = |reason: &str| RegistryError::InvalidUri {
            what: "storage",
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = uri.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if let Some(rest) = trimmed.strip_prefix("s3://") {
            return parse_s3(rest).map_err(|reason| invalid(&reason));
        }
        for (scheme, backend) in [("gs://", "gcs"), ("az://", "azure")] {
            if trimmed.starts_with(scheme) {
                return Err(RegistryError::UnsupportedBackend {
                    what: "storage",
                    uri: uri.to_owned(),
                    backend,
                });
            }
        }
        let path = trimmed.strip_prefix("file://").unwrap_or(trimmed);
        if path.contains("://") {
            return Err(invalid(
                "unknown scheme; expected a directory, s3://, gs:// or az://",
            ));
        }
        Ok(Self::Local(cwd.join(path)))
    }

    /// The storage of `OPSML_STORAGE_URI`, or `<cwd>/opsml_registries`.
    pub fn from_env() -> Result<Self> {
        let cwd = std::env::current_dir().map_err(|source| RegistryError::CreateDir {
            path: PathBuf::from("."),
            source,
        })?;
        match std::env::var(STORAGE_URI_ENV) {
            Ok(value) if !value.trim().is_empty() => Self::parse(&value, &cwd),
            _ => Ok(Self::Local(cwd.join("opsml_registries"))),
        }
    }

    /// Opens the storage. An S3 bucket takes its endpoint, region and
    /// credentials from the standard `AWS_*` variables; nothing is sent to it
    /// until the first read or write.
    pub fn open(&self) -> Result<Box<dyn ArtifactStorage>> {
        Ok(match self {
            Self::Local(root) => Box::new(LocalStorage::new(root.clone())),
            Self::S3 { bucket, prefix } => Box::new(S3Storage::from_env(bucket, prefix)?),
        })
    }
}

/// The bucket and prefix of what follows `s3://`, or why it is not one.
fn parse_s3(rest: &str) -> std::result::Result<StorageUri, String> {
    if rest.contains(['?', '#']) {
        return Err("query strings and fragments are not supported; \
                    configure the endpoint and credentials with AWS_* variables"
            .to_owned());
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("no bucket; expected s3://bucket or s3://bucket/prefix".to_owned());
    }
    if !bucket
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(format!(
            "bucket {bucket:?} may only hold letters, digits, '.', '-' and '_'"
        ));
    }
    let prefix = prefix.trim_end_matches('/');
    if !prefix.is_empty() {
        for segment in prefix.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(format!(
                    "prefix {prefix:?} has an empty, '.' or '..' segment"
                ));
            }
        }
    }
    Ok(StorageUri::S3 {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    })
}

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

/// Objects as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn error(&self, key: &str, source: io::Error) -> RegistryError {
        RegistryError::Storage {
            location: self.path(key).display().to_string(),
            source,
        }
    }
}

impl ArtifactStorage for LocalStorage {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, key: &str, source: &mut dyn Read) -> Result<u64> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| self.error(key, e))?;
        // Written beside the destination and renamed over it: readers never see
        // half an object, and a failure leaves the previous version in place.
        let mut temp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)
            .map_err(|e| self.error(key, e))?;
        let written = copy_large(source, temp.as_file_mut()).map_err(|e| match e {
            CopyError::Read(source) => RegistryError::UploadSource(source),
            CopyError::Write(source) => self.error(key, source),
        })?;
        temp.persist(&path).map_err(|e| self.error(key, e.error))?;
        Ok(written)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let file = File::open(self.path(key)).map_err(|e| self.error(key, e))?;
        Ok(Box::new(file))
    }

    fn delete(&self, key: &str) -> Result<()> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        match fs::remove_dir_all(self.path(prefix)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(prefix, e)),
        }
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
pub(crate) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// `io::copy` with a large buffer that tells read failures (the source, where
/// decryption errors travel) from write failures (the destination).
pub(crate) fn copy_large(
    source: &mut dyn Read,
    sink: &mut dyn Write,
) -> std::result::Result<u64, CopyError> {
    let mut buffer = vec![0u8; COPY_BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        sink.write_all(&buffer[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directories_and_buckets_and_refuses_other_object_stores() {
        let cwd = Path::new("/work");
        assert_eq!(
            StorageUri::parse("artifacts", cwd).unwrap(),
            StorageUri::Local("/work/artifacts".into())
        );
        assert_eq!(
            StorageUri::parse("file:///data/a", cwd).unwrap(),
            StorageUri::Local("/data/a".into())
        );
        let s3 = |bucket: &str, prefix: &str| StorageUri::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        };
        assert_eq!(
            StorageUri::parse("s3://bucket", cwd).unwrap(),
            s3("bucket", "")
        );
        assert_eq!(
            StorageUri::parse("s3://bucket/", cwd).unwrap(),
            s3("bucket", "")
        );
        assert_eq!(
            StorageUri::parse(" s3://my.bucket-1/team/runs/ ", cwd).unwrap(),
            s3("my.bucket-1", "team/runs")
        );
        for (uri, needle) in [
            ("s3://", "no bucket"),
            ("s3:///prefix", "no bucket"),
            ("s3://bu cket/p", "may only hold"),
            ("s3://bucket//p", "empty"),
            ("s3://bucket/a/../b", "'..'"),
            ("s3://bucket/p?region=x", "AWS_"),
        ] {
            let err = StorageUri::parse(uri, cwd).unwrap_err().to_string();
            assert!(err.contains(uri) && err.contains(needle), "{uri}: {err}");
            assert!(err.starts_with("invalid storage uri"), "{err}");
        }
        for uri in ["gs://bucket/prefix", "az://container"] {
            let err = StorageUri::parse(uri, cwd).unwrap_err();
            assert!(
                matches!(err, RegistryError::UnsupportedBackend { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(uri), "{err}");
        }
        assert!(StorageUri::parse("ftp://x", cwd).is_err());
    }

    #[test]
    fn put_replaces_whole_objects_and_delete_prefix_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().join("root"));
        storage.put("u1/a/b.bin", &mut &b"first"[..]).unwrap();
        storage.put("u1/a/b.bin", &mut &b"second"[..]).unwrap();
        let mut text = String::new();
        storage
            .open("u1/a/b.bin")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "second");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("root/u1/a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["b.bin"]);
        storage.delete_prefix("u1").unwrap();
        assert!(storage.open("u1/a/b.bin").is_err());
        storage.delete_prefix("u1").unwrap();
    }

    #[test]
    fn a_failing_source_leaves_the_previous_object() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("source broke"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_owned());
        storage.put("k", &mut &b"kept"[..]).unwrap();
        let err = storage.put("k", &mut Failing).unwrap_err();
        assert!(matches!(err, RegistryError::UploadSource(_)), "{err}");
        let mut text = String::new();
        storage
            .open("k")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "kept");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
