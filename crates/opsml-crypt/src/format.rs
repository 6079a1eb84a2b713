//! The header of an encrypted artifact.

use crate::error::CryptError;

/// The bytes every encrypted artifact starts with.
pub const MAGIC: &[u8; 8] = b"OPSMLENC";
/// The format version this build writes (and the only one it reads).
pub const FORMAT_VERSION: u8 = 1;
/// Header flag: the plaintext was zstd-compressed before encryption.
pub const FLAG_ZSTD: u8 = 0b0000_0001;
/// Plaintext bytes per segment in the artifacts this build writes.
pub const SEGMENT_SIZE: u32 = 64 * 1024;
/// Length of the random nonce prefix in the header (the 24-byte XChaCha20 nonce less the
/// STREAM counter and last-segment flag).
pub const NONCE_PREFIX_LEN: usize = 19;
/// Length of the header: magic, version, flags, segment size, nonce prefix.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 1 + 4 + NONCE_PREFIX_LEN;
/// Length of the authentication tag that follows each segment's ciphertext.
pub const TAG_LEN: usize = 16;
/// Largest segment size a reader accepts from a header.
const MAX_SEGMENT_SIZE: u32 = 16 * 1024 * 1024;

/// Size of an uncompressed artifact once encrypted, for `plaintext_len` bytes of plaintext.
///
/// Compressed artifacts have no size known in advance.
pub fn encrypted_len(plaintext_len: u64) -> u64 {
    let segment = u64::from(SEGMENT_SIZE);
    let segments = plaintext_len.div_ceil(segment).max(1);
    HEADER_LEN as u64 + plaintext_len + segments * TAG_LEN as u64
}

/// The settings a header records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) flags: u8,
    pub(crate) segment_size: u32,
    pub(crate) nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8] = FORMAT_VERSION;
        bytes[9] = self.flags;
        bytes[10..14].copy_from_slice(&self.segment_size.to_le_bytes());
        bytes[14..].copy_from_slice(&self.nonce_prefix);
        bytes
    }

    /// Parses the first `got` bytes of a header (fewer than [`HEADER_LEN`] when the input
    /// ended early).
    #[allow(
        clippy::expect_used,
        reason = "the header's last bytes are the nonce prefix, of its fixed length"
    )]
    pub(crate) fn decode(bytes: &[u8; HEADER_LEN], got: usize) -> Result<Self, CryptError> {
        let magic_len = got.min(MAGIC.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(CryptError::Malformed(
                "not an opsml encrypted artifact (the magic bytes do not match)".to_owned(),
            ));
        }
        if got < HEADER_LEN {
            return Err(CryptError::Truncated);
        }
        let version = bytes[8];
        if version != FORMAT_VERSION {
            return Err(CryptError::UnsupportedVersion(version));
        }
        let flags = bytes[9];
        if flags & !FLAG_ZSTD != 0 {
            return Err(CryptError::Malformed(format!(
                "unknown header flags {flags:#010b}"
            )));
        }
        #[allow(
            clippy::expect_used,
            reason = "the slice is 4 bytes long, so it converts to [u8; 4]"
        )]
        let segment_size = u32::from_le_bytes(bytes[10..14].try_into().expect("four bytes"));
        if segment_size == 0 || segment_size > MAX_SEGMENT_SIZE {
            return Err(CryptError::Malformed(format!(
                "segment size {segment_size} is outside 1..={MAX_SEGMENT_SIZE}"
            )));
        }
        Ok(Self {
            flags,
            segment_size,
            nonce_prefix: bytes[14..].try_into().expect("nonce prefix bytes"),
        })
    }
}

/// The associated data of every segment: the whole header, then the caller's bytes.
///
/// The header has a fixed length, so the concatenation is unambiguous.
pub(crate) fn segment_aad(header: &[u8; HEADER_LEN], associated: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_LEN + associated.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(associated);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let header = Header {
            flags: FLAG_ZSTD,
            segment_size: SEGMENT_SIZE,
            nonce_prefix: [9; NONCE_PREFIX_LEN],
        };
        let bytes = header.encode();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(Header::decode(&bytes, HEADER_LEN).unwrap(), header);
        assert!(matches!(
            Header::decode(&bytes, HEADER_LEN - 1),
            Err(CryptError::Truncated)
        ));
        assert!(matches!(
            Header::decode(&bytes, 3),
            Err(CryptError::Truncated)
        ));
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
}
