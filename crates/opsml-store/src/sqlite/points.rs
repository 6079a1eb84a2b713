//! The experiment writer of a SQLite store.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{Result, StoreError};
use crate::sql::SqliteSql;
use crate::store::{ExperimentWriter, WriteBatch};
use crate::tables::writer::LocalWriter;

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
    writer: LocalWriter,
}

/// Device and inode of a file.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity(u64, u64);

#[cfg(unix)]
impl FileIdentity {
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| FileIdentity(m.dev(), m.ino()))
    }
}

/// Creation time of a file, where it has one. Elsewhere than on Unix std offers no file
/// identity (the volume serial and file index of Windows are unstable there). Length and
/// modification time change with this writer's own writes, so the creation time stands in:
/// it stays while the file stays in place, a deleted file has no metadata at all, and a
/// replacing file mostly has its own (NTFS may hand a file created within seconds under a
/// deleted one's name the old creation time). Windows refuses to delete or replace a
/// database file that SQLite holds open in the first place.
#[cfg(not(unix))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity(Option<std::time::SystemTime>);

#[cfg(not(unix))]
impl FileIdentity {
    fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|m| FileIdentity(m.created().ok()))
    }
}

impl SqliteWriter {
    /// A writer of experiment `uid`; it records itself as a live writer with its first batch.
    pub(super) fn open(conn: Connection, path: PathBuf, uid: String) -> Self {
        Self {
            conn: Some(conn),
            file: FileIdentity::of(&path),
            path,
            writer: LocalWriter::new(uid),
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

    /// The writer's own connection, with the writer.
    fn parts(&mut self) -> (SqliteSql<'_>, &mut LocalWriter) {
        #[allow(clippy::expect_used, reason = "the connection lives until drop")]
        let conn = self.conn.as_ref().expect("the connection lives until drop");
        (SqliteSql::new(conn, &self.path), &mut self.writer)
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
        let (mut sql, writer) = self.parts();
        writer.heartbeat(&mut sql)
    }

    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        self.check_file_in_place()?;
        let _inside = crate::fork_gate::sqlite_gate();
        let (mut sql, writer) = self.parts();
        writer.write(&mut sql, batch, None).map(drop)
    }
}
