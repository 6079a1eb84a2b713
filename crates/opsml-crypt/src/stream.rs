use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use aead_stream::aead::{self, Buffer};
use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::XChaCha20Poly1305;

use crate::error::CryptError;
use crate::keys::{cipher, random_bytes, DataKey};

/// The bytes every encrypted artifact starts with.
pub const MAGIC: &[u8; 8] = b"OPSMLENC";
/// The format version this build writes (and the only one it reads).
pub const FORMAT_VERSION: u8 = 1;
/// Header flag: the plaintext was zstd-compressed before encryption.
pub const FLAG_ZSTD: u8 = 0b0000_0001;
/// Plaintext bytes per segment in the artifacts this build writes.
pub const SEGMENT_SIZE: u32 = 64 * 1024;
/// Length of the random nonce prefix in the header (the XChaCha20 nonce less the STREAM
/// counter and last-segment flag).
pub const NONCE_PREFIX_LEN: usize = 19;
/// Length of the header: magic, version, flags, segment size, nonce prefix.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 1 + 4 + NONCE_PREFIX_LEN;
/// Length of the authentication tag that follows each segment's ciphertext.
pub const TAG_LEN: usize = 16;
/// Largest segment size a reader accepts from a header.
const MAX_SEGMENT_SIZE: u32 = 16 * 1024 * 1024;
/// zstd level used when compressing before encryption.
const ZSTD_LEVEL: i32 = 3;

/// The STREAM construction over XChaCha20-Poly1305: 19-byte nonce prefix, 32-bit big-endian
/// segment counter, last-segment flag byte.
type Stream = StreamBE32<XChaCha20Poly1305>;

/// Size of an uncompressed artifact once encrypted, for `plaintext_len` bytes of plaintext.
///
/// Compressed artifacts have no size known in advance.
pub fn encrypted_len(plaintext_len: u64) -> u64 {
    let segment = u64::from(SEGMENT_SIZE);
    let segments = plaintext_len.div_ceil(segment).max(1);
    HEADER_LEN as u64 + plaintext_len + segments * TAG_LEN as u64
}

/// Options for [`EncryptingReader`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncryptOptions {
    /// Compress the plaintext with zstd before encrypting it (see [`crate::should_compress`]).
    pub compress: bool,
}

/// A fixed-capacity buffer for one segment, reused for the whole stream.
struct SegmentBuf {
    data: Box<[u8]>,
    len: usize,
}

