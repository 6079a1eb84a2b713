//! `opsml sync`: sends what runs left in a write-ahead directory (batches a server did not
//! take, the status of an experiment that ended while the server was down; batches a local
//! store refused, see `crate::recovery`) and removes what was taken. A file still locked by a
//! running writer is left to it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use reqwest::Method;

use crate::http_store::HttpStore;
use crate::outbox::persist_private;
use crate::spool::{RecordReader, BATCHES_EXTENSION, MAGIC};
use opsml_api::wire::StatusBody;
use opsml_process::runtime;
use opsml_store::{Result, StoreError};

/// Name of the file keeping an experiment's unsent status.
const STATUS_FILE: &str = "status.json";

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Batches the server took (or had already).
    pub batches_sent: usize,
    /// Statuses set.
    pub statuses_sent: usize,
    /// Experiments whose kept creation, data key, artifacts or metadata were delivered.
    pub experiments_delivered: usize,
    /// Files of running writers, left alone.
    pub busy: Vec<PathBuf>,
    /// Files that could not be sent, and why; they stay.
    pub failed: Vec<(PathBuf, String)>,
}

/// Keeps the status of `uid` for a later sync.
pub(crate) fn keep_status(dir: &Path, uid: &str, status: &StatusBody) -> Result<()> {
    let json = serde_json::to_vec(status).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Whole or not at all: ranks ending at once never mix their texts.
    persist_private(&dir.join(uid), STATUS_FILE, &json, true).map(drop)
}

/// Whether `dir` holds batches of `uid` not yet on the server.
pub(crate) fn has_unsent_batches(dir: &Path, uid: &str) -> bool {
    fs::read_dir(dir.join(uid)).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|entry| {
            entry
                .path()
                .extension()
                .is_some_and(|x| x == BATCHES_EXTENSION)
                && entry.metadata().is_ok_and(|m| m.len() > MAGIC.len() as u64)
        })
    })
}

/// Forgets a kept status of `uid` (a newer one reached the server).
pub(crate) fn forget_status(dir: &Path, uid: &str) {
    let path = dir.join(uid).join(STATUS_FILE);
    if path.exists() {
        if let Err(e) = fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "removing a kept status failed");
        }
        let _ = fs::remove_dir(dir.join(uid));
    }
}

/// Where kept batches and statuses go: a server, or the store that refused them earlier.
pub(crate) trait SyncTarget {
    /// Delivers what the batches of `uid` need first (the experiment itself, made while its
    /// server was down); `Some(true)` when something was delivered, `None` while another
    /// process is delivering it.
    fn prepare(&mut self, _uid: &str) -> Result<Option<bool>> {
        Ok(Some(false))
    }
    /// Applies one kept batch (a resend changes nothing).
    fn send_batch(&mut self, uid: &str, record: Vec<u8>) -> Result<()>;
    /// Sets a kept status.
    fn send_status(&mut self, uid: &str, status: &StatusBody) -> Result<()>;
}

/// The server of an [`HttpStore`].
struct Server<'a>(&'a HttpStore);

impl SyncTarget for Server<'_> {
    fn prepare(&mut self, uid: &str) -> Result<Option<bool>> {
        if !self.0.outbox.holds(uid) {
            return Ok(Some(false));
        }
        Ok(self.0.outbox.deliver(&self.0.client, uid)?.then_some(true))
    }

    fn send_batch(&mut self, uid: &str, record: Vec<u8>) -> Result<()> {
        runtime().block_on(self.0.client.post_batch(uid, bytes::Bytes::from(record)))
    }

    fn send_status(&mut self, uid: &str, status: &StatusBody) -> Result<()> {
        self.0.client.call_empty(
            &Method::PUT,
            &format!("/experiments/{uid}/status"),
            Some(status),
        )
    }
}

/// Sends every batch and status kept in `dir` to the server of `store`.
pub fn sync_spool(store: &HttpStore, dir: &Path) -> SyncReport {
    sync_dir(dir, &mut Server(store))
}

/// Sends every batch and status kept in `dir` to `target`, removing what it took.
pub(crate) fn sync_dir(dir: &Path, target: &mut impl SyncTarget) -> SyncReport {
    let mut report = SyncReport::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return report;
    };
    let mut experiments: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    experiments.sort();
    for experiment in experiments {
        let Some(uid) = experiment
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        let mut files: Vec<PathBuf> = fs::read_dir(&experiment)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == BATCHES_EXTENSION))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        match target.prepare(&uid) {
            Ok(Some(delivered)) => report.experiments_delivered += usize::from(delivered),
            Ok(None) => {
                report.busy.push(experiment);
                continue;
            }
            Err(e) => {
                report.failed.push((experiment, e.to_string()));
                continue;
            }
        }
        let mut batches_left = false;
        for path in files {
            match send_file(target, &uid, &path) {
                Ok(Some(sent)) => report.batches_sent += sent,
                Ok(None) => {
                    batches_left = true;
                    report.busy.push(path);
                }
                Err(e) => {
                    batches_left = true;
                    report.failed.push((path, e.to_string()));
                }
            }
        }
        let status = experiment.join(STATUS_FILE);
        // The status goes after the data it ends.
        if status.exists() && !batches_left {
            match send_status(target, &uid, &status) {
                Ok(()) => report.statuses_sent += 1,
                Err(e) => report.failed.push((status, e.to_string())),
            }
        }
        // Only an emptied directory goes.
        let _ = fs::remove_dir(&experiment);
    }
    report
}

/// Sends the batches of one file in order and removes it; `None` when a writer holds it.
fn send_file(target: &mut impl SyncTarget, uid: &str, path: &Path) -> Result<Option<usize>> {
    let io = |source| StoreError::LocalIo {
        path: path.to_owned(),
        source,
    };
    let file = File::options()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    if file.try_lock().is_err() {
        return Ok(None);
    }
    // One batch in memory at a time: a long outage may have left a large file.
    let mut reader = RecordReader::new(std::io::BufReader::new(&file)).map_err(io)?;
    let mut sent = 0;
    while let Some(record) = reader.next_record().map_err(io)? {
        target.send_batch(uid, record)?;
        sent += 1;
    }
    fs::remove_file(path).map_err(io)?;
    Ok(Some(sent))
}

fn send_status(target: &mut impl SyncTarget, uid: &str, path: &Path) -> Result<()> {
    let io = |source| StoreError::LocalIo {
        path: path.to_owned(),
        source,
    };
    let text = fs::read(path).map_err(io)?;
    let status: StatusBody = serde_json::from_slice(&text)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
    target.send_status(uid, &status)?;
    fs::remove_file(path).map_err(io)
}
