//! Batches of remote writers in PostgreSQL (see `crate::append`).

use chrono::Utc;
use postgres::{Client, Transaction};

use crate::append::{
    append_points, foreign_writer, next_in_sequence, BlockOwner, BlockTx, RemoteWriter, Tail,
};
use crate::chunk::ChunkColumns;
use crate::error::StoreError;
use crate::store::WriteBatch;

impl BlockTx for Transaction<'_> {
    type Error = postgres::Error;

    fn writer_tail(
        &mut self,
        owner: BlockOwner<'_>,
        below: i64,
    ) -> Result<Option<Tail>, postgres::Error> {
        Ok(self
            .query_opt(
                "SELECT id, CASE WHEN point_count < $4 THEN data END FROM metric_chunks
                 WHERE writer_id = $1 AND name = $2 AND experiment_uid = $3
                 ORDER BY id DESC LIMIT 1",
                &[&owner.writer_id, &owner.name, &owner.uid, &below],
            )?
            .map(|row| (row.get(0), row.get(1))))
    }

    fn insert_block(
        &mut self,
        owner: BlockOwner<'_>,
        block: &ChunkColumns,
    ) -> Result<i64, postgres::Error> {
        let row = self.query_one(
            "INSERT INTO metric_chunks (experiment_uid, name, point_count, data, writer_id)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &owner.uid,
                &owner.name,
                &(block.len() as i64),
                &block.encode(),
                &owner.writer_id,
            ],
        )?;
        Ok(row.get(0))
    }

    fn update_block(&mut self, id: i64, block: &ChunkColumns) -> Result<(), postgres::Error> {
        self.execute(
            "UPDATE metric_chunks SET point_count = $2, data = $3 WHERE id = $1",
            &[&id, &(block.len() as i64), &block.encode()],
        )
        .map(drop)
    }
}

/// Applies the batch if it is the writer's next one; `Ok(Ok(false))` for a resend. The
/// experiment's row, then the writer's row, are locked first (the order `set_status` takes
/// them in), so that two servers given the same resend apply it once.
pub(super) fn append(
    client: &mut Client,
    uid: &str,
    writer: &RemoteWriter,
    batch: &WriteBatch<'_>,
) -> Result<Result<bool, StoreError>, postgres::Error> {
    let mut tx = client.transaction()?;
    let now = Utc::now().timestamp_micros();
    tx.execute(
        "UPDATE experiments SET heartbeat_at = $2 WHERE uid = $1",
        &[&uid, &now],
    )?;
    #[allow(clippy::expect_used, reason = "leases serialise to JSON")]
    let lease = serde_json::to_string(&writer.lease).expect("leases serialise to JSON");
    // Creates the writer's row at 0 if it is new; the SELECT then locks it either way.
    tx.execute(
        "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at, last_seq)
         VALUES ($1, $2, $3, $4, 0) ON CONFLICT (writer_id) DO NOTHING",
        &[&writer.writer_id, &uid, &lease, &now],
    )?;
    let row = tx.query_one(
        "SELECT experiment_uid, last_seq FROM experiment_writers WHERE writer_id = $1 FOR UPDATE",
        &[&writer.writer_id],
    )?;
    let owner: &str = row.get(0);
    if owner != uid {
        return Ok(Err(StoreError::BatchRefused(foreign_writer(writer))));
    }
    let last: i64 = row.get(1);
    match next_in_sequence(writer, last) {
        Ok(true) => {}
        Ok(false) => return Ok(Ok(false)),
        Err(why) => return Ok(Err(StoreError::BatchRefused(why))),
    }
    tx.execute(
        "UPDATE experiment_writers SET last_seq = $2, heartbeat_at = $3 WHERE writer_id = $1",
        &[&writer.writer_id, &(last + 1), &now],
    )?;
    append_points(&mut tx, uid, &writer.writer_id, batch)?;
    super::points::write_extras(&mut tx, uid, batch)?;
    tx.commit()?;
    Ok(Ok(true))
}
