//! Artifact files: streamed from the user's file through SHA-256, optional
//! compression and encryption into storage, and back with verification. The
//! user's files are only ever read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use opsml_crypt::{
    should_compress, unwrap_data_key, wrap_data_key, CryptError, DataKey, DecryptingReader,
    EncryptOptions, EncryptingReader, MasterKey,
};
use opsml_types::{new_uid, normalize_artifact_path, ArtifactRecord};
use parking_lot::Mutex;

use opsml_storage::hashing::{Digester, HashingReader, HashingWriter};
use opsml_storage::{copy_large, ArtifactStorage, CopyError, StorageError};
use opsml_store::{Store, StoreError};

use crate::error::RegistryError;
use crate::error::Result;
use crate::stores::artifact_storage;

/// Environment variable holding the master secret (base64 of 32 bytes).
pub const MASTER_SECRET_ENV: &str = "OPSML_ENCRYPT_SECRET";

/// The artifacts of one store: where they are kept and the key that opens them.
#[derive(Debug, Clone)]
pub struct Artifacts {
    store: Arc<dyn Store>,
    storage: Arc<dyn ArtifactStorage>,
    master: Arc<MasterKey>,
}

/// Master keys read from key files, by path: read once per process.
fn key_files() -> &'static Mutex<HashMap<PathBuf, Arc<MasterKey>>> {
    static KEYS: OnceLock<Mutex<HashMap<PathBuf, Arc<MasterKey>>>> = OnceLock::new();
    KEYS.get_or_init(Mutex::default)
}

/// Forgets the keys read by the parent in a forked child.
pub(crate) fn reset_after_fork() {
    crate::reset_after_fork(key_files());
}

/// What the master key is wanted for: only writing may make a key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Reading artifacts: never makes a key file.
    Read,
    /// Logging: the key file is made on first use, unless the store already holds data keys
    /// (then the file was lost, and a new key would leave them unreadable).
    Write,
}

/// The master key: `OPSML_ENCRYPT_SECRET`, else the key file beside the store
/// (created on first write, mode 0600).
pub fn master_key(store: &dyn Store, purpose: KeyUse) -> Result<Arc<MasterKey>> {
    if let Ok(secret) = std::env::var(MASTER_SECRET_ENV) {
        if !secret.trim().is_empty() {
            return Ok(Arc::new(MasterKey::from_base64(secret.trim()).map_err(
                |e| {
                    RegistryError::MasterKey(match e {
                        CryptError::InvalidSecret(why) => {
                            CryptError::InvalidSecret(format!("{MASTER_SECRET_ENV}: {why}"))
                        }
                        other => other,
                    })
                },
            )?));
        }
    }
    let path = store
        .default_key_file()
        .ok_or_else(|| RegistryError::NoMasterKey {
            store: store.location(),
        })?;
    let mut keys = key_files().lock();
    if let Some(key) = keys.get(&path) {
        return Ok(Arc::clone(key));
    }
    let key = match MasterKey::load(&path).map_err(RegistryError::MasterKey)? {
        Some(key) => key,
        None => {
            if store.holds_wrapped_keys()? {
                return Err(RegistryError::KeyFileMissing { path });
            }
            if purpose == KeyUse::Read {
                // Nothing in the store is encrypted yet: a key that is never kept opens
                // exactly what there is to read, and the read says what is missing.
                return Ok(Arc::new(MasterKey::generate()));
            }
            MasterKey::load_or_create(&path).map_err(RegistryError::MasterKey)?
        }
    };
    let key = Arc::new(key);
    keys.insert(path, Arc::clone(&key));
    Ok(key)
}

/// Storage prefix of an experiment's artifacts.
pub fn experiment_prefix(uid: &str) -> String {
    format!("experiment/{uid}")
}

/// A fresh storage key for an upload of an artifact of `uid`: objects are
/// never overwritten, so a record always describes the bytes it points at.
fn new_object_key(uid: &str) -> String {
    format!("{}/objects/{}", experiment_prefix(uid), new_uid())
}