impl SegmentBuf {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            data: vec![0u8; capacity].into_boxed_slice(),
            len: 0,
        }
    }

    /// Reads from `src` until the buffer holds `want` bytes or `src` is exhausted.
    ///
    /// Bytes read before an error stay in the buffer, so calling again resumes.
    fn fill<R: Read + ?Sized>(&mut self, src: &mut R, want: usize) -> io::Result<()> {
        while self.len < want {
            match src.read(&mut self.data[self.len..want]) {
                Ok(0) => break,
                Ok(n) => self.len += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

impl AsRef<[u8]> for SegmentBuf {
    fn as_ref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl AsMut<[u8]> for SegmentBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.data[..self.len]
    }
}

impl Buffer for SegmentBuf {
    fn extend_from_slice(&mut self, other: &[u8]) -> aead::Result<()> {
        let end = self.len + other.len();
        if end > self.data.len() {
            return Err(aead::Error);
        }
        self.data[self.len..end].copy_from_slice(other);
        self.len = end;
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// Cuts a reader into segments of a fixed size, reading one segment ahead so that the last
/// segment (the one followed by the end of input) is known when it is processed.
struct Segments {
    current: SegmentBuf,
    next: SegmentBuf,
    eof: bool,
}

impl Segments {
    fn new(capacity: usize) -> Self {
        Self {
            current: SegmentBuf::with_capacity(capacity),
            next: SegmentBuf::with_capacity(capacity),
            eof: false,
        }
    }

    /// Fills the current segment (up to `want` bytes) and returns whether it is the last one.
    ///
    /// After an error, calling again resumes where the reading stopped.
    fn load<R: Read + ?Sized>(&mut self, src: &mut R, want: usize) -> io::Result<bool> {
        if !self.eof {
            self.current.fill(src, want)?;
            self.eof = self.current.len < want;
        }
        if !self.eof {
            self.next.fill(src, want)?;
            self.eof = self.next.len < want;
        }
        Ok(self.eof && self.next.len == 0)
    }

    /// Moves on to the segment read ahead.
    fn advance(&mut self) {
        std::mem::swap(&mut self.current, &mut self.next);
        self.next.len = 0;
    }
}

/// Where an [`EncryptingReader`] takes its plaintext from.
enum Source<R: Read> {
    Plain(R),
    Zstd(Box<zstd::stream::read::Encoder<'static, BufReader<R>>>),
    /// The compressor could not be set up; the error is returned by the first read.
    Failed(Option<io::Error>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(reader) => reader.read(buf),
            Source::Zstd(encoder) => encoder.read(buf),
            Source::Failed(err) => Err(err
                .take()
                .unwrap_or_else(|| io::Error::other("the zstd compressor could not be created"))),
        }
    }
}

/// Encrypts a plaintext reader into the opsml encrypted artifact format, as a reader.
///
/// Reading yields the header and then the encrypted segments; memory use is constant whatever
/// the size of the plaintext. See the [crate documentation](crate) for the format.
pub struct EncryptingReader<R: Read> {
    source: Source<R>,
    stream: Stream,
    position: u32,
    /// Header followed by the caller's associated data: the AAD of every segment.
    aad: Vec<u8>,
    header_sent: usize,
    segments: Segments,
    /// Whether `segments.current` holds ciphertext waiting to be read out.
    ready: bool,
    sent: usize,
    done: bool,
}

impl<R: Read> EncryptingReader<R> {
    /// Encrypts what `plaintext` yields under `key`.
    ///
    /// `associated` is authenticated with every segment but not stored: decryption needs the
    /// same bytes (opsml passes the artifact's remote path, so two stored files cannot be
    /// swapped unnoticed). With `options.compress` the plaintext is zstd-compressed first.
    ///
    /// # Panics
    /// When the operating system cannot provide random bytes for the nonce.
    pub fn new(plaintext: R, key: &DataKey, associated: &[u8], options: EncryptOptions) -> Self {
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        random_bytes(&mut nonce_prefix);
        let flags = if options.compress { FLAG_ZSTD } else { 0 };
        let header = encode_header(flags, SEGMENT_SIZE, &nonce_prefix);

        let source = if options.compress {
            match zstd::stream::read::Encoder::new(plaintext, ZSTD_LEVEL) {
                Ok(encoder) => Source::Zstd(Box::new(encoder)),
                Err(err) => Source::Failed(Some(err)),
            }
        } else {
            Source::Plain(plaintext)
        };

        Self {
            source,
            stream: Stream::from_aead(cipher(key.bytes()), (&nonce_prefix).into()),
            position: 0,
            aad: segment_aad(&header, associated),
            header_sent: 0,
            segments: Segments::new(SEGMENT_SIZE as usize + TAG_LEN),
            ready: false,
            sent: 0,
            done: false,
        }
    }

    /// Reads and encrypts the next segment into `segments.current`.
    fn seal_next(&mut self) -> io::Result<()> {
        let last = self
            .segments
            .load(&mut self.source, SEGMENT_SIZE as usize)?;
        if !last && self.position == u32::MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the artifact is larger than the encrypted format allows (2^32 segments of 64 KiB)",
            ));
        }
        self.stream
            .encrypt_in_place(self.position, last, &self.aad, &mut self.segments.current)
            .map_err(|_| io::Error::other("encrypting a segment failed"))?;
        self.position = self.position.wrapping_add(1);
        self.ready = true;
        self.sent = 0;
        self.done = last;
        Ok(())
    }
}

impl<R: Read> Read for EncryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.header_sent < HEADER_LEN {
            let header = &self.aad[self.header_sent..HEADER_LEN];
            let n = header.len().min(buf.len());
            buf[..n].copy_from_slice(&header[..n]);
            self.header_sent += n;
            return Ok(n);
        }
        loop {
            if self.ready {
                let pending = &self.segments.current.as_ref()[self.sent..];
                if !pending.is_empty() {
                    let n = pending.len().min(buf.len());
                    buf[..n].copy_from_slice(&pending[..n]);
                    self.sent += n;
                    return Ok(n);
                }
                if self.done {
                    return Ok(0);
                }
                self.segments.advance();
                self.ready = false;
            }
            self.seal_next()?;
        }
    }
}

impl<R: Read> fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingReader")
            .field("compress", &matches!(self.source, Source::Zstd(_)))
            .field("segments_written", &self.position)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The header bytes for these settings.
