//! Metric chunks, parameters and hardware samples in PostgreSQL: the experiment writer and
//! the readers. Blocks are the SQLite store's (see `chunk`), so both read the same way.

use opsml_types::{HardwareSample, MetricColumns, Parameter};
use postgres::{Client, NoTls, Statement, Transaction};

use crate::append::RemoteWriter;
use crate::chunk::{decode_into, sort_by_step, ChunkColumns};
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::open_blocks::{BlockSink, OpenBlocks};
use crate::store::{ExperimentWriter, TableCells, WriteBatch};
use crate::stored::parameter_value;

/// Statements of the writer, prepared once on its connection.
struct Statements {
    insert_chunk: Statement,
    update_chunk: Statement,
}

impl Statements {
    fn prepare(client: &mut Client) -> std::result::Result<Self, postgres::Error> {
        Ok(Self {
            insert_chunk: client.prepare(
                "INSERT INTO metric_chunks (experiment_uid, name, point_count, data)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )?,
            update_chunk: client
                .prepare("UPDATE metric_chunks SET point_count = $2, data = $3 WHERE id = $1")?,
        })
    }
}

/// Writes one experiment's points through a connection of its own, so that a flush never
/// waits for a reader of the same process.
pub(super) struct PostgresWriter {
    /// Always `Some` until dropped (taken so that it can close off the caller's thread).
    client: Option<Client>,
    /// For connecting again after the connection broke (a database restart).
    uri: String,
    statements: Option<Statements>,
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
            statements: None,
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
            self.statements = None;
        }
        Ok(())
    }

    fn write_transaction(
        &mut self,
        batch: &WriteBatch<'_>,
    ) -> std::result::Result<(), postgres::Error> {
        if self.statements.is_none() {
            self.statements = Some(Statements::prepare(self.client())?);
        }
        #[allow(
            clippy::expect_used,
            reason = "the statements were prepared just above"
        )]
        let statements = self.statements.as_ref().expect("prepared above");
        #[allow(clippy::expect_used, reason = "the client lives until drop")]
        let mut tx = self
            .client
            .as_mut()
            .expect("the client lives until drop")
            .transaction()?;
        if !self.registered {
            super::cards::add_writer(&mut tx, &self.writer_id, &self.uid, &Lease::current())?;
        }
        let seq = i64::try_from(self.applied + 1).unwrap_or(i64::MAX);
        let advanced = tx.execute(
            "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1 AND last_seq < $2",
            &[&self.writer_id, &seq],
        )?;
        if advanced == 0 {
            let last = tx.query_opt(
                "SELECT last_seq FROM experiment_writers WHERE writer_id = $1",
                &[&self.writer_id],
            )?;
            if last.is_some() {
                // At this batch already: an earlier attempt was committed, its answer lost.
                tx.rollback()?;
                self.applied += 1;
                return Ok(());
            }
            // The record went (the experiment was ended by another rank): written back.
            super::cards::add_writer(&mut tx, &self.writer_id, &self.uid, &Lease::current())?;
            tx.execute(
                "UPDATE experiment_writers SET last_seq = $2 WHERE writer_id = $1",
                &[&self.writer_id, &seq],
            )?;
        }
        self.blocks.write(
            &mut PreparedBlocks {
                tx: &mut tx,
                statements,
                uid: &self.uid,
            },
            batch,
        )?;
        write_extras(&mut tx, &self.uid, batch)?;
        tx.commit()?;
        self.applied += 1;
        Ok(())
    }
}

/// What a batch adds besides metric blocks: summaries, hardware samples, parameters.
pub(super) fn write_extras(
    tx: &mut Transaction<'_>,
    uid: &str,
    batch: &WriteBatch<'_>,
) -> std::result::Result<(), postgres::Error> {
    for (name_id, mut summary) in crate::batch_summary::summarise_batch(batch.points) {
        summary.name.clone_from(&batch.names[name_id as usize]);
        super::summaries::merge(tx, uid, &summary)?;
    }
    if !batch.hardware.is_empty() {
        let insert = tx.prepare(
            "INSERT INTO hardware_samples (experiment_uid, timestamp, data) VALUES ($1, $2, $3)",
        )?;
        for sample in batch.hardware {
            #[allow(clippy::expect_used, reason = "hardware samples serialise to JSON")]
            let data = serde_json::to_string(sample).expect("hardware samples serialise to JSON");
            tx.execute(&insert, &[&uid, &sample.timestamp, &data])?;
        }
    }
    if !batch.parameters.is_empty() {
        let upsert = tx.prepare(
            "INSERT INTO parameters (experiment_uid, name, kind, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (experiment_uid, name) DO UPDATE
             SET kind = excluded.kind, value = excluded.value",
        )?;
        for parameter in batch.parameters {
            tx.execute(
                &upsert,
                &[
                    &uid,
                    &parameter.name,
                    &parameter.value.kind(),
                    &parameter.value.to_stored(),
                ],
            )?;
        }
    }
    Ok(())
}

/// The blocks of a local writer, through the statements prepared on its connection.
struct PreparedBlocks<'a, 't> {
    tx: &'a mut Transaction<'t>,
    statements: &'a Statements,
    uid: &'a str,
}

