//! Batches a store refused for good, kept on disk so that no logged point is lost.
//!
//! A store may refuse a batch for a reason that retrying cannot cure: a constraint, a store
//! file moved away, a bug in our own bookkeeping. The logging pipeline then keeps the batch
//! in a recovery file beside the store, in the write-ahead format of a server's clients (see
//! `remote::spool`), under a writer id of its own and a sequence number per batch. `opsml
//! sync` later applies the file to the store as a remote writer's batches ([`Store::append_batch`]),
//! so a batch applied twice changes nothing.

use std::path::{Path, PathBuf};

use opsml_types::Status;

use crate::spool::Spool;
use crate::sync::{forget_status, keep_status, sync_dir, SyncReport, SyncTarget};
use crate::writer::batch_body;
use opsml_api::wire::{BatchBody, StatusBody};
use opsml_store::{Lease, RemoteWriter, Result, Store, StoreError, WriteBatch};

/// What a recovery file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeptCounts {
    pub batches: usize,
    pub points: usize,
    pub parameters: usize,
    pub hardware: usize,
}

impl std::fmt::Display for KeptCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} point(s), {} parameter(s) and {} hardware sample(s) in {} batch(es)",
            self.points, self.parameters, self.hardware, self.batches
        )
    }
}

/// The recovery file of one experiment's writer, created with the first batch it keeps.
#[derive(Debug)]
pub struct RecoveryFile {
    dir: PathBuf,
    uid: String,
    writer: RemoteWriter,
    spool: Option<Spool>,
    kept: KeptCounts,
}

impl RecoveryFile {
    /// The recovery file of experiment `uid` in `dir` (a store's [`Store::recovery_dir`]).
    pub fn new(dir: PathBuf, uid: &str) -> Self {
        Self {
            dir,
            uid: uid.to_owned(),
            writer: RemoteWriter {
                writer_id: opsml_types::new_uid(),
                seq: 0,
                lease: Lease::current(),
            },
            spool: None,
            kept: KeptCounts::default(),
        }
    }

    /// Appends `batch` and makes it durable; on failure nothing of it is kept. `as_written_by`
    /// is the writer and sequence number the store was asked to write it under, if it records
    /// them (see [`opsml_store::ExperimentWriter::next_batch_writer`]); else the file's own.
    pub fn keep(
        &mut self,
        batch: &WriteBatch<'_>,
        as_written_by: Option<RemoteWriter>,
    ) -> Result<()> {
        if self.spool.is_none() {
            self.spool = Some(Spool::create(&self.dir, &self.uid, &self.writer.writer_id)?);
        }
        let own = as_written_by.is_none();
        let writer = as_written_by.unwrap_or_else(|| RemoteWriter {
            seq: self.writer.seq + 1,
            ..self.writer.clone()
        });
        let body = serde_json::to_vec(&batch_body(&writer, batch))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        #[allow(clippy::expect_used, reason = "the spool was created just above")]
        let spool = self.spool.as_mut().expect("created above");
        spool.append_durably(body)?;
        if own {
            self.writer.seq = writer.seq;
        }
        self.kept.batches += 1;
        self.kept.points += batch.points.len();
        self.kept.parameters += batch.parameters.len();
        self.kept.hardware += batch.hardware.len();
        Ok(())
    }

    /// Keeps the status the experiment ended with, for `opsml sync` to set after the batches.
    pub fn keep_status(&self, status: &StatusBody) -> Result<()> {
        keep_status(&self.dir, &self.uid, status)
    }

    /// The file, once a batch was kept.
    pub fn path(&self) -> Option<&Path> {
        self.spool.as_ref().map(Spool::path)
    }

    /// What the file holds.
    pub fn kept(&self) -> KeptCounts {
        self.kept
    }
}

/// Forgets the status kept for `opsml sync` of experiment `uid` (it is resumed: a later end
/// says how it ends).
pub fn forget_kept_status(store: &dyn Store, uid: &str) {
    if let Some(dir) = store.recovery_dir() {
        forget_status(&dir, uid);
    }
}

/// A store taking back the batches it refused.
struct LocalStore<'a>(&'a dyn Store);

impl SyncTarget for LocalStore<'_> {
    fn send_batch(&mut self, uid: &str, record: Vec<u8>) -> Result<()> {
        let body: BatchBody = serde_json::from_slice(&record)
            .map_err(|e| StoreError::Corrupt(format!("a kept batch of {uid}: {e}")))?;
        let points = body
            .records()
            .map_err(|e| StoreError::Corrupt(format!("a kept batch of {uid}: {e}")))?;
        let batch = WriteBatch {
            names: &body.names,
            points: &points,
            parameters: &body.parameters,
            hardware: &body.hardware,
        };
        self.0.append_batch(uid, &body.writer(), &batch).map(drop)
    }

    fn send_status(&mut self, uid: &str, status: &StatusBody) -> Result<()> {
        // Only over the failure its end recorded: a run resumed since ends as it says.
        let card = self.0.get_experiment(uid)?;
        if card.is_some_and(|c| c.status == Status::Failed) {
            self.0.set_status(uid, status.status, status.ended_at)?;
        }
        Ok(())
    }
}

/// Applies every batch and status kept in `store`'s recovery directory to it, removing what
/// it took; a file whose writer is still running is left to it.
pub fn replay_recovery(store: &dyn Store) -> SyncReport {
    match store.recovery_dir() {
        Some(dir) => sync_dir(&dir, &mut LocalStore(store)),
        None => SyncReport::default(),
    }
}
