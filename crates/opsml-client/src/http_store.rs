//! The store of an opsml server, reached over HTTP (`OPSML_TRACKING_URI=http://host:port`):
//! the same [`Store`] as the embedded ones, so client code does not change. Logged data goes
//! through a local write-ahead file (see `spool`); artifacts are encrypted here and go as
//! ciphertext straight into the server's storage where it signs URLs, else through the server.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use opsml_types::{
    ArtifactRecord, CardRecord, ExperimentCard, ExperimentMetadata, HardwareSample, MetricColumns,
    MetricSummary, Parameter, Status, Version,
};
use parking_lot::Mutex;
use reqwest::Method;

use opsml_api::wire::{
    Applied, CreateBody, Marked, SearchBody, StatusBody, TableCellsAnswer, TableCellsBody,
    WrappedKeyBody, MAX_LIST_LIMIT, MAX_TABLE_CELLS_RUNS,
};
use opsml_api::{decode_ipc, ARROW_STREAM_MEDIA_TYPE};
use opsml_process::runtime;
use opsml_storage::ArtifactStorage;
use opsml_store::{
    spool_dir, CardQuery, ExperimentWriter, Lease, NewExperiment, RemoteWriter, Result,
    RunningExperiment, SearchQuery, Store, StoreError, TableCells, TrackingUri, WriteBatch,
};

use crate::client::{is_status, ApiClient};
use crate::outbox::Outbox;
use crate::{storage, sync, writer};

/// An opsml server as a store.
#[derive(Debug)]
pub struct HttpStore {
    pub(crate) client: Arc<ApiClient>,
    /// What waits on disk for the server: experiments started while it was down, their
    /// keys, artifacts and metadata.
    pub(crate) outbox: Outbox,
    /// Wrapped data keys already fetched: a key never changes once stored, and an artifact
    /// logged while the server is down still needs its experiment's key.
    keys: Mutex<HashMap<String, Vec<u8>>>,
}

fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// `None` for the server's 404, the value otherwise.
fn found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Err(e) if is_status(&e, 404) => Ok(None),
        other => other.map(Some),
    }
}

/// The server's 404 as "no experiment with this uid".
fn known(uid: &str) -> impl Fn(StoreError) -> StoreError + '_ {
    move |e| {
        if is_status(&e, 404) {
            StoreError::ExperimentNotFound(uid.to_owned())
        } else {
            e
        }
    }
}

/// `name` query parameters selecting `names`, none for all.
fn name_query(names: Option<&[String]>) -> Vec<(&'static str, String)> {
    names
        .unwrap_or_default()
        .iter()
        .map(|n| ("name", n.clone()))
        .collect()
}

impl HttpStore {
    /// The server at `base` (`http://host:port`), as the user of `OPSML_USERNAME` and
    /// `OPSML_PASSWORD`. Nothing is sent until the first request.
    pub fn open(base: &str) -> Result<Self> {
        Ok(Self::with_client(ApiClient::new(
            base,
            ApiClient::credentials_from_env(),
        )?))
    }

    /// The server at `base`, as `username` with `password`.
    pub fn with_credentials(base: &str, username: &str, password: &str) -> Result<Self> {
        Ok(Self::with_client(ApiClient::new(
            base,
            Some((username.to_owned(), password.to_owned())),
        )?))
    }

