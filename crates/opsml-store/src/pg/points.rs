//! The experiment writer of a PostgreSQL store. Blocks are the SQLite store's (see `chunk`),
//! so both read the same way.

use postgres::{Client, NoTls};

use crate::append::RemoteWriter;
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::open_blocks::OpenBlocks;
use crate::sql::{params, Begin, PgSql, Sql};
use crate::store::{ExperimentWriter, WriteBatch};
use crate::tables::append::LocalBlocks;
use crate::tables::{cards, points};

/// Writes one experiment's points through a connection of its own, so that a flush never
/// waits for a reader of the same process.
pub(super) struct PostgresWriter {
    /// Always `Some` until dropped (taken so that it can close off the caller's thread).
    client: Option<Client>,
    /// For connecting again after the connection broke (a database restart).
    uri: String,
    location: String,
    /// This writer's row in `experiment_writers`, added with its first batch.
    writer_id: String,
    registered: bool,
    /// Batches stored under `writer_id`, recorded as its `last_seq` with each: a retried
    /// batch whose earlier attempt was committed although its answer was lost is not
    /// stored twice.
    applied: u64,
    uid: String,
    /// The open block of each metric, kept across batches: a flush rewrites it, never reads.
    blocks: OpenBlocks,
}

impl PostgresWriter {
    pub(super) fn open(client: Client, uri: String, location: String, uid: String) -> Self {
        Self {
            client: Some(client),
            uri,
            location,
            writer_id: opsml_types::new_uid(),
            registered: false,
            applied: 0,
            uid,
            blocks: OpenBlocks::default(),
        }
    }

    fn error(&self, source: postgres::Error) -> StoreError {
        StoreError::Postgres {
            location: self.location.clone(),
            source,
        }
    }

    #[allow(clippy::expect_used, reason = "the client lives until drop")]
    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the client lives until drop")
    }

    fn reconnect_if_closed(&mut self) -> Result<()> {
        if self.client().is_closed() {
            let client = Client::connect(&self.uri, NoTls).map_err(|e| self.error(e))?;
            self.client = Some(client);
        }
        Ok(())
    }

    /// Stores the batch unless an earlier attempt at it was committed (its answer lost).
    fn write_transaction(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        #[allow(clippy::expect_used, reason = "the client lives until drop")]
        let client = self.client.as_mut().expect("the client lives until drop");
        let (uid, writer_id, registered) = (&self.uid, &self.writer_id, self.registered);
        let seq = i64::try_from(self.applied + 1).unwrap_or(i64::MAX);
        let blocks = &mut self.blocks;
        let sql: &mut dyn Sql = &mut PgSql::new(client, &self.location);
        sql.transaction(Begin::Write, |db| {
            if !registered {
                cards::add_writer(db, writer_id, uid, &Lease::current())?;
            }
            let advanced = db.execute(
                "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1 AND last_seq < $2",
                &params![writer_id, seq],
            )?;
            if advanced == 0 {
                let last = db.query_opt(
                    "SELECT last_seq FROM experiment_writers WHERE writer_id = $1",
                    &params![writer_id],
                    |_| Ok(()),
                )?;
                if last.is_some() {
                    // At this batch already: an earlier attempt was committed, its answer
                    // lost. Nothing is written.
                    return Ok(());
                }
                // The record went (the experiment was ended by another rank): written back.
                cards::add_writer(db, writer_id, uid, &Lease::current())?;
                db.execute(
                    "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1",
                    &params![writer_id, seq],
                )?;
            }
            blocks.write(&mut LocalBlocks { db, uid }, batch)?;
            points::write_extras(db, uid, batch)
        })?;
        self.applied += 1;
        Ok(())
    }
}

impl Drop for PostgresWriter {
    fn drop(&mut self) {
        // Writers end inside the experiment's async task.
        super::close_off_runtime(self.client.take().into_iter().collect());
    }
}

impl ExperimentWriter for PostgresWriter {
    fn heartbeat(&mut self) -> Result<()> {
        self.reconnect_if_closed()?;
        #[allow(clippy::expect_used, reason = "the client lives until drop")]
        let client = self.client.as_mut().expect("the client lives until drop");
        cards::writer_heartbeat(
            &mut PgSql::new(client, &self.location),
            &self.writer_id,
            &self.uid,
        )?;
        // The heartbeat wrote the writer's record: the first batch need not.
        self.registered = true;
        Ok(())
    }

    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        self.reconnect_if_closed()?;
        let written = self.write_transaction(batch);
        if written.is_ok() {
            self.registered = true;
        }
        written.inspect_err(|_| {
            // The transaction rolled back: forget the tails so that the retried batch goes
            // into fresh blocks and nothing is written twice. A broken connection is
            // replaced on the next attempt.
            self.blocks.clear();
        })
    }

    fn next_batch_writer(&self) -> Option<RemoteWriter> {
        Some(RemoteWriter {
            writer_id: self.writer_id.clone(),
            seq: self.applied + 1,
            lease: Lease::current(),
        })
    }

    fn skip_batch(&mut self) {
        self.writer_id = opsml_types::new_uid();
        self.registered = false;
        self.applied = 0;
        self.blocks.clear();
    }
}
