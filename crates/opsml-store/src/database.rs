//! The [`Store`] of a SQL database, written once: a [`Database`] only lends connections and
//! says what is its own (where it is, its files, its writers); every record goes through the
//! statements in `tables`.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use opsml_types::{
    ArtifactRecord, CardRecord, ExperimentCard, ExperimentMetadata, HardwareSample, MetricColumns,
    MetricSummary, Parameter, Status, Version,
};

use crate::append::RemoteWriter;
use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::sql::Sql;
use crate::statements;
use crate::store::{
    CardQuery, ExperimentWriter, NewExperiment, RunningExperiment, SearchQuery, Store, TableCells,
    WriteBatch,
};
use crate::tables::{append, artifacts, cards, points, summaries};
use crate::uri::TrackingUri;

/// A SQL database that keeps experiment records.
pub(crate) trait Database: Send + Sync + fmt::Debug {
    /// Where the database is, for messages (no password).
    fn location(&self) -> String;

    /// Runs `f` on one of the database's connections.
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T>;

    /// A writer of experiment `uid`'s points on a connection of its own (it exists).
    fn open_writer_of(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>>;

    /// See [`Store::recovery_dir`].
    fn recovery_dir(&self) -> PathBuf;

    /// See [`Store::default_key_file`].
    fn default_key_file(&self) -> Option<PathBuf>;

    /// See [`Store::local_files`].
    fn local_files(&self) -> Vec<PathBuf>;

    /// See [`Store::tracking_uri`].
    fn tracking_uri(&self) -> TrackingUri;
}

/// Fails with "not found" when an update touched no row.
fn changed(count: u64, uid: &str) -> Result<()> {
    if count == 0 {
        Err(StoreError::ExperimentNotFound(uid.to_owned()))
    } else {
        Ok(())
    }
}

/// `f` on a connection, once experiment `uid` is known to exist.
fn with_experiment<D: Database, T>(
    db: &D,
    uid: &str,
    f: impl FnOnce(&mut dyn Sql) -> Result<T>,
) -> Result<T> {
    db.with_sql(|sql| {
        if !cards::exists(sql, uid)? {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        f(sql)
    })
}

#[allow(
    private_bounds,
    reason = "the databases are this crate's; others implement Store itself"
)]
impl<D: Database> Store for D {
    fn location(&self) -> String {
        Database::location(self)
    }

    fn recovery_dir(&self) -> Option<PathBuf> {
        Some(Database::recovery_dir(self))
    }

    fn create_experiment(&self, new: &NewExperiment) -> Result<ExperimentCard> {
        self.with_sql(|sql| cards::create(sql, new))
    }

    fn get_experiment(&self, uid: &str) -> Result<Option<ExperimentCard>> {
        self.with_sql(|sql| cards::get(sql, uid))
    }

    fn find_experiment(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<ExperimentCard>> {
        self.with_sql(|sql| cards::find(sql, space, name, version))
    }

    fn list_experiments(&self, query: &CardQuery) -> Result<Vec<CardRecord>> {
        self.with_sql(|sql| {
            let statement = statements::list_cards(query, sql.dialect());
            cards::records(sql, &statement)
        })
    }

    fn update_experiment(&self, card: &ExperimentCard) -> Result<()> {
        changed(self.with_sql(|sql| cards::update(sql, card))?, &card.uid)
    }

    fn claim(&self, uid: &str, lease: &Lease) -> Result<()> {
        changed(self.with_sql(|sql| cards::claim(sql, uid, lease))?, uid)
    }

    fn search_experiments(&self, query: &SearchQuery) -> Result<Vec<CardRecord>> {
        self.with_sql(|sql| {
            let statement = statements::search_cards(query, sql.dialect());
            cards::records(sql, &statement)
        })
    }

    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        with_experiment(self, uid, |sql| summaries::read(sql, uid))
    }

    fn table_cells(&self, uids: &[String]) -> Result<TableCells> {
        let mut table = TableCells::new(uids);
        let json = serde_json::Value::from(uids.to_vec()).to_string();
        self.with_sql(|sql| {
            let experiments = sql.query_one("SELECT COUNT(*) FROM experiments", &[], |row| {
                row.count_at(0)
            })?;
            // Reading a table through is about three times faster a row than looking each
            // run up: done when the table asks for a good part of the store's runs anyway.
            let whole = (uids.len() as u64).saturating_mul(4) >= experiments;
            let wanted = (!whole).then_some(json.as_str());
            points::read_parameters_many(sql, wanted, &mut table)?;
            summaries::read_many(sql, wanted, &mut table)
        })?;
        Ok(table)
    }

    fn running_experiments(&self) -> Result<Vec<RunningExperiment>> {
        self.with_sql(cards::running)
    }

    fn mark_killed(&self, running: &RunningExperiment) -> Result<bool> {
        self.with_sql(|sql| cards::mark_killed(sql, running))
    }

    fn set_status(&self, uid: &str, status: Status, ended_at: Option<DateTime<Utc>>) -> Result<()> {
        changed(
            self.with_sql(|sql| cards::set_status(sql, uid, status, ended_at))?,
            uid,
        )
    }

    fn delete_experiment(&self, uid: &str) -> Result<bool> {
        self.with_sql(|sql| cards::delete(sql, uid))
    }

    fn open_writer(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        self.open_writer_of(uid)
    }

    fn append_batch(
        &self,
        uid: &str,
        writer: &RemoteWriter,
        batch: &WriteBatch<'_>,
    ) -> Result<bool> {
        with_experiment(self, uid, |sql| append::append(sql, uid, writer, batch))
    }

    fn read_metrics(&self, uid: &str, names: Option<&[String]>) -> Result<MetricColumns> {
        with_experiment(self, uid, |sql| points::read_metrics(sql, uid, names))
    }

    fn read_parameters(&self, uid: &str, names: Option<&[String]>) -> Result<Vec<Parameter>> {
        with_experiment(self, uid, |sql| points::read_parameters(sql, uid, names))
    }

    fn read_hardware(&self, uid: &str) -> Result<Vec<HardwareSample>> {
        with_experiment(self, uid, |sql| points::read_hardware(sql, uid))
    }

    fn set_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()> {
        changed(
            self.with_sql(|sql| cards::set_metadata(sql, uid, metadata))?,
            uid,
        )
    }

    fn wrapped_data_key(&self, uid: &str) -> Result<Option<Vec<u8>>> {
        self.with_sql(|sql| artifacts::wrapped_key(sql, uid))
    }

    fn holds_wrapped_keys(&self) -> Result<bool> {
        self.with_sql(artifacts::holds_wrapped_keys)
    }

    fn insert_wrapped_data_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        self.with_sql(|sql| artifacts::insert_wrapped_key(sql, uid, wrapped))
    }

    fn put_artifacts(&self, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>> {
        self.with_sql(|sql| artifacts::put(sql, uid, records))
    }

    fn list_artifacts(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        with_experiment(self, uid, |sql| artifacts::list(sql, uid, prefix))
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        Database::default_key_file(self)
    }

    fn local_files(&self) -> Vec<PathBuf> {
        Database::local_files(self)
    }

    fn tracking_uri(&self) -> TrackingUri {
        Database::tracking_uri(self)
    }
}
