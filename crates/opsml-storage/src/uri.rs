//! Which storage a URI names: a directory or an S3-compatible bucket.

use std::path::{Path, PathBuf};

use crate::artifact_storage::ArtifactStorage;
use crate::error::{Result, StorageError};
use crate::local::LocalStorage;
use crate::s3::S3Storage;

/// Environment variable naming the artifact storage.
pub const STORAGE_URI_ENV: &str = "OPSML_STORAGE_URI";

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
        let invalid = |reason: &str| StorageError::InvalidUri {
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
                return Err(StorageError::UnsupportedBackend {
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
        let cwd = std::env::current_dir().map_err(|source| StorageError::Io {
            location: "the working directory".to_owned(),
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
                matches!(err, StorageError::UnsupportedBackend { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(uri), "{err}");
        }
        assert!(StorageUri::parse("ftp://x", cwd).is_err());
    }
}
