use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Errors of key handling and of the encrypted artifact format.
///
/// While an artifact is being decrypted through [`std::io::Read`], these errors arrive wrapped in
/// an [`io::Error`]; [`crate::crypt_error`] gets them back out.
#[derive(Debug, Error)]
pub enum CryptError {
    /// A wrapped data key did not authenticate under this master key and context.
    #[error(
        "the data key cannot be unwrapped: the master key is not the one it was stored with, or the key belongs to another experiment"
    )]
    WrongMasterKey,
    /// A segment of an encrypted artifact failed authentication.
    #[error(
        "the artifact was modified after it was stored, or it is read with the wrong key or path (authentication failed)"
    )]
    Tampered,
    /// An encrypted artifact ends before its final segment.
    #[error("the artifact is truncated: it ends before its final encrypted segment")]
    Truncated,
    /// Bytes that are not in the layout this crate writes.
    #[error("malformed encrypted data: {0}")]
    Malformed(String),
    /// An encrypted artifact written in a format version this build does not read.
    #[error(
        "the artifact uses encrypted format version {0}, which this version of opsml cannot read"
    )]
    UnsupportedVersion(u8),
    /// The master key file could not be read or created.
    #[error("master key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A secret given as text is not a valid key (the message never repeats the secret).
    #[error("invalid secret: {0}")]
    InvalidSecret(String),
    /// Reading the encrypted artifact's header failed.
    #[error("cannot read the encrypted artifact: {0}")]
    Io(#[source] io::Error),
}

impl CryptError {
    /// Wraps the error in an [`io::Error`] whose inner error is this one, with a matching kind.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match self {
            CryptError::Io(err) => return err,
            CryptError::Truncated => io::ErrorKind::UnexpectedEof,
            CryptError::KeyFile { .. } => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

/// The [`CryptError`] inside an [`io::Error`] returned while reading an encrypted artifact.
///
/// Returns `None` for plain I/O errors of the underlying reader.
pub fn crypt_error(err: &io::Error) -> Option<&CryptError> {
    err.get_ref()?.downcast_ref::<CryptError>()
}
