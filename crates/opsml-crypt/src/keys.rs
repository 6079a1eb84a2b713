use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::CryptError;

/// Length in bytes of master and data keys.
pub const KEY_LEN: usize = 32;
/// Length in bytes of the random nonce that starts a wrapped data key.
const WRAP_NONCE_LEN: usize = 24;
/// Length in bytes of the Poly1305 tag.
const WRAP_TAG_LEN: usize = 16;
/// Length in bytes of a wrapped data key: nonce, encrypted key, tag.
pub const WRAPPED_KEY_LEN: usize = WRAP_NONCE_LEN + KEY_LEN + WRAP_TAG_LEN;

/// Fills `buf` from the operating system's random number generator.
///
/// # Panics
/// When the operating system cannot provide random bytes, which leaves no safe way to go on.
#[allow(
    clippy::expect_used,
    reason = "without random bytes no key is safe: there is no way to go on"
)]
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// Builds the AEAD cipher for a 32-byte key.
pub(crate) fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

/// The long-lived key of an opsml installation: it wraps the data key of every experiment.
///
/// The bytes are wiped from memory when the key is dropped, and `Debug` shows only a
/// fingerprint.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        random_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Reads a master key from standard base64 (surrounding whitespace is ignored).
    ///
    /// The text must decode to exactly 32 bytes. Errors describe the problem without repeating
    /// any of the text.
    pub fn from_base64(text: &str) -> Result<Self, CryptError> {
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
            CryptError::InvalidSecret("the master key is not valid standard base64".to_owned())
        })?);
        if decoded.len() != KEY_LEN {
            return Err(CryptError::InvalidSecret(format!(
                "the master key must decode to {KEY_LEN} bytes, not {}",
                decoded.len()
            )));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(Self(bytes))
    }

    /// The key as standard base64 with padding (44 characters).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_ref())
    }

    /// A short public identifier of the key (16 hex digits of a SHA-256 over it), to tell keys
    /// apart in messages without revealing them.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"opsml master key fingerprint\0");
        hasher.update(self.0.as_ref());
        let digest = hasher.finalize();
        hex(&digest[..8])
    }

    /// Reads the key file at `path`; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, CryptError> {
        read_key_file(path)
    }

    /// Reads the key file at `path`, or creates it with a new key when there is none.
    ///
    /// The file holds the key as base64 text; trailing whitespace is fine. A new file is
    /// created with mode 0600 (on Unix) along with any missing parent directories, and appears
    /// complete and atomically: processes racing to create it all end up with the key of the
    /// one that won.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptError> {
        if let Some(key) = read_key_file(path)? {
            return Ok(key);
        }
        let key_file_error = |source: io::Error| CryptError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir).map_err(key_file_error)?;

        let key = Self::generate();
        let mut text = Zeroizing::new(key.to_base64());
        text.push('\n');

        // Write the whole file under a private name, then link it into place: the link fails
        // when another process got there first, and nobody ever sees a partial file.
        let tmp = temp_path(dir, path);
        write_new_private(&tmp, text.as_bytes()).map_err(key_file_error)?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(dir);
                Ok(key)
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => read_existing(path),
            // The file system has no hard links: create the file in place instead.
            Err(_) => match write_new_private(path, text.as_bytes()) {
                Ok(()) => {
                    sync_dir(dir);
                    Ok(key)
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => read_existing(path),
                Err(err) => Err(key_file_error(err)),
            },
        }
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// Reads and parses an existing key file; `Ok(None)` when there is no file.
fn read_key_file(path: &Path) -> Result<Option<MasterKey>, CryptError> {
    let text = match fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CryptError::KeyFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let invalid = |reason: String| CryptError::KeyFile {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, reason),
    };
    let text = std::str::from_utf8(&text)
        .map_err(|_| invalid("the file is not base64 text".to_owned()))?;
    match MasterKey::from_base64(text) {
        Ok(key) => Ok(Some(key)),
        Err(CryptError::InvalidSecret(reason)) => Err(invalid(reason)),
        Err(err) => Err(err),
    }
}

