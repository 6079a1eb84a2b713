//! Decryption of the artifact format back into the plaintext.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use crate::error::CryptError;
use crate::format::{segment_aad, Header, FLAG_ZSTD, HEADER_LEN};
use crate::keys::DataKey;
use crate::pipeline::{Direction, Pipeline, Shared};
use crate::segment::SegmentCipher;
use crate::workers::Workers;

/// The authenticated plaintext of the segments (still compressed when the header says so).
struct Segments<R: Read> {
    inner: R,
    pipeline: Pipeline,
}

impl<R: Read> Read for Segments<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Segments<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.pipeline.fill_buf(&mut self.inner)
    }

    fn consume(&mut self, amount: usize) {
        self.pipeline.consume(amount);
    }
}

/// Where a [`DecryptingReader`] takes the plaintext from.
enum Plaintext<R: Read> {
    Plain(Box<Segments<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Segments<R>>>),
}

/// Decrypts an artifact in the opsml encrypted format, as a reader of the original plaintext.
///
/// Every segment is authenticated before any of its bytes are returned, and the end of the
/// plaintext is reported only after the final segment has been authenticated. Any alteration,
/// truncation, reordering or splicing of the stored bytes, a wrong key or wrong associated data
/// makes `read` fail with an [`io::Error`] carrying a [`CryptError`] (see
/// [`crate::crypt_error`]); the error repeats on every later read. Large artifacts are
/// decrypted on worker threads, as with [`crate::EncryptingReader`].
pub struct DecryptingReader<R: Read> {
    plaintext: Plaintext<R>,
}

impl<R: Read> DecryptingReader<R> {
    /// Reads and checks the header of `ciphertext`, ready to decrypt it with `key`.
    ///
    /// `associated` must be the bytes given when the artifact was encrypted. Fails with
    /// [`CryptError::Malformed`] when the input is not an encrypted artifact,
    /// [`CryptError::UnsupportedVersion`] for a format version this build does not read,
    /// [`CryptError::Truncated`] when it ends within the header, and [`CryptError::Io`] when
    /// reading fails.
    pub fn new(mut ciphertext: R, key: &DataKey, associated: &[u8]) -> Result<Self, CryptError> {
        let mut bytes = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match ciphertext.read(&mut bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(CryptError::Io(err)),
            }
        }
        let header = Header::decode(&bytes, got)?;
        let shared = Shared {
            cipher: SegmentCipher::new(key.bytes(), &header.nonce_prefix),
            aad: segment_aad(&bytes, associated),
            direction: Direction::Open,
            segment_size: header.segment_size as usize,
        };
        let segments = Segments {
            inner: ciphertext,
            pipeline: Pipeline::new(shared, Arc::new(Workers::new())),
        };
        let plaintext = if header.flags & FLAG_ZSTD == 0 {
            Plaintext::Plain(Box::new(segments))
        } else {
            let decoder =
                zstd::stream::read::Decoder::with_buffer(segments).map_err(CryptError::Io)?;
            Plaintext::Zstd(Box::new(decoder))
        };
        Ok(Self { plaintext })
    }

    /// Whether the artifact's plaintext was stored zstd-compressed.
    pub fn is_compressed(&self) -> bool {
        matches!(self.plaintext, Plaintext::Zstd(_))
    }

    fn segments(&self) -> &Segments<R> {
        match &self.plaintext {
            Plaintext::Plain(segments) => segments,
            Plaintext::Zstd(decoder) => decoder.get_ref(),
        }
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.plaintext {
            Plaintext::Plain(segments) => segments.read(buf),
            Plaintext::Zstd(decoder) => {
                let n = decoder.read(buf)?;
                // zstd reads its input to the end, where the final segment is authenticated;
                // make sure of it before reporting the end of the plaintext.
                if n == 0 && !buf.is_empty() && !decoder.get_mut().fill_buf()?.is_empty() {
                    return Err(CryptError::Malformed(
                        "data after the end of the compressed stream".to_owned(),
                    )
                    .into_io());
                }
                Ok(n)
            }
        }
    }
}

impl<R: Read> fmt::Debug for DecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pipeline = &self.segments().pipeline;
        f.debug_struct("DecryptingReader")
            .field("compressed", &self.is_compressed())
            .field("segments", &pipeline.segments_submitted())
            .field("failure", &pipeline.failure())
            .finish_non_exhaustive()
    }
}