fn new_record(path: &str, storage_key: String, size: u64, digest: String) -> ArtifactRecord {
    ArtifactRecord {
        path: path.to_owned(),
        size,
        digest,
        media_type: mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
        created_at: Utc::now(),
        storage_key,
    }
}

/// A decryption error carried inside an `io::Error`, or the `io::Error` itself.
#[allow(
    clippy::expect_used,
    reason = "crypt_error found a CryptError inside this error"
)]
fn split_crypt_error(error: io::Error) -> std::result::Result<CryptError, io::Error> {
    if opsml_crypt::crypt_error(&error).is_none() {
        return Err(error);
    }
    let inner = error.into_inner().expect("checked above");
    Ok(*inner.downcast::<CryptError>().expect("checked above"))
}

impl Artifacts {
    /// The artifacts of `store`, in the storage of `OPSML_STORAGE_URI`, for logging.
    pub fn for_store(store: Arc<dyn Store>) -> Result<Self> {
        Self::open(store, KeyUse::Write)
    }

    /// The artifacts of `store` for reading them back: never makes a key.
    pub fn for_reading(store: Arc<dyn Store>) -> Result<Self> {
        Self::open(store, KeyUse::Read)
    }

    fn open(store: Arc<dyn Store>, purpose: KeyUse) -> Result<Self> {
        let storage = artifact_storage(store.as_ref())?;
        let master = master_key(store.as_ref(), purpose)?;
        Ok(Self::new(store, storage, master))
    }

    pub fn new(
        store: Arc<dyn Store>,
        storage: Arc<dyn ArtifactStorage>,
        master: Arc<MasterKey>,
    ) -> Self {
        Self {
            store,
            storage,
            master,
        }
    }

