//! Metric chunks and parameters: the experiment writer and the readers.

use std::path::{Path, PathBuf};

use opsml_types::{HardwareSample, MetricColumns, Parameter};
use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use crate::chunk::{decode_into, ChunkColumns};
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::open_blocks::{BlockSink, OpenBlocks};
use crate::store::{ExperimentWriter, TableCells, WriteBatch};
use crate::stored::parameter_value;

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

    fn write_transaction(&mut self, batch: &WriteBatch<'_>) -> rusqlite::Result<()> {
        #[allow(clippy::expect_used, reason = "the connection lives until drop")]
        let tx = self
            .conn
            .as_mut()
            .expect("the connection lives until drop")
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !self.registered {
            super::cards::add_writer(&tx, &self.writer_id, &self.uid, &Lease::current())?;
        }
        self.blocks.write(
            &mut LocalBlocks {
                tx: &tx,
                uid: &self.uid,
            },
            batch,
        )?;
        write_extras(&tx, &self.uid, batch)?;
        tx.commit()
    }
}

/// What a batch adds besides metric blocks: summaries, hardware samples, parameters.
pub(super) fn write_extras(
    tx: &Transaction<'_>,
    uid: &str,
    batch: &WriteBatch<'_>,
) -> rusqlite::Result<()> {
    for (name_id, mut summary) in crate::batch_summary::summarise_batch(batch.points) {
        summary.name.clone_from(&batch.names[name_id as usize]);
        super::summaries::merge(tx, uid, &summary)?;
    }
    if !batch.hardware.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO hardware_samples (experiment_uid, timestamp, data) VALUES (?1, ?2, ?3)",
        )?;
        for sample in batch.hardware {
            let data = serde_json::to_string(sample)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            stmt.execute(params![uid, sample.timestamp, data])?;
        }
    }
    if !batch.parameters.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO parameters (experiment_uid, name, kind, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (experiment_uid, name) DO UPDATE
             SET kind = excluded.kind, value = excluded.value",
        )?;
        for parameter in batch.parameters {
            stmt.execute(params![
                uid,
                parameter.name,
                parameter.value.kind(),
                parameter.value.to_stored()
            ])?;
        }
    }
    Ok(())
}

/// The blocks of a local writer: rows without a writer id.
struct LocalBlocks<'a> {
    tx: &'a Transaction<'a>,
    uid: &'a str,
}

impl BlockSink for LocalBlocks<'_> {
    type Error = rusqlite::Error;

    fn insert(&mut self, name: &str, block: &ChunkColumns) -> rusqlite::Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO metric_chunks (experiment_uid, name, point_count, data)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![self.uid, name, block.len() as i64, block.encode()])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn update(&mut self, id: i64, block: &ChunkColumns) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached("UPDATE metric_chunks SET point_count = ?2, data = ?3 WHERE id = ?1")?
            .execute(params![id, block.len() as i64, block.encode()])
            .map(drop)
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
        super::cards::writer_heartbeat(conn, &self.writer_id, &self.uid).map_err(|source| {
            StoreError::Sqlite {
                path: self.path.clone(),
                source,
            }
        })?;
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
        written.map_err(|source| {
            // The transaction rolled back: forget the tails so that the retried
            // batch goes into fresh blocks and nothing is written twice.
            self.blocks.clear();
            StoreError::Sqlite {
                path: self.path.clone(),
                source,
            }
        })
    }
}

/// Names as a JSON array, for `IN (SELECT value FROM json_each(?))`.
fn names_json(names: Option<&[String]>) -> Option<String> {
    names.map(|n| serde_json::Value::from(n.to_vec()).to_string())
}

