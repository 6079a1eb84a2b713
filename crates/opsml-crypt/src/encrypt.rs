//! Encryption of a plaintext reader into the artifact format.

use std::fmt;
use std::io::{self, BufRead, Chain, Cursor, Read};
use std::sync::Arc;

use crate::compress::{compress_chunk, fill_chunk, worth_it, Compressing, CHUNK};
use crate::format::{segment_aad, Header, FLAG_ZSTD, HEADER_LEN, NONCE_PREFIX_LEN, SEGMENT_SIZE};
use crate::keys::{random_bytes, DataKey};
use crate::pipeline::{Direction, Pipeline, Shared};
use crate::segment::SegmentCipher;
use crate::workers::Workers;

/// Options for [`EncryptingReader`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncryptOptions {
    /// Compress the plaintext with zstd before encrypting it (see [`crate::should_compress`]).
    ///
    /// The first MiB is compressed first as a sample: when zstd saves less than a tenth of it,
    /// the artifact is stored uncompressed instead (the header records which), since
    /// decompressing it later would cost more than the few bytes it saves.
    pub compress: bool,
}

/// Where an [`EncryptingReader`] takes the bytes to encrypt from.
enum Source<R: Read> {
    /// Before the first read: the settings that depend on the start of the input.
    Start(Option<Start<R>>),
    /// The plaintext, after what was read of it to decide about compression.
    Plain(Chain<Cursor<Vec<u8>>, R>),
    Zstd(Compressing<R>),
}

struct Start<R> {
    reader: R,
    key: DataKey,
    associated: Vec<u8>,
    compress: bool,
    /// The first chunk of plaintext, when compression was asked for (kept across an I/O error).
    sample: Vec<u8>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(reader) => reader.read(buf),
            Source::Zstd(reader) => reader.read(buf),
            Source::Start(_) => unreachable!("the source is read only once started"),
        }
    }
}

/// Encrypts a plaintext reader into the opsml encrypted artifact format, as a reader.
///
/// Reading yields the header and then the encrypted segments. Memory use is bounded whatever
/// the size of the plaintext (some MiB at most). Inputs larger than 1 MiB are encrypted, and
/// compressed, on worker threads (one per core, at most four) while the caller's thread reads
/// and writes. `BufRead` serves the ciphertext from the internal buffers without a copy. See
/// the [crate documentation](crate) for the format.
pub struct EncryptingReader<R: Read> {
    source: Source<R>,
    header: [u8; HEADER_LEN],
    header_sent: usize,
    /// Set up by the first read, once the header is final.
    pipeline: Option<Pipeline>,
}

impl<R: Read> EncryptingReader<R> {
    /// Encrypts what `plaintext` yields under `key`.
    ///
    /// `associated` is authenticated with every segment but not stored: decryption needs the
    /// same bytes (opsml passes the artifact's remote path, so two stored files cannot be
    /// swapped unnoticed). With `options.compress` the plaintext is zstd-compressed first
    /// (see [`EncryptOptions::compress`]). Nothing is read from `plaintext` until the first
    /// read.
    ///
    /// # Panics
    /// When the operating system cannot provide random bytes for the nonce.
    pub fn new(plaintext: R, key: &DataKey, associated: &[u8], options: EncryptOptions) -> Self {
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        random_bytes(&mut nonce_prefix);
        let header = Header {
            flags: 0,
            segment_size: SEGMENT_SIZE,
            nonce_prefix,
        }
        .encode();
        Self {
            source: Source::Start(Some(Start {
                reader: plaintext,
                key: key.clone(),
                associated: associated.to_vec(),
                compress: options.compress,
                sample: Vec::new(),
            })),
            header,
            header_sent: 0,
            pipeline: None,
        }
    }

    /// Decides about compression from the start of the input, and sets up the pipeline.
    fn start(&mut self) -> io::Result<()> {
        let Source::Start(slot) = &mut self.source else {
            return Ok(());
        };
        #[allow(clippy::expect_used, reason = "an encrypting reader starts once")]
        let start = slot.as_mut().expect("an encrypting reader starts once");
        let workers = Arc::new(Workers::new());
        let mut frame = None;
        let mut eof = false;
        if start.compress {
            if start.sample.capacity() == 0 {
                start.sample.reserve_exact(CHUNK);
            }
            eof = fill_chunk(&mut start.reader, &mut start.sample)?;
            let compressed = compress_chunk(&start.sample)?;
            if worth_it(start.sample.len(), compressed.len()) {
                frame = Some(compressed);
            }
        }
        #[allow(clippy::expect_used, reason = "an encrypting reader starts once")]
        let Start {
            reader,
            key,
            associated,
            sample,
            ..
        } = slot.take().expect("an encrypting reader starts once");
        self.source = match frame {
            Some(frame) => {
                self.header[9] |= FLAG_ZSTD;
                Source::Zstd(Compressing::new(reader, frame, eof, Arc::clone(&workers)))
            }
            None => Source::Plain(Cursor::new(sample).chain(reader)),
        };
        #[allow(
            clippy::expect_used,
            reason = "the header's last bytes are the nonce prefix, of its fixed length"
        )]
        let nonce_prefix: [u8; NONCE_PREFIX_LEN] =
            self.header[14..].try_into().expect("nonce prefix bytes");
        let shared = Shared {
            cipher: SegmentCipher::new(key.bytes(), &nonce_prefix),
            aad: segment_aad(&self.header, &associated),
            direction: Direction::Seal,
            segment_size: SEGMENT_SIZE as usize,
        };
        self.pipeline = Some(Pipeline::new(shared, workers));
        Ok(())
    }

    /// Whether the plaintext is being compressed; known once reading has started.
    pub fn is_compressed(&self) -> Option<bool> {
        self.pipeline
            .as_ref()
            .map(|_| self.header[9] & FLAG_ZSTD != 0)
    }
}

impl<R: Read> Read for EncryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for EncryptingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.start()?;
        if self.header_sent < HEADER_LEN {
            return Ok(&self.header[self.header_sent..]);
        }
        #[allow(
            clippy::expect_used,
            reason = "fill_buf starts the pipeline before it is used"
        )]
        let pipeline = self.pipeline.as_mut().expect("started");
        pipeline.fill_buf(&mut self.source)
    }

    fn consume(&mut self, amount: usize) {
        let in_header = amount.min(HEADER_LEN - self.header_sent);
        self.header_sent += in_header;
        if amount > in_header {
            if let Some(pipeline) = &mut self.pipeline {
                pipeline.consume(amount - in_header);
            }
        }
    }
}

impl<R: Read> fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingReader")
            .field("compressed", &self.is_compressed())
            .field(
                "segments",
                &self.pipeline.as_ref().map(Pipeline::segments_submitted),
            )
            .field(
                "failure",
                &self.pipeline.as_ref().and_then(Pipeline::failure),
            )
            .finish_non_exhaustive()
    }
}