/// Reads a key file that another process has just created.
///
/// Where the file had to be written in place, it can be seen empty for a moment: wait for it.
fn read_existing(path: &Path) -> Result<MasterKey, CryptError> {
    let mut last_error = None;
    for _ in 0..200 {
        match read_key_file(path) {
            Ok(Some(key)) => return Ok(key),
            Ok(None) => {}
            Err(err) => last_error = Some(err),
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(last_error.unwrap_or_else(|| CryptError::KeyFile {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::NotFound,
            "the file disappeared while it was being created",
        ),
    }))
}

/// Lower-case hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A name beside `path` that no other process uses.
fn temp_path(dir: &Path, path: &Path) -> PathBuf {
    let mut nonce = [0u8; 8];
    random_bytes(&mut nonce);
    let suffix = hex(&nonce);
    let name = path
        .file_name()
        .map_or_else(|| "master.key".into(), |n| n.to_string_lossy());
    dir.join(format!(".{name}.{}.{suffix}.tmp", std::process::id()))
}

/// Creates `path` (failing if it exists) readable by its owner only, and writes `contents`.
fn write_new_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes a new directory entry durable (best effort; not available everywhere).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The key of one experiment's artifacts, stored only wrapped by the [`MasterKey`].
///
/// The bytes are wiped from memory when the key is dropped, and `Debug` shows none of them.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        random_bytes(bytes.as_mut());
        Self(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A hasher of artifact contents keyed by this experiment's key: its digests can only be
    /// made, verified or compared by whoever holds the key (not by a server that stores them).
    pub fn content_hasher(&self) -> blake3::Hasher {
        let key = Zeroizing::new(blake3::derive_key(CONTENT_DIGEST_CONTEXT, self.0.as_ref()));
        blake3::Hasher::new_keyed(&key)
    }
}

/// Separates the digest key from every other use of a data key.
const CONTENT_DIGEST_CONTEXT: &str = "opsml 2026-12-07 artifact content digest";

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Encrypts `key` under `master`, bound to `context` (opsml passes the experiment uid).
///
/// The result is a random 24-byte nonce followed by the XChaCha20-Poly1305 ciphertext and tag
/// ([`WRAPPED_KEY_LEN`] bytes in all). `context` is authenticated, not stored: unwrapping needs
/// the same value.
pub fn wrap_data_key(master: &MasterKey, key: &DataKey, context: &[u8]) -> Vec<u8> {
    let mut wrapped = vec![0u8; WRAPPED_KEY_LEN];
    let (nonce, rest) = wrapped.split_at_mut(WRAP_NONCE_LEN);
    let (body, tag_out) = rest.split_at_mut(KEY_LEN);
    random_bytes(nonce);
    body.copy_from_slice(key.bytes());
    #[allow(clippy::expect_used, reason = "nonce length is fixed")]
    let nonce = XNonce::try_from(&*nonce).expect("nonce length is fixed");
    #[allow(
        clippy::expect_used,
        reason = "a 32-byte message is within the cipher's limits"
    )]
    let tag = cipher(master.bytes())
        .encrypt_inout_detached(&nonce, context, body.into())
        .expect("a 32-byte message is within the cipher's limits");
    tag_out.copy_from_slice(&tag);
    wrapped
}

/// Recovers a data key wrapped by [`wrap_data_key`] with the same master key and context.
///
/// Fails with [`CryptError::WrongMasterKey`] when authentication fails (another master key,
/// another context, or altered bytes) and [`CryptError::Malformed`] when the length is wrong.
pub fn unwrap_data_key(
    master: &MasterKey,
    wrapped: &[u8],
    context: &[u8],
) -> Result<DataKey, CryptError> {
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(CryptError::Malformed(format!(
            "a wrapped data key is {WRAPPED_KEY_LEN} bytes, not {}",
            wrapped.len()
        )));
    }
    let (nonce, rest) = wrapped.split_at(WRAP_NONCE_LEN);
    let (body, tag) = rest.split_at(KEY_LEN);
    #[allow(clippy::expect_used, reason = "nonce length is checked")]
    let nonce = XNonce::try_from(nonce).expect("nonce length is checked");
    #[allow(clippy::expect_used, reason = "tag length is checked")]
    let tag = Tag::try_from(tag).expect("tag length is checked");
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    bytes.copy_from_slice(body);
    cipher(master.bytes())
        .decrypt_inout_detached(&nonce, context, bytes.as_mut_slice().into(), &tag)
        .map_err(|_| CryptError::WrongMasterKey)?;
    Ok(DataKey(bytes))
}
