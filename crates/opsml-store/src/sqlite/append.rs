//! Batches of remote writers in SQLite (see `crate::append`).

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::append::{
    append_points, foreign_writer, next_in_sequence, BlockOwner, BlockTx, RemoteWriter, Tail,
};
use crate::chunk::ChunkColumns;
use crate::error::StoreError;
use crate::store::WriteBatch;

impl BlockTx for Transaction<'_> {
    type Error = rusqlite::Error;

    fn writer_tail(&mut self, owner: BlockOwner<'_>, below: i64) -> rusqlite::Result<Option<Tail>> {
        self.prepare_cached(
            "SELECT id, CASE WHEN point_count < ?4 THEN data END FROM metric_chunks
             WHERE writer_id = ?1 AND name = ?2 AND experiment_uid = ?3
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(
            params![owner.writer_id, owner.name, owner.uid, below],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
    }

    fn insert_block(
        &mut self,
        owner: BlockOwner<'_>,
        block: &ChunkColumns,
    ) -> rusqlite::Result<i64> {
        self.prepare_cached(
            "INSERT INTO metric_chunks (experiment_uid, name, point_count, data, writer_id)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            owner.uid,
            owner.name,
            block.len() as i64,
            block.encode(),
            owner.writer_id
        ])?;
        Ok(self.last_insert_rowid())
    }

    fn update_block(&mut self, id: i64, block: &ChunkColumns) -> rusqlite::Result<()> {
        self.prepare_cached("UPDATE metric_chunks SET point_count = ?2, data = ?3 WHERE id = ?1")?
            .execute(params![id, block.len() as i64, block.encode()])
            .map(drop)
    }
}

/// Applies the batch if it is the writer's next one; `Ok(Ok(false))` for a resend.
pub(super) fn append(
    conn: &mut Connection,
    uid: &str,
    writer: &RemoteWriter,
    batch: &WriteBatch<'_>,
) -> rusqlite::Result<Result<bool, StoreError>> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = Utc::now().timestamp_micros();
    let known: Option<(String, i64)> = tx
        .query_row(
            "SELECT experiment_uid, last_seq FROM experiment_writers WHERE writer_id = ?1",
            [&writer.writer_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let last = match &known {
        Some((owner, _)) if owner != uid => {
            return Ok(Err(StoreError::BatchRefused(foreign_writer(writer))))
        }
        Some((_, last)) => *last,
        None => 0,
    };
    match next_in_sequence(writer, last) {
        Ok(true) => {}
        Ok(false) => return Ok(Ok(false)),
        Err(why) => return Ok(Err(StoreError::BatchRefused(why))),
    }
    let seq = last + 1;
    if known.is_some() {
        tx.execute(
            "UPDATE experiment_writers SET last_seq = ?2, heartbeat_at = ?3 WHERE writer_id = ?1",
            params![writer.writer_id, seq, now],
        )?;
    } else {
        let lease = serde_json::to_string(&writer.lease)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
        tx.execute(
            "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at, last_seq)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![writer.writer_id, uid, lease, now, seq],
        )?;
    }
    tx.execute(
        "UPDATE experiments SET heartbeat_at = ?2 WHERE uid = ?1",
        params![uid, now],
    )?;
    append_points(&mut tx, uid, &writer.writer_id, batch)?;
    super::points::write_extras(&tx, uid, batch)?;
    tx.commit()?;
    Ok(Ok(true))
}
