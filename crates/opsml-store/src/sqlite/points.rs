//! The experiment writer of a SQLite store.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::open_blocks::OpenBlocks;
use crate::sql::{Begin, Sql, SqliteSql};
use crate::store::{ExperimentWriter, WriteBatch};
use crate::tables::append::LocalBlocks;
use crate::tables::{cards, points};

/// Writes one experiment's points through a connection of its own, so that a
/// flush never waits for a reader of the same process.
pub(super) struct SqliteWriter {
    /// Always `Some` until dropped (taken so that closing happens inside the SQLite gate).
    conn: Option<Connection>,
    path: PathBuf,
    /// The store file the connection opened. SQLite in WAL mode goes on writing into a file
    /// that was deleted or replaced, where nobody will ever read it, so every write first
    /// checks that the file at `path` is still this one.
    file: Option<FileIdentity>,
    /// This writer's row in `experiment_writers`, added with its first batch (so that
    /// starting an experiment costs no extra transaction).
    writer_id: String,
    registered: bool,
    uid: String,
    /// The open block of each metric, kept across batches: a flush rewrites it, never reads.
    blocks: OpenBlocks,
}

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity(u64, u64);

impl FileIdentity {
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| FileIdentity(m.dev(), m.ino()))
    }
}

impl SqliteWriter {
    /// A writer of experiment `uid`; it records itself as a live writer with its first batch.
    pub(super) fn open(conn: Connection, path: PathBuf, uid: String) -> Self {
        Self {
            conn: Some(conn),
            file: FileIdentity::of(&path),
            writer_id: opsml_types::new_uid(),
            registered: false,
            path,
            uid,
            blocks: OpenBlocks::default(),
        }
    }

    fn check_file_in_place(&self) -> Result<()> {
        if self.file.is_some() && FileIdentity::of(&self.path) != self.file {
            return Err(StoreError::StoreMoved {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    fn write_transaction(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        #[allow(clippy::expect_used, reason = "the connection lives until drop")]
        let conn = self.conn.as_ref().expect("the connection lives until drop");
        let (uid, writer_id, registered) = (&self.uid, &self.writer_id, self.registered);
        let blocks = &mut self.blocks;
        let sql: &mut dyn Sql = &mut SqliteSql::new(conn, &self.path);
        sql.transaction(Begin::Write, |db| {
            if !registered {
                cards::add_writer(db, writer_id, uid, &Lease::current())?;
            }
            blocks.write(&mut LocalBlocks { db, uid }, batch)?;
            points::write_extras(db, uid, batch)
        })
    }
}

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        let _inside = crate::fork_gate::sqlite_gate();
        // The writer's record goes when the experiment ends; until then a closed writer's
        // record is that of a finished process, which counts as dead.
        drop(self.conn.take());
    }
}

impl ExperimentWriter for SqliteWriter {
    fn heartbeat(&mut self) -> Result<()> {
        let _inside = crate::fork_gate::sqlite_gate();
        #[allow(clippy::expect_used, reason = "the connection lives until drop")]
        let conn = self.conn.as_ref().expect("the connection lives until drop");
        cards::writer_heartbeat(
            &mut SqliteSql::new(conn, &self.path),
            &self.writer_id,
            &self.uid,
        )?;
        // The heartbeat wrote the writer's record: the first batch need not.
        self.registered = true;
        Ok(())
    }

    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        self.check_file_in_place()?;
        let _inside = crate::fork_gate::sqlite_gate();
        let written = self.write_transaction(batch);
        if written.is_ok() {
            self.registered = true;
        }
        written.inspect_err(|_| {
            // The transaction rolled back: forget the tails so that the retried
            // batch goes into fresh blocks and nothing is written twice.
            self.blocks.clear();
        })
    }
}
