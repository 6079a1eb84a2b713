//! The experiment writer of a PostgreSQL store. Blocks are the SQLite store's (see `chunk`),
//! so both read the same way.

use postgres::{Client, NoTls};

use crate::append::RemoteWriter;
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::sql::PgSql;
use crate::store::{ExperimentWriter, WriteBatch};
use crate::tables::writer::LocalWriter;

/// Writes one experiment's points through a connection of its own, so that a flush never
/// waits for a reader of the same process.
pub(super) struct PostgresWriter {
    /// Always `Some` until dropped (taken so that it can close off the caller's thread).
    client: Option<Client>,
    /// For connecting again after the connection broke (a database restart).
    uri: String,
    location: String,
    /// Batches stored under the writer's id, recorded as its `last_seq` with each: a retried
    /// batch whose earlier attempt was committed although its answer was lost is not
    /// stored twice.
    applied: u64,
    writer: LocalWriter,
}

impl PostgresWriter {
    pub(super) fn open(client: Client, uri: String, location: String, uid: String) -> Self {
        Self {
            client: Some(client),
            uri,
            location,
            applied: 0,
            writer: LocalWriter::new(uid),
        }
    }

    /// The writer's connection, made again if it broke (a database restart), with the writer.
    fn parts(&mut self) -> Result<(PgSql<'_, Client>, &mut LocalWriter)> {
        let broken = self.client.as_ref().is_none_or(Client::is_closed);
        if broken {
            let client =
                Client::connect(&self.uri, NoTls).map_err(|source| StoreError::Postgres {
                    location: self.location.clone(),
                    source,
                })?;
            self.client = Some(client);
        }
        #[allow(clippy::expect_used, reason = "the client was set just above")]
        let client = self.client.as_mut().expect("the client was set just above");
        Ok((PgSql::new(client, &self.location), &mut self.writer))
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
        let (mut sql, writer) = self.parts()?;
        writer.heartbeat(&mut sql)
    }

    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        let seq = i64::try_from(self.applied + 1).unwrap_or(i64::MAX);
        let (mut sql, writer) = self.parts()?;
        // A broken connection is replaced on the next attempt.
        writer.write(&mut sql, batch, Some(seq))?;
        self.applied += 1;
        Ok(())
    }

    fn next_batch_writer(&self) -> Option<RemoteWriter> {
        Some(RemoteWriter {
            writer_id: self.writer.writer_id().to_owned(),
            seq: self.applied + 1,
            lease: Lease::current(),
        })
    }

    fn skip_batch(&mut self) {
        self.writer.start_over();
        self.applied = 0;
    }
}