fn encode_header(
    flags: u8,
    segment_size: u32,
    nonce_prefix: &[u8; NONCE_PREFIX_LEN],
) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8] = FORMAT_VERSION;
    header[9] = flags;
    header[10..14].copy_from_slice(&segment_size.to_le_bytes());
    header[14..].copy_from_slice(nonce_prefix);
    header
}

/// The associated data of every segment: the whole header, then the caller's bytes.
///
/// The header has a fixed length, so the concatenation is unambiguous.
fn segment_aad(header: &[u8; HEADER_LEN], associated: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_LEN + associated.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(associated);
    aad
}

/// A decryption failure, kept so that every later read reports it again.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Tampered,
    Truncated,
}

impl Failure {
    fn to_io(self) -> io::Error {
        match self {
            Failure::Tampered => CryptError::Tampered,
            Failure::Truncated => CryptError::Truncated,
        }
        .into_io()
    }
}

/// Decrypts and authenticates the segments of an artifact, yielding the stored plaintext
/// (still compressed when the header says so).
struct SegmentReader<R: Read> {
    inner: R,
    stream: Stream,
    position: u32,
    aad: Vec<u8>,
    segment_len: usize,
    segments: Segments,
    ready: bool,
    consumed: usize,
    done: bool,
    failed: Option<Failure>,
}

impl<R: Read> SegmentReader<R> {
    /// Reads, authenticates and decrypts the next segment into `segments.current`.
    fn open_next(&mut self) -> Result<(), Failure> {
        let current = &mut self.segments.current;
        if current.len < TAG_LEN {
            // Only the last segment can be short; an empty one means the file was cut right
            // after the header or after a segment.
            return Err(Failure::Truncated);
        }
        let last = self.done;
        if !last && self.position == u32::MAX {
            // More segments than the writer can produce.
            return Err(Failure::Tampered);
        }
        if self
            .stream
            .decrypt_in_place(self.position, last, &self.aad, current)
            .is_err()
        {
            // A segment that authenticates as an inner one where the last was expected means
            // the rest of the stream was cut off. A failed attempt leaves the buffer as it was.
            let cut = last
                && self
                    .stream
                    .decrypt_in_place(self.position, false, &self.aad, current)
                    .is_ok();
            current.len = 0;
            return Err(if cut {
                Failure::Truncated
            } else {
                Failure::Tampered
            });
        }
        self.position = self.position.wrapping_add(1);
        Ok(())
    }
}

impl<R: Read> Read for SegmentReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for SegmentReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        loop {
            if let Some(failure) = self.failed {
                return Err(failure.to_io());
            }
            if self.ready {
                if self.consumed < self.segments.current.len || self.done {
                    return Ok(&self.segments.current.as_ref()[self.consumed..]);
                }
                self.segments.advance();
                self.ready = false;
            }
            self.done = self.segments.load(&mut self.inner, self.segment_len)?;
            if let Err(failure) = self.open_next() {
                self.failed = Some(failure);
                continue;
            }
            self.ready = true;
            self.consumed = 0;
        }
    }

    fn consume(&mut self, amount: usize) {
        self.consumed = (self.consumed + amount).min(self.segments.current.len);
    }
}

/// Where a [`DecryptingReader`] takes the plaintext from.
enum Plaintext<R: Read> {
    Plain(SegmentReader<R>),
    Zstd(Box<zstd::stream::read::Decoder<'static, SegmentReader<R>>>),
}

/// Decrypts an artifact in the opsml encrypted format, as a reader of the original plaintext.
///
/// Every segment is authenticated before any of its bytes are returned, and the end of the
/// plaintext is reported only after the final segment has been authenticated. Any alteration,
/// truncation, reordering or splicing of the stored bytes, a wrong key or wrong associated data
/// makes `read` fail with an [`io::Error`] carrying a [`CryptError`] (see
/// [`crate::crypt_error`]); the error repeats on every later read.
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
        let mut header = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match ciphertext.read(&mut header[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(CryptError::Io(err)),
            }
        }
        let magic_len = got.min(MAGIC.len());
        if header[..magic_len] != MAGIC[..magic_len] {
            return Err(CryptError::Malformed(
                "not an opsml encrypted artifact (the magic bytes do not match)".to_owned(),
            ));
        }
        if got < HEADER_LEN {
            return Err(CryptError::Truncated);
        }
        let version = header[8];
        if version != FORMAT_VERSION {
            return Err(CryptError::UnsupportedVersion(version));
        }
        let flags = header[9];
        if flags & !FLAG_ZSTD != 0 {
            return Err(CryptError::Malformed(format!(
                "unknown header flags {flags:#010b}"
            )));
        }
        let segment_size =
            u32::from_le_bytes(header[10..14].try_into().expect("four header bytes"));
        if segment_size == 0 || segment_size > MAX_SEGMENT_SIZE {
            return Err(CryptError::Malformed(format!(
                "segment size {segment_size} is outside 1..={MAX_SEGMENT_SIZE}"
            )));
        }
        let nonce_prefix: [u8; NONCE_PREFIX_LEN] =
            header[14..].try_into().expect("nonce prefix bytes");