    /// The same key over another handle of the store (a forked child's own), with that
    /// handle's storage: a server's storage talks through the store's own connections.
    pub fn with_store(&self, store: Arc<dyn Store>) -> Result<Self> {
        Ok(Self {
            storage: artifact_storage(store.as_ref())?,
            store,
            master: Arc::clone(&self.master),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The experiment's data key, created (and stored wrapped) on first use.
    pub fn data_key(&self, uid: &str) -> Result<DataKey> {
        let wrapped = match self.store.wrapped_data_key(uid)? {
            Some(wrapped) => wrapped,
            None => {
                let fresh = wrap_data_key(&self.master, &DataKey::generate(), uid.as_bytes());
                self.store.insert_wrapped_data_key(uid, &fresh)?
            }
        };
        unwrap_data_key(&self.master, &wrapped, uid.as_bytes()).map_err(RegistryError::MasterKey)
    }

    /// The data key of an experiment whose artifacts are read back. Unlike
    /// [`Artifacts::data_key`] it never makes one: a read stores nothing.
    pub fn stored_data_key(&self, uid: &str) -> Result<DataKey> {
        let wrapped = self.store.wrapped_data_key(uid)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "experiment {uid} has artifact records but no data key"
            ))
        })?;
        unwrap_data_key(&self.master, &wrapped, uid.as_bytes()).map_err(RegistryError::MasterKey)
    }

    /// The remote path of a local file: `rpath` normalised, or the file name;
    /// an `rpath` ending in `/` is a directory that receives the file name.
    pub fn remote_path(lpath: &Path, rpath: Option<&str>) -> Result<String> {
        let file_name = lpath
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let raw = match rpath {
            Some(r) if r.ends_with(['/', '\\']) => {
                // Validate the directory part on its own so that "/" is refused as absolute.
                normalize_artifact_path(r)?;
                format!("{r}{file_name}")
            }
            Some(r) => r.to_owned(),
            None => file_name,
        };
        Ok(normalize_artifact_path(&raw)?)
    }

    /// Streams one local file into storage at the normalised remote `path` and
    /// returns its record; the caller records it with [`Artifacts::record`].
    pub fn upload(
        &self,
        uid: &str,
        key: &DataKey,
        lpath: &Path,
        path: &str,
    ) -> Result<ArtifactRecord> {
        let local_error = |source: io::Error| {
            if source.kind() == io::ErrorKind::NotFound {
                RegistryError::LocalPathNotFound(lpath.to_owned())
            } else {
                RegistryError::LocalIo {
                    path: lpath.to_owned(),
                    source,
                }
            }
        };
        // Symbolic links to files are followed: their content is stored.
        let metadata = std::fs::metadata(lpath).map_err(local_error)?;
        if metadata.is_dir() {
            return Err(RegistryError::IsADirectory(lpath.to_owned()));
        }
        let file = File::open(lpath).map_err(local_error)?;
        let uploaded = match self.upload_reader(uid, key, file, path) {
            Err(e) if Self::may_keep(&e) => {
                // Once more from the start of the file, into the storage's place for later.
                let file = File::open(lpath).map_err(local_error)?;
                self.upload_for_later(uid, key, file, path)
                    .unwrap_or(Err(e))
            }
            other => other,
        };
        uploaded.map_err(|e| match e {
            RegistryError::Storage(StorageError::UploadSource(source)) => local_error(source),
            other => other,
        })
    }

    /// Streams bytes from `source` into storage at the normalised remote `path`.
    #[allow(clippy::expect_used, reason = "a put always answers")]
    pub fn upload_reader(
        &self,
        uid: &str,
        key: &DataKey,
        source: impl Read,
        path: &str,
    ) -> Result<ArtifactRecord> {
        Self::upload_with(uid, key, source, path, |storage_key, encrypted| {
            Some(self.storage.put(storage_key, encrypted).map_err(Into::into))
        })
        .expect("a put always answers")
    }

    /// Whether an upload that failed with `error` may go to the storage's place for later:
    /// the storage failed (a server that does not answer), not the source.
    fn may_keep(error: &RegistryError) -> bool {
        error.is_transient()
            && !matches!(error, RegistryError::Storage(StorageError::UploadSource(_)))
    }

    /// Like [`Artifacts::upload_reader`], into the storage's place for what it cannot take
    /// now; `None` where it has none.
    fn upload_for_later(
        &self,
        uid: &str,
        key: &DataKey,
        source: impl Read,
        path: &str,
    ) -> Option<Result<ArtifactRecord>> {
        Self::upload_with(uid, key, source, path, |storage_key, encrypted| {
            self.storage
                .keep_for_later(storage_key, encrypted)
                .map(|kept| kept.map_err(Into::into))
        })
    }

    /// Encrypts (compressing first when it helps) what `source` yields and hands it to
    /// `place` as a new object; its record, or `None` where `place` had nowhere to put it.
    fn upload_with(
        uid: &str,
        key: &DataKey,
        source: impl Read,
        path: &str,
        place: impl FnOnce(&str, &mut dyn Read) -> Option<Result<u64>>,
    ) -> Option<Result<ArtifactRecord>> {
        let mut hashing = HashingReader::new(source, Digester::keyed(key));
        let storage_key = new_object_key(uid);
        let placed = {
            let mut encrypting = EncryptingReader::new(
                &mut hashing,
                key,
                path.as_bytes(),
                EncryptOptions {
                    compress: should_compress(path),
                },
            );
            place(&storage_key, &mut encrypting)?
        };
        Some(placed.map(|_| {
            let digested = hashing.finish();
            new_record(path, storage_key, digested.size, digested.digest)
        }))
    }

    /// Records uploaded artifacts in the store, replacing records of the same
    /// paths, then removes the objects those records pointed at.
    pub fn record(&self, uid: &str, records: &[ArtifactRecord]) -> Result<()> {
        let replaced = self.store.put_artifacts(uid, records)?;
        self.discard(&replaced);
        Ok(())
    }

    /// Removes objects no record points at (replaced, or uploaded by a call
    /// that failed). Failing to remove one leaves garbage, never wrong data.
    pub fn discard(&self, storage_keys: &[String]) {
        for key in storage_keys {
            if let Err(e) = self.storage.delete(key) {
                tracing::warn!(key, error = %e, "removing an unreferenced artifact object failed");
            }
        }
    }

    /// Stores one local file at `rpath` (default: its file name) and records it.
    pub fn log_file(&self, uid: &str, lpath: &Path, rpath: Option<&str>) -> Result<ArtifactRecord> {
        // A directory (".", "..", "runs/") has no file name to store it under: say what it is
        // before complaining about the name.
        if lpath.is_dir() {
            return Err(RegistryError::IsADirectory(lpath.to_owned()));
        }
        let path = Self::remote_path(lpath, rpath)?;
        let key = self.data_key(uid)?;
        let record = self.upload(uid, &key, lpath, &path)?;
        self.record_one(uid, record)
    }

    /// Stores bytes produced in memory at `rpath` and records them.
    pub fn log_bytes(&self, uid: &str, rpath: &str, data: &[u8]) -> Result<ArtifactRecord> {
        let path = normalize_artifact_path(rpath)?;
        let key = self.data_key(uid)?;
        let record = match self.upload_reader(uid, &key, data, &path) {
            Err(e) if Self::may_keep(&e) => self
                .upload_for_later(uid, &key, data, &path)
                .unwrap_or(Err(e))?,
            other => other?,
        };
        self.record_one(uid, record)
    }

    fn record_one(&self, uid: &str, record: ArtifactRecord) -> Result<ArtifactRecord> {
        if let Err(e) = self.record(uid, std::slice::from_ref(&record)) {
            self.discard(std::slice::from_ref(&record.storage_key));
            return Err(e);
        }
        Ok(record)
    }

    /// Records of the experiment's artifacts, all or those at or under `prefix`.
    pub fn list(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        let prefix = prefix.map(normalize_artifact_path).transpose()?;
        Ok(self.store.list_artifacts(uid, prefix.as_deref())?)
    }

    /// Restores one artifact to `dest`, verifying authenticity and its SHA-256.
    /// `dest` appears only once it is verified.
    pub fn download(&self, key: &DataKey, record: &ArtifactRecord, dest: &Path) -> Result<()> {
        let crypt = |source| RegistryError::Crypt {
            artifact: record.path.clone(),
            source,
        };
        let local = |source| RegistryError::LocalIo {
            path: dest.to_owned(),
            source,
        };
        let dir = dest.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir).map_err(local)?;
        let stored = self
            .storage
            .open(&record.storage_key)
            .map_err(|e| match e {
                // The object's own location names the bucket or directory and the key.
                StorageError::Io { location, source } => StorageError::Io {
                    location: format!("artifact {:?} ({location})", record.path),
                    source,
                },
                other => other,
            })?;
        // One byte past the recorded size is enough to tell that the object does not match:
        // a larger one is never written out whole.
        let mut plaintext = DecryptingReader::new(stored, key, record.path.as_bytes())
            .map_err(crypt)?
            .take(record.size.saturating_add(1));
        let mut temp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(dir)
            .map_err(local)?;
        let mut digester = Digester::verifying(&record.digest, key);
        let mut size = 0u64;
        {
            let mut sink = HashingWriter {
                inner: io::BufWriter::with_capacity(1 << 20, temp.as_file_mut()),
                digester: &mut digester,
                size: &mut size,
            };
            copy_large(&mut plaintext, &mut sink).map_err(|e| match e {
                CopyError::Read(e) => match split_crypt_error(e) {
                    Ok(source) => crypt(source),
                    Err(source) => StorageError::Io {
                        location: record.path.clone(),
                        source,
                    }
                    .into(),
                },
                CopyError::Write(source) => local(source),
            })?;
            sink.flush().map_err(local)?;
        }
        if size != record.size || digester.finish() != record.digest {
            return Err(RegistryError::ChecksumMismatch {
                artifact: record.path.clone(),
            });
        }
        temp.persist(dest).map_err(|e| local(e.error))?;
        Ok(())
    }

    /// Removes every stored artifact object of the experiment.
    pub fn delete_all(&self, uid: &str) -> Result<()> {
        Ok(self.storage.delete_prefix(&experiment_prefix(uid))?)
    }
}
