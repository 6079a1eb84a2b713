//! Batches sent by remote writers (clients of an opsml server): each store applies one in a
//! single transaction, at most once per sequence number, with its points going into the
//! writer's own open blocks so that a stream of small batches still makes full blocks.

use std::collections::BTreeSet;

use crate::chunk::{ChunkColumns, CHUNK_POINTS};
use crate::lease::Lease;
use crate::open_blocks::{BlockSink, OpenBlocks};
use crate::store::WriteBatch;

/// Who sent a batch, and its place in that writer's sequence (1, 2, 3, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWriter {
    /// Chosen by the writer, unique per writer (a UUID).
    pub writer_id: String,
    /// Sequence number of this batch; a batch not above the last applied one is a resend.
    pub seq: u64,
    /// The process that writes.
    pub lease: Lease,
}

/// What to do with batch `seq` of a writer whose last applied batch is `last` (0: none):
/// apply it (the next one), skip it (a resend), or refuse it (one is missing before it, or the
/// number is out of range), saying why.
pub(crate) fn next_in_sequence(writer: &RemoteWriter, last: i64) -> Result<bool, String> {
    let seq = i64::try_from(writer.seq)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            format!(
                "writer {}: sequence number {} is outside 1..={}",
                writer.writer_id,
                writer.seq,
                i64::MAX
            )
        })?;
    if seq <= last {
        return Ok(false);
    }
    if seq != last + 1 {
        return Err(format!(
            "writer {}: batch {seq} arrived after batch {last}; batches {} to {} are missing",
            writer.writer_id,
            last + 1,
            seq - 1
        ));
    }
    Ok(true)
}

/// The refusal of a writer id that another experiment's writer uses.
pub(crate) fn foreign_writer(writer: &RemoteWriter) -> String {
    format!(
        "writer {} writes to another experiment; a writer id names one writer of one experiment",
        writer.writer_id
    )
}

/// A writer's newest block: its id, and its encoded points when it is small enough to fill.
pub(crate) type Tail = (i64, Option<Vec<u8>>);

/// Whose blocks: one metric of one experiment, as one writer wrote it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockOwner<'a> {
    pub(crate) uid: &'a str,
    pub(crate) name: &'a str,
    pub(crate) writer_id: &'a str,
}

/// The block operations [`append_points`] needs from a store's transaction.
pub(crate) trait BlockTx {
    type Error;

    /// The newest block of `owner`: its id, and its encoded points if it holds fewer than
    /// `below` points (a larger one is not read).
    fn writer_tail(
        &mut self,
        owner: BlockOwner<'_>,
        below: i64,
    ) -> Result<Option<Tail>, Self::Error>;

    /// Saves a new block of `owner`; its id.
    fn insert_block(
        &mut self,
        owner: BlockOwner<'_>,
        block: &ChunkColumns,
    ) -> Result<i64, Self::Error>;

    fn update_block(&mut self, id: i64, block: &ChunkColumns) -> Result<(), Self::Error>;
}

/// A writer's newest block takes more points only while it holds fewer than this many: filling
/// it means rewriting it, so a larger one stays as it is and a new block begins. Every block
/// of a remote writer but its newest holds at least this many points (whatever the size of its
/// batches), and a batch rewrites at most this many stored points per metric.
pub const REOPEN_BELOW: usize = CHUNK_POINTS / 8;

/// Adds the batch's points to the writer's blocks: the newest block of each metric is filled
/// up to [`CHUNK_POINTS`] if it is small (see [`REOPEN_BELOW`]), then new blocks follow.
pub(crate) fn append_points<T: BlockTx>(
    tx: &mut T,
    uid: &str,
    writer_id: &str,
    batch: &WriteBatch<'_>,
) -> Result<(), T::Error> {
    let mut blocks = OpenBlocks::default();
    let name_ids: BTreeSet<u32> = batch.points.iter().map(|record| record.name_id).collect();
    for name_id in name_ids {
        let name = &batch.names[name_id as usize];
        let owner = BlockOwner {
            uid,
            name,
            writer_id,
        };
        let Some((id, Some(data))) = tx.writer_tail(owner, REOPEN_BELOW as i64)? else {
            continue;
        };
        match ChunkColumns::decode(&data) {
            Ok(block) if block.len() < REOPEN_BELOW => blocks.reopen(name_id, id, block),
            Ok(_) => {}
            // A damaged tail stays as it is (reading it says so); refusing every later batch
            // of the writer over it would stop its logging for good.
            Err(e) => tracing::error!(uid, metric = %name, error = %e,
                "the open block is damaged; new points go to a new block"),
        }
    }
    blocks.write(&mut WriterBlocks { tx, uid, writer_id }, batch)
}

/// The blocks of one remote writer in a store's transaction.
struct WriterBlocks<'a, T> {
    tx: &'a mut T,
    uid: &'a str,
    writer_id: &'a str,
}

impl<T: BlockTx> BlockSink for WriterBlocks<'_, T> {
    type Error = T::Error;

    fn insert(&mut self, name: &str, block: &ChunkColumns) -> Result<i64, T::Error> {
        let owner = BlockOwner {
            uid: self.uid,
            name,
            writer_id: self.writer_id,
        };
        self.tx.insert_block(owner, block)
    }

    fn update(&mut self, id: i64, block: &ChunkColumns) -> Result<(), T::Error> {
        self.tx.update_block(id, block)
    }
}