        let segment_len = segment_size as usize + TAG_LEN;
        let segments = SegmentReader {
            inner: ciphertext,
            stream: Stream::from_aead(cipher(key.bytes()), (&nonce_prefix).into()),
            position: 0,
            aad: segment_aad(&header, associated),
            segment_len,
            segments: Segments::new(segment_len),
            ready: false,
            consumed: 0,
            done: false,
            failed: None,
        };
        let plaintext = if flags & FLAG_ZSTD == 0 {
            Plaintext::Plain(segments)
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
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.plaintext {
            Plaintext::Plain(segments) => segments.read(buf),
            Plaintext::Zstd(decoder) => {
                let n = decoder.read(buf)?;
                if n == 0 && !buf.is_empty() && !decoder.get_mut().fill_buf()?.is_empty() {
                    // zstd reads to the end of its input; anything left would be a bug.
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
        let segments = match &self.plaintext {
            Plaintext::Plain(segments) => segments,
            Plaintext::Zstd(decoder) => decoder.get_ref(),
        };
        f.debug_struct("DecryptingReader")
            .field("compressed", &self.is_compressed())
            .field("segments_read", &segments.position)
            .field("failed", &segments.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_buffer_refuses_to_grow_past_its_capacity() {
        let mut buf = SegmentBuf::with_capacity(4);
        buf.extend_from_slice(b"abc").unwrap();
        assert!(buf.extend_from_slice(b"de").is_err());
        assert_eq!(buf.as_ref(), b"abc");
        buf.truncate(10);
        assert_eq!(buf.as_ref(), b"abc");
        buf.truncate(1);
        assert_eq!(buf.as_ref(), b"a");
    }

    #[test]
    fn segments_know_which_one_is_last() {
        let cases: &[(usize, &[(usize, bool)])] = &[
            (0, &[(0, true)]),
            (3, &[(3, true)]),
            (4, &[(4, true)]),
            (5, &[(4, false), (1, true)]),
            (8, &[(4, false), (4, true)]),
            (9, &[(4, false), (4, false), (1, true)]),
        ];
        for &(len, expected) in cases {
            let data = vec![7u8; len];
            let mut src = &data[..];
            let mut segments = Segments::new(4);
            for (i, &(size, last)) in expected.iter().enumerate() {
                let is_last = segments.load(&mut src, 4).unwrap();
                assert_eq!(
                    (segments.current.len, is_last),
                    (size, last),
                    "len {len} seg {i}"
                );
                segments.advance();
            }
        }
    }

    #[test]
    fn encrypted_len_counts_header_and_tags() {
        let s = u64::from(SEGMENT_SIZE);
        let h = HEADER_LEN as u64;
        assert_eq!(encrypted_len(0), h + 16);
        assert_eq!(encrypted_len(1), h + 1 + 16);
        assert_eq!(encrypted_len(s), h + s + 16);
        assert_eq!(encrypted_len(s + 1), h + s + 1 + 32);
    }

    #[test]
    fn the_segment_counter_cannot_wrap() {
        let key = DataKey::generate();
        let data = vec![1u8; 2 * SEGMENT_SIZE as usize + 1];
        let mut reader = EncryptingReader::new(&data[..], &key, b"", EncryptOptions::default());
        reader.position = u32::MAX - 1;
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

        // The last segment may take the highest counter value.
        let data = vec![1u8; SEGMENT_SIZE as usize + 1];
        let mut reader = EncryptingReader::new(&data[..], &key, b"", EncryptOptions::default());
        reader.position = u32::MAX - 1;
        reader.read_to_end(&mut Vec::new()).unwrap();
    }
}
