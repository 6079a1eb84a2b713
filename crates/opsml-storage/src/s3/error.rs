//! `object_store` failures as storage errors that name the bucket and key.

use std::fmt;
use std::io;

use crate::error::StorageError;

/// How S3 (and the servers compatible with it) says that a bucket does not
/// exist, in the body that `object_store` quotes in its error.
const NO_SUCH_BUCKET: &str = "<Code>NoSuchBucket</Code>";

/// Whether `error` says the object is missing, not its bucket.
pub(crate) fn is_missing_object(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::NotFound { .. }) && !is_missing_bucket(error)
}

fn is_missing_bucket(error: &object_store::Error) -> bool {
    error.to_string().contains(NO_SUCH_BUCKET)
}

/// A failure at `location` (`s3://bucket/key`) of `bucket`.
pub(crate) fn storage_error(
    bucket: &str,
    location: String,
    error: object_store::Error,
) -> StorageError {
    let source = if is_missing_bucket(&error) {
        io::Error::new(
            io::ErrorKind::NotFound,
            MissingBucket {
                bucket: bucket.to_owned(),
                source: error,
            },
        )
    } else {
        io_error(error)
    };
    StorageError::Io { location, source }
}

/// `error` with an `io::ErrorKind` that tells a missing object and refused
/// credentials from other failures.
pub(crate) fn io_error(error: object_store::Error) -> io::Error {
    let kind = match &error {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error)
}

/// The bucket itself is not there.
#[derive(Debug)]
struct MissingBucket {
    bucket: String,
    source: object_store::Error,
}

impl fmt::Display for MissingBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the bucket {:?} does not exist (check the bucket in OPSML_STORAGE_URI, \
             and AWS_ENDPOINT_URL and AWS_REGION for where it is looked for)",
            self.bucket
        )
    }
}

impl std::error::Error for MissingBucket {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(body: &str) -> object_store::Error {
        object_store::Error::NotFound {
            path: "p/k".to_owned(),
            source: body.to_owned().into(),
        }
    }

    #[test]
    fn a_missing_bucket_is_told_from_a_missing_object() {
        let bucket = not_found("404 Not Found: <Error><Code>NoSuchBucket</Code></Error>");
        assert!(!is_missing_object(&bucket));
        let err = storage_error("b", "s3://b/p/k".to_owned(), bucket);
        let text = err.to_string();
        assert!(text.contains("s3://b/p/k") && text.contains("bucket \"b\" does not exist"));
        let StorageError::Io { source, .. } = err else {
            panic!("{text}");
        };
        assert_eq!(source.kind(), io::ErrorKind::NotFound);

        let object = not_found("404 Not Found: <Error><Code>NoSuchKey</Code></Error>");
        assert!(is_missing_object(&object));
        let StorageError::Io { source, .. } = storage_error("b", "s3://b/p/k".to_owned(), object)
        else {
            panic!();
        };
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
    }
}