impl BlockSink for PreparedBlocks<'_, '_> {
    type Error = postgres::Error;

    fn insert(&mut self, name: &str, block: &ChunkColumns) -> Result<i64, postgres::Error> {
        let count = block.len() as i64;
        let row = self.tx.query_one(
            &self.statements.insert_chunk,
            &[&self.uid, &name, &count, &block.encode()],
        )?;
        Ok(row.get(0))
    }

    fn update(&mut self, id: i64, block: &ChunkColumns) -> Result<(), postgres::Error> {
        let count = block.len() as i64;
        self.tx
            .execute(
                &self.statements.update_chunk,
                &[&id, &count, &block.encode()],
            )
            .map(drop)
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
        let (writer_id, uid) = (self.writer_id.clone(), self.uid.clone());
        super::cards::writer_heartbeat(self.client(), &writer_id, &uid)
            .map_err(|e| self.error(e))?;
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
        written.map_err(|source| {
            // The transaction rolled back: forget the tails so that the retried batch goes
            // into fresh blocks and nothing is written twice. A broken connection is
            // replaced on the next attempt.
            self.blocks.clear();
            self.error(source)
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

/// Names as a text array for `name = ANY($n)`; `None` selects every name.
fn names_array(names: Option<&[String]>) -> Option<Vec<String>> {
    names.map(<[String]>::to_vec)
}

pub(super) fn read_metrics(
    client: &mut Client,
    uid: &str,
    names: Option<&[String]>,
) -> std::result::Result<std::result::Result<MetricColumns, String>, postgres::Error> {
    let names = names_array(names);
    // Reserving every column once avoids regrowing (and copying) them chunk after chunk.
    let total: i64 = client
        .query_one(
            "SELECT COALESCE(SUM(point_count), 0)::BIGINT FROM metric_chunks
             WHERE experiment_uid = $1 AND ($2::TEXT[] IS NULL OR name = ANY($2))",
            &[&uid, &names],
        )?
        .get(0);
    let mut columns = MetricColumns::with_capacity(usize::try_from(total).unwrap_or(0));
    let rows = client.query(
        "SELECT name, data FROM metric_chunks
         WHERE experiment_uid = $1 AND ($2::TEXT[] IS NULL OR name = ANY($2))
         ORDER BY name, id",
        &[&uid, &names],
    )?;
    let mut segment_starts = Vec::new();
    for row in &rows {
        let name: &str = row.get(0);
        if columns.names.last().map(String::as_str) != Some(name) {
            columns.names.push(name.to_owned());
            segment_starts.push(columns.len());
        }
        let name_id = (columns.names.len() - 1) as u32;
        if let Err(e) = decode_into(row.get(1), name_id, &mut columns) {
            return Ok(Err(format!("experiment {uid}, metric {name:?}: {e}")));
        }
    }
    segment_starts.push(columns.len());
    for window in segment_starts.windows(2) {
        sort_by_step(&mut columns, window[0]..window[1]);
    }
    Ok(Ok(columns))
}

pub(super) fn read_hardware(
    client: &mut Client,
    uid: &str,
) -> std::result::Result<std::result::Result<Vec<HardwareSample>, String>, postgres::Error> {
    let rows = client.query(
        "SELECT data FROM hardware_samples WHERE experiment_uid = $1 ORDER BY timestamp, id",
        &[&uid],
    )?;
    let mut samples = Vec::with_capacity(rows.len());
    for row in &rows {
        match serde_json::from_str(row.get(0)) {
            Ok(sample) => samples.push(sample),
            Err(e) => return Ok(Err(format!("experiment {uid}, hardware sample: {e}"))),
        }
    }
    Ok(Ok(samples))
}

pub(super) fn read_parameters(
    client: &mut Client,
    uid: &str,
    names: Option<&[String]>,
) -> std::result::Result<std::result::Result<Vec<Parameter>, String>, postgres::Error> {
    let rows = client.query(
        "SELECT name, kind, value, experiment_uid FROM parameters
         WHERE experiment_uid = $1 AND ($2::TEXT[] IS NULL OR name = ANY($2))
         ORDER BY id",
        &[&uid, &names_array(names)],
    )?;
    Ok(parameters_of_rows(&rows).map(|found| found.into_iter().map(|(_, p)| p).collect()))
}

/// Adds the parameters of the experiments `uids` to their rows of `table`.
pub(super) fn read_parameters_many(
    client: &mut Client,
    uids: &[String],
    table: &mut TableCells,
) -> std::result::Result<std::result::Result<(), String>, postgres::Error> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let rows = client.query(
        "SELECT name, kind, value, experiment_uid FROM parameters
         WHERE experiment_uid = ANY($1)",
        &[&uids],
    )?;
    for row in &rows {
        let uid: &str = row.get(3);
        let Some(run) = table.row_of(uid) else {
            continue;
        };
        let (name, kind, text): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
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
    rows: &[postgres::Row],
) -> std::result::Result<Vec<(String, Parameter)>, String> {
    let mut parameters = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.get(0);
        let kind: &str = row.get(1);
        let text: &str = row.get(2);
        let uid: String = row.get(3);
        let value = parameter_value(&uid, &name, kind, text)?;
        parameters.push((uid, Parameter { name, value }));
    }
    Ok(parameters)
}
