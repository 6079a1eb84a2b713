//! What changed between two runs (see [`opsml_read::diff_runs`]), their captured files read
//! from the artifact storage and decrypted with the key at hand.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use opsml_crypt::DataKey;
use opsml_read::{ReadError, RunDiff, RunFiles};
use opsml_registry::Artifacts;
use opsml_types::ArtifactRecord;

use crate::{flush_running, ExperimentError, Result, Store};

/// The runs' artifacts, each read through a scratch file that is removed after it. The
/// records listed and the runs' data keys are kept, so reading many files costs no listing
/// or key unwrapping each.
struct ArtifactFiles {
    artifacts: Artifacts,
    scratch: tempfile::TempDir,
    listed: Mutex<HashMap<String, HashMap<String, ArtifactRecord>>>,
    keys: Mutex<HashMap<String, DataKey>>,
}

impl ArtifactFiles {
    fn records(&self, uid: &str, prefix: &str) -> Result<Vec<ArtifactRecord>> {
        let records = self.artifacts.list(uid, Some(prefix))?;
        self.listed
            .lock()
            .entry(uid.to_owned())
            .or_default()
            .extend(records.iter().map(|r| (r.path.clone(), r.clone())));
        Ok(records)
    }

    fn record(&self, uid: &str, path: &str) -> Result<ArtifactRecord> {
        let known = self
            .listed
            .lock()
            .get(uid)
            .and_then(|r| r.get(path))
            .cloned();
        let found = match known {
            Some(record) => Some(record),
            None => self
                .records(uid, path)?
                .into_iter()
                .find(|r| r.path == path),
        };
        Ok(
            found.ok_or_else(|| opsml_registry::RegistryError::ArtifactNotFound {
                uid: uid.to_owned(),
                path: path.to_owned(),
            })?,
        )
    }

    fn key(&self, uid: &str) -> Result<DataKey> {
        if let Some(key) = self.keys.lock().get(uid) {
            return Ok(key.clone());
        }
        let key = self.artifacts.stored_data_key(uid)?;
        self.keys.lock().insert(uid.to_owned(), key.clone());
        Ok(key)
    }

    fn bytes(&self, uid: &str, path: &str) -> Result<Vec<u8>> {
        let record = self.record(uid, path)?;
        let key = self.key(uid)?;
        let file = self.scratch.path().join("file");
        self.artifacts.download(&key, &record, &file)?;
        let bytes =
            std::fs::read(&file).map_err(|source| opsml_registry::RegistryError::LocalIo {
                path: file.clone(),
                source,
            })?;
        let _ = std::fs::remove_file(&file);
        Ok(bytes)
    }
}

fn files_error(uid: &str, error: ExperimentError) -> ReadError {
    ReadError::Files {
        uid: uid.to_owned(),
        source: Box::new(error),
    }
}

impl RunFiles for ArtifactFiles {
    fn list(&self, uid: &str, prefix: &str) -> opsml_read::Result<Vec<(String, u64)>> {
        let records = self.records(uid, prefix).map_err(|e| files_error(uid, e))?;
        Ok(records.into_iter().map(|r| (r.path, r.size)).collect())
    }

    fn read(&self, uid: &str, path: &str) -> opsml_read::Result<Vec<u8>> {
        self.bytes(uid, path).map_err(|e| files_error(uid, e))
    }
}

/// What changed from run `first` to run `second` of `store`, after flushing those of this
/// process.
pub fn diff_runs(store: &Arc<dyn Store>, first: &str, second: &str) -> Result<RunDiff> {
    for uid in [first, second] {
        flush_running(uid)?;
        // The code and package list of a run this process just started are stored by then.
        for running in crate::live::running(Some(uid)) {
            running.wait_for_capture();
        }
    }
    let scratch = tempfile::tempdir().map_err(|source| opsml_registry::RegistryError::LocalIo {
        path: std::env::temp_dir(),
        source,
    })?;
    let files = ArtifactFiles {
        artifacts: Artifacts::for_reading(Arc::clone(store))?,
        scratch,
        listed: Mutex::default(),
        keys: Mutex::default(),
    };
    Ok(opsml_read::diff_runs(
        store.as_ref(),
        &files,
        first,
        second,
    )?)
}