pub(super) fn read_metrics(
    conn: &Connection,
    uid: &str,
    names: Option<&[String]>,
) -> rusqlite::Result<std::result::Result<MetricColumns, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, data FROM metric_chunks
         WHERE experiment_uid = ?1
           AND (?2 IS NULL OR name IN (SELECT value FROM json_each(?2)))
         ORDER BY name, id",
    )?;
    let names = names_json(names);
    // Reserving every column once avoids regrowing (and copying) them chunk after chunk.
    let total: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(point_count), 0) FROM metric_chunks
             WHERE experiment_uid = ?1
               AND (?2 IS NULL OR name IN (SELECT value FROM json_each(?2)))",
        )?
        .query_row(params![uid, names], |row| row.get(0))?;
    let mut columns = MetricColumns::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut rows = stmt.query(params![uid, names])?;
    let mut segment_starts = Vec::new();
    while let Some(row) = rows.next()? {
        let name = row.get_ref(0)?.as_str()?;
        if columns.names.last().map(String::as_str) != Some(name) {
            columns.names.push(name.to_owned());
            segment_starts.push(columns.len());
        }
        let name_id = (columns.names.len() - 1) as u32;
        let data = row.get_ref(1)?.as_blob()?;
        if let Err(e) = decode_into(data, name_id, &mut columns) {
            return Ok(Err(format!("experiment {uid}, metric {name:?}: {e}")));
        }
    }
    segment_starts.push(columns.len());
    for window in segment_starts.windows(2) {
        crate::chunk::sort_by_step(&mut columns, window[0]..window[1]);
    }
    Ok(Ok(columns))
}

pub(super) fn read_hardware(
    conn: &Connection,
    uid: &str,
) -> rusqlite::Result<std::result::Result<Vec<HardwareSample>, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM hardware_samples WHERE experiment_uid = ?1 ORDER BY timestamp, id",
    )?;
    let mut rows = stmt.query([uid])?;
    let mut samples = Vec::new();
    while let Some(row) = rows.next()? {
        let text = row.get_ref(0)?.as_str()?;
        match serde_json::from_str(text) {
            Ok(sample) => samples.push(sample),
            Err(e) => return Ok(Err(format!("experiment {uid}, hardware sample: {e}"))),
        }
    }
    Ok(Ok(samples))
}

pub(super) fn read_parameters(
    conn: &Connection,
    uid: &str,
    names: Option<&[String]>,
) -> rusqlite::Result<std::result::Result<Vec<Parameter>, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, value, experiment_uid FROM parameters
         WHERE experiment_uid = ?1
           AND (?2 IS NULL OR name IN (SELECT value FROM json_each(?2)))
         ORDER BY rowid",
    )?;
    let rows = stmt.query(params![uid, names_json(names)])?;
    Ok(parameters_of_rows(rows)?.map(|found| found.into_iter().map(|(_, p)| p).collect()))
}

/// Adds the parameters of the experiments `uids` (a JSON array; `None` reads
/// every experiment's, for the table to keep its own) to their rows of `table`.
pub(super) fn read_parameters_many(
    conn: &Connection,
    uids: Option<&str>,
    table: &mut TableCells,
) -> rusqlite::Result<std::result::Result<(), String>> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, value, experiment_uid FROM parameters
         WHERE ?1 IS NULL OR experiment_uid IN (SELECT value FROM json_each(?1))",
    )?;
    let mut rows = stmt.query([uids])?;
    while let Some(row) = rows.next()? {
        let uid = super::text_at(row, 3)?;
        let Some(run) = table.row_of(uid) else {
            continue;
        };
        let (name, kind, text) = (
            super::text_at(row, 0)?,
            super::text_at(row, 1)?,
            super::text_at(row, 2)?,
        );
        match parameter_value(uid, name, kind, text) {
            Ok(value) => table.set_parameter(run, name, value),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// Parameters from rows of (name, kind, value, experiment uid); a row that describes no value
/// is named in the error.
fn parameters_of_rows(
    mut rows: rusqlite::Rows<'_>,
) -> rusqlite::Result<std::result::Result<Vec<(String, Parameter)>, String>> {
    let mut parameters = Vec::new();
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let kind: String = row.get(1)?;
        let text: String = row.get(2)?;
        let uid: String = row.get(3)?;
        match parameter_value(&uid, &name, &kind, &text) {
            Ok(value) => parameters.push((uid, Parameter { name, value })),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(parameters))
}
