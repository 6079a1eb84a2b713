//! What every local experiment writer does in its transactions, whichever its database: its
//! record among the experiment's writers, its open blocks, the batch's other rows.

use crate::error::Result;
use crate::lease::Lease;
use crate::open_blocks::OpenBlocks;
use crate::sql::{params, Begin, Sql};
use crate::store::WriteBatch;
use crate::tables::append::LocalBlocks;
use crate::tables::{cards, points};

/// One writer of one experiment, over connections its store keeps for it.
#[derive(Debug)]
pub(crate) struct LocalWriter {
    uid: String,
    /// This writer's row in `experiment_writers`, added with its first batch or heartbeat
    /// (so that starting an experiment costs no extra transaction).
    writer_id: String,
    registered: bool,
    /// The open block of each metric, kept across batches: a flush rewrites it, never reads.
    blocks: OpenBlocks,
}

impl LocalWriter {
    pub(crate) fn new(uid: String) -> Self {
        Self {
            uid,
            writer_id: opsml_types::new_uid(),
            registered: false,
            blocks: OpenBlocks::default(),
        }
    }

    pub(crate) fn writer_id(&self) -> &str {
        &self.writer_id
    }

    /// Records that the experiment and this writer are alive.
    pub(crate) fn heartbeat(&mut self, db: &mut dyn Sql) -> Result<()> {
        cards::writer_heartbeat(db, &self.writer_id, &self.uid)?;
        // The heartbeat wrote the writer's record: the first batch need not.
        self.registered = true;
        Ok(())
    }

    /// Stores the batch in one transaction. With `seq` (this writer's batches numbered from
    /// 1), a batch whose earlier attempt was committed although its answer was lost is not
    /// stored again; `false` then.
    pub(crate) fn write(
        &mut self,
        db: &mut dyn Sql,
        batch: &WriteBatch<'_>,
        seq: Option<i64>,
    ) -> Result<bool> {
        let Self {
            uid,
            writer_id,
            registered,
            blocks,
        } = self;
        let written = db.transaction(Begin::Write, |db| {
            if !*registered {
                cards::add_writer(db, writer_id, uid, &Lease::current())?;
            }
            if let Some(seq) = seq {
                if !advance(db, writer_id, uid, seq)? {
                    return Ok(false);
                }
            }
            blocks.write(&mut LocalBlocks { db, uid }, batch)?;
            points::write_extras(db, uid, batch)?;
            Ok(true)
        });
        match written {
            Ok(_) => self.registered = true,
            // The transaction rolled back: forget the tails so that the retried batch goes
            // into fresh blocks and nothing is written twice.
            Err(_) => self.blocks.clear(),
        }
        written
    }

    /// Goes on as a new writer: the batches of the one before are done with.
    pub(crate) fn start_over(&mut self) {
        *self = Self::new(std::mem::take(&mut self.uid));
    }
}

/// Moves the writer's record to batch `seq`; `false` when it is there already.
fn advance(db: &mut dyn Sql, writer_id: &str, uid: &str, seq: i64) -> Result<bool> {
    let advanced = db.execute(
        "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1 AND last_seq < $2",
        &params![writer_id, seq],
    )?;
    if advanced > 0 {
        return Ok(true);
    }
    let known = db.query_opt(
        "SELECT 1 FROM experiment_writers WHERE writer_id = $1",
        &params![writer_id],
        |_| Ok(()),
    )?;
    if known.is_some() {
        return Ok(false);
    }
    // The record went (the experiment was ended by another rank): written back.
    cards::add_writer(db, writer_id, uid, &Lease::current())?;
    db.execute(
        "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1",
        &params![writer_id, seq],
    )?;
    Ok(true)
}
