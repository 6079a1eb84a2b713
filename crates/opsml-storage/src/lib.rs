//! Where artifact bytes go: the [`ArtifactStorage`] trait, a local directory
//! ([`LocalStorage`]) and S3-compatible buckets ([`S3Storage`]), chosen by a
//! [`StorageUri`]. Every byte a storage holds is ciphertext: encryption and the
//! digests of what is stored ([`hashing`]) happen before bytes reach it.

mod artifact_storage;
mod copy;
mod error;
pub mod hashing;
mod local;
mod s3;
mod stream_reader;
mod uri;

pub use artifact_storage::{ArtifactStorage, SignedUploads};
pub use copy::{copy_large, read_part, CopyError};
pub use error::{Result, StorageError};
pub use local::LocalStorage;
pub use s3::{S3Storage, DEFAULT_PART_BYTES, MAX_UPLOAD_PARTS, MIN_PART_BYTES};
pub use stream_reader::StreamReader;
pub use uri::{StorageUri, STORAGE_URI_ENV};
