//! Metric blocks as rows of `metric_chunks`: those of a local writer (no writer id) and the
//! batches of remote writers (see `crate::append`), applied at most once per sequence number.

use chrono::Utc;

use crate::append::{
    append_points, foreign_writer, next_in_sequence, BlockOwner, BlockTx, RemoteWriter, Tail,
};
use crate::chunk::ChunkColumns;
use crate::error::{Result, StoreError};
use crate::open_blocks::BlockSink;
use crate::sql::{params, Begin, Sql};
use crate::store::WriteBatch;

const UPDATE_BLOCK: &str = "UPDATE metric_chunks SET point_count = $2, data = $3 WHERE id = $1";

fn update_block(db: &mut dyn Sql, id: i64, block: &ChunkColumns) -> Result<()> {
    db.execute(
        UPDATE_BLOCK,
        &params![id, block.len() as i64, block.encode().as_slice()],
    )
    .map(drop)
}

/// The blocks of a local writer, in its transaction: rows without a writer id.
pub(crate) struct LocalBlocks<'a> {
    pub(crate) db: &'a mut dyn Sql,
    pub(crate) uid: &'a str,
}

impl BlockSink for LocalBlocks<'_> {
    type Error = StoreError;

    fn insert(&mut self, name: &str, block: &ChunkColumns) -> Result<i64> {
        self.db.query_one(
            "INSERT INTO metric_chunks (experiment_uid, name, point_count, data)
             VALUES ($1, $2, $3, $4) RETURNING id",
            &params![
                self.uid,
                name,
                block.len() as i64,
                block.encode().as_slice()
            ],
            |row| row.int_at(0),
        )
    }

    fn update(&mut self, id: i64, block: &ChunkColumns) -> Result<()> {
        update_block(self.db, id, block)
    }
}

/// A transaction applying a remote writer's batch.
struct WriterTx<'a>(&'a mut dyn Sql);

impl BlockTx for WriterTx<'_> {
    type Error = StoreError;

    fn writer_tail(&mut self, owner: BlockOwner<'_>, below: i64) -> Result<Option<Tail>> {
        self.0.query_opt(
            "SELECT id, CASE WHEN point_count < $4 THEN data END FROM metric_chunks
             WHERE writer_id = $1 AND name = $2 AND experiment_uid = $3
             ORDER BY id DESC LIMIT 1",
            &params![owner.writer_id, owner.name, owner.uid, below],
            |row| Ok((row.int_at(0)?, row.blob(1)?.map(<[u8]>::to_vec))),
        )
    }

    fn insert_block(&mut self, owner: BlockOwner<'_>, block: &ChunkColumns) -> Result<i64> {
        self.0.query_one(
            "INSERT INTO metric_chunks (experiment_uid, name, point_count, data, writer_id)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &params![
                owner.uid,
                owner.name,
                block.len() as i64,
                block.encode().as_slice(),
                owner.writer_id,
            ],
            |row| row.int_at(0),
        )
    }

    fn update_block(&mut self, id: i64, block: &ChunkColumns) -> Result<()> {
        update_block(self.0, id, block)
    }
}

/// Applies the batch if it is the writer's next one; `false` for a resend. The experiment's
/// row, then the writer's row, are locked first (the order `set_status` takes them in), so
/// that two servers given the same resend apply it once.
pub(crate) fn append(
    db: &mut dyn Sql,
    uid: &str,
    writer: &RemoteWriter,
    batch: &WriteBatch<'_>,
) -> Result<bool> {
    db.transaction(Begin::Write, |db| {
        let now = Utc::now().timestamp_micros();
        db.execute(
            "UPDATE experiments SET heartbeat_at = $2 WHERE uid = $1",
            &params![uid, now],
        )?;
        #[allow(clippy::expect_used, reason = "leases serialise to JSON")]
        let lease = serde_json::to_string(&writer.lease).expect("leases serialise to JSON");
        // Creates the writer's row at 0 if it is new; the SELECT then locks it either way.
        db.execute(
            "INSERT INTO experiment_writers
                 (writer_id, experiment_uid, lease, heartbeat_at, last_seq)
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (writer_id) DO NOTHING",
            &params![&writer.writer_id, uid, lease.as_str(), now],
        )?;
        let sql = format!(
            "SELECT experiment_uid, last_seq FROM experiment_writers WHERE writer_id = $1{}",
            db.for_update()
        );
        let (owner, last) = db.query_one(&sql, &params![&writer.writer_id], |row| {
            Ok((row.string_at(0)?, row.int_at(1)?))
        })?;
        if owner != uid {
            return Err(StoreError::BatchRefused(foreign_writer(writer)));
        }
        if !next_in_sequence(writer, last).map_err(StoreError::BatchRefused)? {
            return Ok(false);
        }
        db.execute(
            "UPDATE experiment_writers SET last_seq = $2, heartbeat_at = $3 WHERE writer_id = $1",
            &params![&writer.writer_id, last + 1, now],
        )?;
        append_points(&mut WriterTx(db), uid, &writer.writer_id, batch)?;
        super::points::write_extras(db, uid, batch)?;
        Ok(true)
    })
}
