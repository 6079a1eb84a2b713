//! Encryption at rest for opsml artifacts.
//!
//! Every artifact byte opsml stores is encrypted with XChaCha20-Poly1305 in the STREAM
//! construction, with memory use that stays constant whatever the size of the file.
//!
//! # Keys
//!
//! A [`MasterKey`] (32 bytes, kept as base64 text in a key file created by
//! [`MasterKey::load_or_create`]) wraps one [`DataKey`] per experiment: [`wrap_data_key`]
//! stores a random 24-byte nonce followed by the XChaCha20-Poly1305 ciphertext and tag of the
//! data key, with the experiment uid as associated data. The data key encrypts the experiment's
//! artifacts.
//!
//! # File format (version 1)
//!
//! An encrypted artifact is a 33-byte header followed by encrypted segments:
//!
//! | offset | length | content |
//! | --- | --- | --- |
//! | 0 | 8 | magic bytes `OPSMLENC` |
//! | 8 | 1 | format version, `1` |
//! | 9 | 1 | flags: bit 0 set when the plaintext was zstd-compressed before encryption; other bits zero |
//! | 10 | 4 | plaintext segment size, u32 little-endian (65536 when written by this crate) |
//! | 14 | 19 | random nonce prefix of the STREAM |
//! | 33 | … | segments |
//!
//! The plaintext (the zstd stream when compressed) is cut into segments of the segment size;
//! each is stored as its XChaCha20-Poly1305 ciphertext followed by the 16-byte tag. The nonce of
//! segment `i` is the 19-byte prefix, then `i` as a 32-bit big-endian counter, then one byte
//! that is 1 for the final segment and 0 otherwise (the "BE32" STREAM of Hoang, Reyhanitabar,
//! Rogaway and Vizár). The final segment is the one that ends the file: it may be shorter than
//! the segment size, and it is empty (a lone tag) only for an empty plaintext, so every file has
//! at least one authenticated final segment. The associated data of every segment is the
//! 33-byte header followed by caller-supplied bytes (opsml uses the artifact's remote path).
//!
//! So any change to the header or a segment, truncation anywhere (including at a segment
//! boundary), reordering, duplication or removal of segments, splicing segments from another
//! file, a wrong data key and wrong associated data all fail authentication, and
//! [`DecryptingReader`] returns an error instead of plaintext.
//!
//! A compressed plaintext is a sequence of zstd frames, one per MiB of the original, which
//! zstd decoders read as a single stream. Compression is skipped (flag clear) when a sample of
//! the first MiB shows that it would save less than a tenth.
//!
//! # Streaming
//!
//! [`EncryptingReader`] and [`DecryptingReader`] are readers with bounded memory whatever the
//! size of the artifact. Inputs longer than 1 MiB are compressed and encrypted or decrypted in
//! batches of 16 segments on a few worker threads (one per core, at most four), while the
//! caller's thread does the reading and writing; smaller inputs stay on the caller's thread.

mod compress;
mod decrypt;
mod encrypt;
mod error;
mod format;
mod keys;
mod pipeline;
mod segment;
mod workers;

pub use decrypt::DecryptingReader;
pub use encrypt::{EncryptOptions, EncryptingReader};
pub use error::{crypt_error, CryptError};
pub use format::{
    encrypted_len, FLAG_ZSTD, FORMAT_VERSION, HEADER_LEN, MAGIC, NONCE_PREFIX_LEN, SEGMENT_SIZE,
    TAG_LEN,
};
pub use keys::{unwrap_data_key, wrap_data_key, DataKey, MasterKey, KEY_LEN, WRAPPED_KEY_LEN};

/// File extensions of formats that are already compressed, where zstd would only cost time.
#[rustfmt::skip]
const COMPRESSED_EXTENSIONS: &[&str] = &[
    // Images.
    "png", "jpg", "jpeg", "gif", "webp", "avif", "heic", "jxl",
    // Audio and video.
    "mp3", "mp4", "m4a", "aac", "ogg", "opus", "flac", "mkv", "avi", "mov", "webm",
    // Archives and compressed streams.
    "zip", "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "zstd", "lz4", "lzma", "br", "7z",
    "rar", "jar", "whl",
    // Model checkpoints (zip archives of dense weights).
    "pt", "pth", "ckpt",
    // Columnar and array formats with their own compression.
    "parquet", "orc", "npz",
];

/// Whether an artifact at `path` is worth compressing before encryption.
///
/// False for formats that are already compressed, judged by the file extension
/// (case-insensitive); true for everything else.
pub fn should_compress(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return true;
    };
    if stem.is_empty() {
        // A dot file such as `.gz` has no extension.
        return true;
    }
    !COMPRESSED_EXTENSIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(extension))
}

#[cfg(test)]
mod tests {
    use super::should_compress;

    #[test]
    fn compressed_formats_are_not_compressed_again() {
        for path in [
            "images/plot.png",
            "photo.JPG",
            "a/b/c.jpeg",
            "anim.gif",
            "x.webp",
            "bundle.zip",
            "data.csv.gz",
            "src.tgz",
            "logs.bz2",
            "dump.xz",
            "dump.zst",
            "archive.7z",
            "old.rar",
            "song.mp3",
            "clip.mp4",
            "film.mkv",
            "film.avi",
            "film.MOV",
            "model.pt",
            "model.pth",
            "epoch=3.ckpt",
            "table.parquet",
            "arrays.npz",
            r"C:\runs\weights.Pt",
        ] {
            assert!(!should_compress(path), "{path}");
        }
    }

    #[test]
    fn everything_else_is_compressed() {
        for path in [
            "model.safetensors",
            "model.pkl",
            "metrics.csv",
            "config.json",
            "notes.txt",
            "weights.bin",
            "model.onnx",
            "Makefile",
            "dir.png/file",
            ".gz",
            "archive.zip.part",
            "",
        ] {
            assert!(should_compress(path), "{path}");
        }
    }
}
