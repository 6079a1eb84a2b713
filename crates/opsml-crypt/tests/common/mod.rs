//! Helpers shared by the integration tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
#![allow(dead_code)]

use std::io::{self, Read};

use opsml_crypt::{
    crypt_error, CryptError, DataKey, DecryptingReader, EncryptOptions, EncryptingReader,
    HEADER_LEN, SEGMENT_SIZE, TAG_LEN,
};

/// Plaintext bytes per segment.
pub(crate) const S: usize = SEGMENT_SIZE as usize;
/// Ciphertext bytes per full segment.
pub(crate) const C: usize = S + TAG_LEN;

/// Deterministic bytes that zstd cannot compress (xorshift64*).
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Random bytes of four bits each, which zstd compresses to a little over half.
pub(crate) fn nibbles(len: usize, seed: u64) -> Vec<u8> {
    noise(len, seed)
        .into_iter()
        .map(|b| b'a' + (b & 0x0f))
        .collect()
}

/// Compressible text-like bytes.
pub(crate) fn text(len: usize) -> Vec<u8> {
    let line = b"step=42 loss=0.1234 accuracy=0.9876 lr=0.001 epoch=7\n";
    line.iter().copied().cycle().take(len).collect()
}

/// Reads `reader` to the end through reads of at most `chunk` bytes.
pub(crate) fn read_in_chunks<R: Read>(mut reader: R, chunk: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

pub(crate) fn encrypt(
    plaintext: &[u8],
    key: &DataKey,
    associated: &[u8],
    compress: bool,
) -> Vec<u8> {
    encrypt_chunked(plaintext, key, associated, compress, 1 << 20)
}

pub(crate) fn encrypt_chunked(
    plaintext: &[u8],
    key: &DataKey,
    associated: &[u8],
    compress: bool,
    chunk: usize,
) -> Vec<u8> {
    let reader = EncryptingReader::new(plaintext, key, associated, EncryptOptions { compress });
    read_in_chunks(reader, chunk).expect("encrypting from memory cannot fail")
}

/// Turns the error of a decryption into the `CryptError` it must carry.
pub(crate) fn into_crypt_error(err: io::Error) -> CryptError {
    assert!(
        crypt_error(&err).is_some(),
        "decryption failed without a CryptError: {err:?}"
    );
    *err.into_inner()
        .expect("inner error")
        .downcast::<CryptError>()
        .expect("CryptError")
}

/// Decrypts all of `ciphertext`, checking that whatever came out before an error is a prefix of
/// `expected` (when given): nothing unauthenticated may ever be returned.
pub(crate) fn decrypt_checked(
    ciphertext: &[u8],
    key: &DataKey,
    associated: &[u8],
    chunk: usize,
    expected: Option<&[u8]>,
) -> Result<Vec<u8>, CryptError> {
    let mut reader = DecryptingReader::new(ciphertext, key, associated)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(err) => {
                if let Some(expected) = expected {
                    assert!(
                        expected.starts_with(&out),
                        "bytes returned before the error are not authentic plaintext"
                    );
                }
                // The failure sticks.
                let again = reader.read(&mut buf).expect_err("error must repeat");
                assert_eq!(again.kind(), err.kind());
                return Err(into_crypt_error(err));
            }
        }
    }
}

pub(crate) fn decrypt(
    ciphertext: &[u8],
    key: &DataKey,
    associated: &[u8],
) -> Result<Vec<u8>, CryptError> {
    decrypt_checked(ciphertext, key, associated, 1 << 20, None)
}

/// Byte range of segment `index` in an uncompressed ciphertext of `plaintext_len` bytes.
pub(crate) fn segment_range(plaintext_len: usize, index: usize) -> std::ops::Range<usize> {
    let start = HEADER_LEN + index * C;
    let segments = plaintext_len.div_ceil(S).max(1);
    let end = if index + 1 == segments {
        HEADER_LEN + plaintext_len + segments * TAG_LEN
    } else {
        start + C
    };
    start..end
}
