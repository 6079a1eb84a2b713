//! The digest and size of the bytes that pass through a reader or writer.
//!
//! An artifact's record holds a digest of its plaintext: BLAKE3 keyed by a key derived from
//! the experiment's data key, written `blake3-keyed:<hex>`. Only holders of that key can make,
//! verify or compare it, so a server that keeps the records learns nothing about the
//! contents (a plain hash would confirm a guessed file). Records made before keyed digests
//! hold a bare SHA-256 in hex; they are still verified as such. BLAKE3 runs at several GB/s
//! on one core, so hashing stays on the reading thread.

use std::io::{self, Read, Write};

use opsml_crypt::DataKey;
use sha2::{Digest, Sha256};

/// How a keyed digest starts in a record.
const KEYED_PREFIX: &str = "blake3-keyed:";

/// Computes the digest of an artifact's plaintext as its record holds it.
#[derive(Clone)]
pub enum Digester {
    Keyed(Box<blake3::Hasher>),
    /// Only to verify records made before keyed digests.
    Sha256(Sha256),
}

impl Digester {
    /// The digester of new records of the experiment with data key `key`.
    pub fn keyed(key: &DataKey) -> Self {
        Self::Keyed(Box::new(key.content_hasher()))
    }

    /// The digester that checks `recorded`.
    pub fn verifying(recorded: &str, key: &DataKey) -> Self {
        if recorded.starts_with(KEYED_PREFIX) {
            Self::keyed(key)
        } else {
            Self::Sha256(Sha256::new())
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Keyed(hasher) => {
                hasher.update(bytes);
            }
            Self::Sha256(hasher) => hasher.update(bytes),
        }
    }

    /// The digest as a record holds it.
    pub fn finish(self) -> String {
        match self {
            Self::Keyed(hasher) => format!("{KEYED_PREFIX}{}", hasher.finalize().to_hex()),
            Self::Sha256(hasher) => hex::encode(hasher.finalize()),
        }
    }
}

/// The digest and the size of what was read.
pub struct Digested {
    pub digest: String,
    pub size: u64,
}

/// Counts and hashes everything read from `inner`.
pub struct HashingReader<R> {
    inner: R,
    size: u64,
    digester: Digester,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, digester: Digester) -> Self {
        Self {
            inner,
            size: 0,
            digester,
        }
    }

    /// The digest of everything read so far.
    pub fn finish(self) -> Digested {
        Digested {
            digest: self.digester.finish(),
            size: self.size,
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Counts and hashes everything written to `inner`.
pub struct HashingWriter<'a, W> {
    pub inner: W,
    pub digester: &'a mut Digester,
    pub size: &'a mut u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digester.update(&buf[..n]);
        *self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(data: &[u8], read_size: usize, key: &DataKey) -> Digested {
        let mut reader = HashingReader::new(data, Digester::keyed(key));
        let mut buf = vec![0u8; read_size];
        let mut out = Vec::new();
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, data, "the reader passes bytes through unchanged");
        reader.finish()
    }

    #[test]
    fn digests_depend_on_the_key_and_not_on_how_the_bytes_were_read() {
        let key = DataKey::generate();
        let data: Vec<u8> = (0..3_000_000)
            .map(|i: u32| (i * 7 + i / 4096) as u8)
            .collect();
        let whole = digest_of(&data, data.len() + 1, &key);
        assert!(whole.digest.starts_with(KEYED_PREFIX));
        assert_eq!(whole.size, data.len() as u64);
        for read_size in [1, 4096, 1 << 20] {
            let small = &data[..50_000.min(data.len())];
            let by_pieces = if read_size == 1 {
                digest_of(small, 1, &key).digest
            } else {
                digest_of(&data, read_size, &key).digest
            };
            let expected = if read_size == 1 {
                digest_of(small, small.len(), &key).digest
            } else {
                whole.digest.clone()
            };
            assert_eq!(by_pieces, expected, "reads of {read_size}");
        }
        // Another experiment's key gives another digest: nobody without the key can tell
        // two experiments stored the same file, nor confirm a guess of its content.
        assert_ne!(
            digest_of(&data, 1 << 20, &DataKey::generate()).digest,
            whole.digest
        );
        assert!(!whole.digest.contains(&hex::encode(Sha256::digest(&data))));
    }

    #[test]
    fn records_made_before_keyed_digests_are_verified_as_sha256() {
        let key = DataKey::generate();
        let old = hex::encode(Sha256::digest(b"weights"));
        let mut digester = Digester::verifying(&old, &key);
        digester.update(b"weights");
        assert_eq!(digester.finish(), old);
    }
}