    fn with_client(client: ApiClient) -> Self {
        Self {
            client: Arc::new(client),
            outbox: Outbox::new(spool_dir()),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers the wrapped data key of `uid`; the key.
    fn remember_key(&self, uid: &str, wrapped: Vec<u8>) -> Vec<u8> {
        self.keys.lock().insert(uid.to_owned(), wrapped.clone());
        wrapped
    }

    fn experiment(uid: &str) -> String {
        format!("/experiments/{uid}")
    }
}

impl Store for HttpStore {
    fn location(&self) -> String {
        self.client.base().to_owned()
    }

    fn create_experiment(&self, new: &NewExperiment) -> Result<ExperimentCard> {
        let body = CreateBody::of(new);
        match self.client.call(&Method::POST, "/experiments", Some(&body)) {
            // Without a user the server would refuse it anyway: say so now, not at delivery.
            Err(e) if e.is_transient() && self.client.has_credentials() => {
                // The run starts all the same: its writer creates it once the server answers,
                // or `opsml sync` does.
                tracing::warn!(uid = %new.uid, error = %e,
                    "the server could not be reached; the experiment is kept on disk and \
                     created on the server once it answers");
                self.outbox.keep_create(body, new.username.clone())
            }
            other => other,
        }
    }

    fn get_experiment(&self, uid: &str) -> Result<Option<ExperimentCard>> {
        if let Some(card) = self.outbox.pending_card(uid)? {
            return Ok(Some(card));
        }
        found(self.client.get(&Self::experiment(uid), &[]))
    }

    fn find_experiment(
        &self,
        space: &str,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<ExperimentCard>> {
        let mut query = vec![("space", space.to_owned()), ("name", name.to_owned())];
        if let Some(version) = version {
            query.push(("version", version.to_string()));
        }
        found(self.client.get("/experiments/find", &query))
    }

    fn list_experiments(&self, query: &CardQuery) -> Result<Vec<CardRecord>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("uid", &query.uid),
            ("space", &query.space),
            ("name", &query.name),
        ] {
            if let Some(value) = value {
                params.push((key, value.clone()));
            }
        }
        if let Some(version) = &query.version {
            params.push(("version", version.to_string()));
        }
        if let Some(max_date) = query.max_date {
            params.push((
                "max_date",
                max_date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ));
        }
        if query.sort_by_timestamp {
            params.push(("newest_first", "true".to_owned()));
        }
        params.push(("limit", query.limit.min(MAX_LIST_LIMIT).to_string()));
        params.extend(query.tags.iter().map(|t| ("tag", t.clone())));
        if let Some(spaces) = &query.spaces {
            // The server shows only what the user may read; narrowing further is local.
            let records: Vec<CardRecord> = self.client.get("/experiments", &params)?;
            return Ok(records
                .into_iter()
                .filter(|r| spaces.contains(&r.space))
                .collect());
        }
        self.client.get("/experiments", &params)
    }

    fn update_experiment(&self, card: &ExperimentCard) -> Result<()> {
        self.client
            .call_empty(&Method::PUT, &Self::experiment(&card.uid), Some(card))
            .map_err(known(&card.uid))
    }

    fn claim(&self, uid: &str, lease: &Lease) -> Result<()> {
        self.client
            .call_empty(
                &Method::POST,
                &format!("{}/claim", Self::experiment(uid)),
                Some(lease),
            )
            .map_err(known(uid))
    }

    fn search_experiments(&self, query: &SearchQuery) -> Result<Vec<CardRecord>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let mut tree = query.filter.clone();
        if let Some(spaces) = &query.spaces {
            use opsml_query::{Condition, Expr, Test, TextField};
            let only = Expr::Cond(Condition::Text {
                field: TextField::Space,
                test: Test::In(spaces.clone()),
            });
            tree = Some(match tree {
                Some(filter) => filter.and(only),
                None => only,
            });
        }
        let body = SearchBody {
            tree,
            order: Some(query.order_by.clone()),
            space: query.space.clone(),
            limit: Some(query.limit.min(MAX_LIST_LIMIT)),
            ..SearchBody::default()
        };
        self.client
            .call(&Method::POST, "/experiments/search", Some(&body))
    }

    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        self.client
            .get(&format!("{}/summaries", Self::experiment(uid)), &[])
            .map_err(known(uid))
    }

    fn running_experiments(&self) -> Result<Vec<RunningExperiment>> {
        self.client.get("/experiments/running", &[])
    }

    /// One request for up to [`MAX_TABLE_CELLS_RUNS`] runs, not two a run.
    fn table_cells(&self, uids: &[String]) -> Result<TableCells> {
        let mut table = TableCells::new(uids);
        for part in uids.chunks(MAX_TABLE_CELLS_RUNS) {
            let body = TableCellsBody {
                uids: part.to_vec(),
            };
            let answer: TableCellsAnswer =
                self.client
                    .call(&Method::POST, "/experiments/table-cells", Some(&body))?;
            let rows: Vec<Option<usize>> = part.iter().map(|uid| table.row_of(uid)).collect();
            for (name, column) in answer.parameters {
                for (row, value) in rows.iter().zip(column) {
                    if let (Some(row), Some(value)) = (row, value) {
                        table.set_parameter(*row, &name, value);
                    }
                }
            }
            for (name, column) in answer.summaries {
                for (row, summary) in rows.iter().zip(column) {
                    if let (Some(row), Some(summary)) = (row, summary) {
                        table.set_summary(*row, &name, summary);
                    }
                }
            }
        }
        Ok(table)
    }

    fn mark_killed(&self, running: &RunningExperiment) -> Result<bool> {
        let marked: Marked = self.client.call(
            &Method::POST,
            &format!("{}/killed", Self::experiment(&running.uid)),
            Some(running),
        )?;
        Ok(marked.marked)
    }

    fn set_status(&self, uid: &str, status: Status, ended_at: Option<DateTime<Utc>>) -> Result<()> {
        let body = StatusBody { status, ended_at };
        let dir = spool_dir();
        if sync::has_unsent_batches(&dir, uid) || self.outbox.holds(uid) {
            // The status goes after the data it ends: `opsml sync` sends both, in that order.
            sync::keep_status(&dir, uid, &body)?;
            tracing::warn!(%uid, "batches are unsent; the status is kept for `opsml sync`");
            return Ok(());
        }
        let path = format!("{}/status", Self::experiment(uid));
        match self.client.call_empty(&Method::PUT, &path, Some(&body)) {
            Err(e) if e.is_transient() => {
                // The end of a run must not be lost to an outage: `opsml sync` sends it.
                sync::keep_status(&dir, uid, &body)?;
                tracing::warn!(%uid, error = %e,
                    "the status could not be sent; it is kept for `opsml sync`");
                Ok(())
            }
            Ok(()) => {
                // A status kept from an earlier end is older than this one.
                sync::forget_status(&dir, uid);
                Ok(())
            }
            Err(e) => Err(known(uid)(e)),
        }
    }

    fn delete_experiment(&self, uid: &str) -> Result<bool> {
        match self
            .client
            .call_empty::<()>(&Method::DELETE, &Self::experiment(uid), None)
        {
            Ok(()) => Ok(true),
            Err(e) if is_status(&e, 404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn open_writer(&self, uid: &str) -> Result<Box<dyn ExperimentWriter>> {
        if self.get_experiment(uid)?.is_none() {
            return Err(StoreError::ExperimentNotFound(uid.to_owned()));
        }
        Ok(Box::new(writer::HttpWriter::open(
            Arc::clone(&self.client),
            self.outbox.clone(),
            uid,
            &spool_dir(),
        )?))
    }

    fn append_batch(
        &self,
        uid: &str,
        writer: &RemoteWriter,
        batch: &WriteBatch<'_>,
    ) -> Result<bool> {
        let body = writer::batch_body(writer, batch);
        let applied: Applied = self
            .client
            .call(
                &Method::POST,
                &format!("{}/batches", Self::experiment(uid)),
                Some(&body),
            )
            .map_err(known(uid))?;
        Ok(applied.applied)
    }

    fn read_metrics(&self, uid: &str, names: Option<&[String]>) -> Result<MetricColumns> {
        // Columns as an Arrow IPC stream: a few buffers however many points there are.
        let url = self
            .client
            .url(&format!("{}/metrics", Self::experiment(uid)));
        let query = name_query(names);
        let bytes = runtime()
            .block_on(async {
                let response = self
                    .client
                    .send(|http| {
                        http.get(&url)
                            .query(&query)
                            .header(reqwest::header::ACCEPT, ARROW_STREAM_MEDIA_TYPE)
                    })
                    .await?;
                let response = self.client.check(response).await?;
                response
                    .bytes()
                    .await
                    .map_err(|e| self.client.unreachable(&e))
            })
            .map_err(known(uid))?;
        decode_ipc(&bytes).map_err(|e| StoreError::Corrupt(format!("metrics of {uid}: {e}")))
    }

    fn read_parameters(&self, uid: &str, names: Option<&[String]>) -> Result<Vec<Parameter>> {
        self.client
            .get(
                &format!("{}/parameters", Self::experiment(uid)),
                &name_query(names),
            )
            .map_err(known(uid))
    }

    fn read_hardware(&self, uid: &str) -> Result<Vec<HardwareSample>> {
        self.client
            .get(&format!("{}/hardware", Self::experiment(uid)), &[])
            .map_err(known(uid))
    }

    fn set_metadata(&self, uid: &str, metadata: &ExperimentMetadata) -> Result<()> {
        if self.outbox.holds(uid) {
            // After the experiment and artifacts waiting before it.
            return self.outbox.keep_metadata(uid, metadata);
        }
        let path = format!("{}/metadata", Self::experiment(uid));
        match self.client.call_empty(&Method::PUT, &path, Some(metadata)) {
            Err(e) if e.is_transient() => self.outbox.keep_metadata(uid, metadata),
            other => other.map_err(known(uid)),
        }
    }

    fn wrapped_data_key(&self, uid: &str) -> Result<Option<Vec<u8>>> {
        if let Some(wrapped) = self.keys.lock().get(uid) {
            return Ok(Some(wrapped.clone()));
        }
        if let Some(wrapped) = self.outbox.kept_key(uid)? {
            return Ok(Some(self.remember_key(uid, wrapped)));
        }
        if self.outbox.awaits_create(uid) {
            return Ok(None);
        }
        let body: Option<WrappedKeyBody> = self
            .client
            .get(&format!("{}/key", Self::experiment(uid)), &[])
            .map_err(known(uid))?;
        body.map(|b| decode_key(&b).map(|wrapped| self.remember_key(uid, wrapped)))
            .transpose()
    }

    fn holds_wrapped_keys(&self) -> Result<bool> {
        // The master key of a server's clients comes from the environment alone: there is no
        // key file to lose and make again.
        Ok(false)
    }

    fn insert_wrapped_data_key(&self, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        if self.outbox.awaits_create(uid) {
            let kept = self.outbox.keep_key(uid, wrapped)?;
            return Ok(self.remember_key(uid, kept));
        }
        let body = WrappedKeyBody {
            wrapped: base64().encode(wrapped),
        };
        let stored: WrappedKeyBody = self
            .client
            .call(
                &Method::POST,
                &format!("{}/key", Self::experiment(uid)),
                Some(&body),
            )
            .map_err(known(uid))?;
        Ok(self.remember_key(uid, decode_key(&stored)?))
    }

    fn put_artifacts(&self, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>> {
        // The server removes the objects of replaced records itself.
        if self.outbox.holds(uid) {
            // After the objects waiting before them.
            self.outbox.keep_records(uid, records)?;
            return Ok(Vec::new());
        }
        let path = format!("{}/artifacts", Self::experiment(uid));
        match self.client.call_empty(&Method::POST, &path, Some(records)) {
            Err(e) if e.is_transient() => self.outbox.keep_records(uid, records)?,
            other => other.map_err(known(uid))?,
        }
        Ok(Vec::new())
    }

    fn list_artifacts(&self, uid: &str, prefix: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        let query: Vec<(&str, String)> = prefix
            .map(|p| ("prefix", p.to_owned()))
            .into_iter()
            .collect();
        self.client
            .get(&format!("{}/artifacts", Self::experiment(uid)), &query)
            .map_err(known(uid))
    }

    fn default_key_file(&self) -> Option<PathBuf> {
        // A team shares one master key: it comes from OPSML_ENCRYPT_SECRET, never from the
        // server, which only keeps keys wrapped by it.
        None
    }

    fn local_files(&self) -> Vec<PathBuf> {
        vec![spool_dir()]
    }

    fn tracking_uri(&self) -> TrackingUri {
        TrackingUri::Http(self.client.base().to_owned())
    }

    fn own_artifact_storage(&self) -> Option<Arc<dyn ArtifactStorage>> {
        Some(Arc::new(storage::HttpStorage::new(
            Arc::clone(&self.client),
            Some(self.outbox.clone()),
        )))
    }
}

fn decode_key(body: &WrappedKeyBody) -> Result<Vec<u8>> {
    base64()
        .decode(&body.wrapped)
        .map_err(|e| StoreError::Corrupt(format!("a wrapped key from the server: {e}")))
}
