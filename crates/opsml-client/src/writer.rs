//! The writer of an experiment on an opsml server. Each batch goes to the write-ahead file
//! first, then to the server; a batch the server could not take stays in the file and is
//! sent again, in order, after a back-off, while logging goes on. Nothing waits for the
//! server but the end of the experiment, and that only for a while: what is still unsent
//! then stays in the file for `opsml sync`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsml_types::new_uid;

use bytes::Bytes;

use crate::client::ApiClient;
use crate::outbox::Outbox;
use crate::spool::{Record, Spool};
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use opsml_api::wire::{BatchBody, PointColumns, WireFloat};
use opsml_process::runtime;
use opsml_store::{ExperimentWriter, Lease, RemoteWriter, Result, StoreError, WriteBatch};

/// First wait after a failed send; it doubles with each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The waits between sends through an outage: [`FIRST_BACKOFF`], doubling, then
/// [`MAX_BACKOFF`] for as long as it lasts.
fn backoff() -> ExponentialBackoff {
    ExponentialBuilder::new()
        .with_min_delay(FIRST_BACKOFF)
        .with_max_delay(MAX_BACKOFF)
        .without_max_times()
        .build()
}

/// Points per request at most: a batch with more is sent as several, each well under the
/// server's body limit (16 MiB; a point is about 70 bytes of JSON).
pub(crate) const MAX_POINTS_PER_REQUEST: usize = 50_000;

/// Bytes of unsent batches kept in memory besides the file: through a long outage the rest
/// is in the file alone, read back when its turn comes.
const UNSENT_IN_MEMORY_BYTES: usize = 16 << 20;

/// How long the end of an experiment keeps trying to send what is unsent, unless
/// `OPSML_SHIP_TIMEOUT` (seconds) says otherwise.
const SHIP_TIMEOUT: Duration = Duration::from_secs(30);
pub const SHIP_TIMEOUT_ENV: &str = "OPSML_SHIP_TIMEOUT";

fn ship_timeout() -> Duration {
    std::env::var(SHIP_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(SHIP_TIMEOUT, Duration::from_secs_f64)
}

/// The body that sends `batch` as `writer`'s, with only the names its points use.
pub(crate) fn batch_body(writer: &RemoteWriter, batch: &WriteBatch<'_>) -> BatchBody {
    let mut ids = BTreeMap::new();
    let mut names = Vec::new();
    let mut points = PointColumns::default();
    for record in batch.points {
        let id = *ids.entry(record.name_id).or_insert_with(|| {
            names.push(batch.names[record.name_id as usize].clone());
            (names.len() - 1) as u32
        });
        points.name_ids.push(id);
        points.steps.push(record.point.step);
        points.values.push(WireFloat(record.point.value));
        points.timestamps.push(record.point.timestamp);
        points.created_at.push(record.point.created_at);
    }
    BatchBody {
        writer_id: writer.writer_id.clone(),
        seq: writer.seq,
        lease: writer.lease.clone(),
        names,
        points,
        parameters: batch.parameters.to_vec(),
        hardware: batch.hardware.to_vec(),
    }
}

/// A batch not yet acknowledged: where it is in the file, and its bytes while memory allows.
#[derive(Debug)]
struct Unsent {
    record: Record,
    body: Option<Bytes>,
    /// Bytes of memory `body` holds.
    held: usize,
}

#[derive(Debug)]
pub(crate) struct HttpWriter {
    client: Arc<ApiClient>,
    /// What the batches need on the server first: an experiment started while it was down.
    outbox: Outbox,
    uid: String,
    writer_id: String,
    lease: Lease,
    next_seq: u64,
    spool: Option<Spool>,
    /// Batches not yet acknowledged, oldest first.
    pending: VecDeque<Unsent>,
    /// Bytes of memory the bodies in `pending` hold.
    pending_bytes: usize,
    /// No send before this instant after a failure.
    retry_at: Option<Instant>,
    backoff: ExponentialBackoff,
    /// Why sending stopped for good (the server refused a batch, or the file could not be
    /// read back): nothing more is sent, all stays in the file.
    refused: Option<String>,
}

impl HttpWriter {
    pub(crate) fn open(
        client: Arc<ApiClient>,
        outbox: Outbox,
        uid: &str,
        spool_dir: &std::path::Path,
    ) -> Result<Self> {
        let writer_id = new_uid();
        let spool = Spool::create(spool_dir, uid, &writer_id)?;
        Ok(Self {
            client,
            outbox,
            uid: uid.to_owned(),
            writer_id,
            lease: Lease::current(),
            next_seq: 1,
            spool: Some(spool),
            pending: VecDeque::new(),
            pending_bytes: 0,
            retry_at: None,
            backoff: backoff(),
            refused: None,
        })
    }

    #[allow(clippy::expect_used, reason = "the spool lives until drop")]
    fn spool(&mut self) -> &mut Spool {
        self.spool.as_mut().expect("the spool lives until drop")
    }

    /// Encodes `batch` as this writer's batch `seq`.
    fn encode(&self, seq: u64, batch: &WriteBatch<'_>) -> Result<Vec<u8>> {
        let writer = RemoteWriter {
            writer_id: self.writer_id.clone(),
            seq,
            lease: self.lease.clone(),
        };
        serde_json::to_vec(&batch_body(&writer, batch))
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Appends `parts` as the next batches to the file (all of them or none) and to the queue
    /// of unsent ones.
    fn enqueue(&mut self, parts: &[WriteBatch<'_>]) -> Result<()> {
        let encoded = parts
            .iter()
            .zip(self.next_seq..)
            .map(|(part, seq)| self.encode(seq, part))
            .collect::<Result<Vec<_>>>()?;
        let records = self.spool().append(&encoded)?;
        self.next_seq += encoded.len() as u64;
        for (body, record) in encoded.into_iter().zip(records) {
            // The allocation is what memory holds (it may be larger than the body).
            let held = body.capacity();
            let kept = self.pending_bytes + held <= UNSENT_IN_MEMORY_BYTES;
            self.pending_bytes += if kept { held } else { 0 };
            self.pending.push_back(Unsent {
                record,
                held: if kept { held } else { 0 },
                body: kept.then(|| Bytes::from(body)),
            });
        }
        Ok(())
    }

    /// The body of the oldest unsent batch, from memory or read back from the file.
    fn next_body(&mut self) -> Option<Result<Bytes>> {
        let next = self.pending.front()?;
        let record = next.record;
        Some(match &next.body {
            Some(body) => Ok(body.clone()),
            None => self.spool().read(record).map(Bytes::from),
        })
    }

    /// Drops the oldest unsent batch: the server has it.
    fn sent(&mut self) {
        if let Some(unsent) = self.pending.pop_front() {
            self.pending_bytes -= unsent.held;
        }
    }

    /// Sends unsent batches in order until one fails or none is left; `true` when none is.
    fn ship(&mut self) -> bool {
        if self.refused.is_some() {
            return false;
        }
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return self.pending.is_empty();
        }
        if self.outbox.holds(&self.uid) {
            // The experiment (made while the server was down) and what waits with it go
            // first: the batches need it there.
            match self.outbox.deliver(&self.client, &self.uid) {
                Ok(true) => {}
                Ok(false) => return self.retry_later(None),
                Err(e) => return self.not_taken(&e, "what the run kept on disk"),
            }
        }
        while let Some(body) = self.next_body() {
            let body = match body {
                Ok(body) => body,
                Err(e) => {
                    tracing::error!(uid = %self.uid, error = %e,
                        "reading an unsent batch back from the spool failed");
                    self.refused = Some(format!("reading an unsent batch back failed: {e}"));
                    return false;
                }
            };
            let sent = runtime().block_on(self.client.post_batch(&self.uid, body));
            match sent {
                Ok(()) => {
                    self.sent();
                    self.retry_at = None;
                    self.backoff = backoff();
                }
                Err(e) => return self.not_taken(&e, "a batch"),
            }
        }
        if let Err(e) = self.spool().clear() {
            tracing::warn!(error = %e, "emptying the spool file failed");
        }
        true
    }

    /// Notes that the server did not take `what`: sent again after a back-off where the
    /// failure may pass, never again where it was refused. Always `false`.
    fn not_taken(&mut self, error: &StoreError, what: &str) -> bool {
        if !error.is_transient() {
            tracing::error!(uid = %self.uid, %error,
                "the server refused {what}; it and later batches stay on disk");
            self.refused = Some(format!("the server refused {what}: {error}"));
            let _ = self.spool().sync();
            return false;
        }
        self.retry_later(Some((error, what)))
    }

    /// Sends again after a back-off (said once per outage with the failure, if any).
    fn retry_later(&mut self, failure: Option<(&StoreError, &str)>) -> bool {
        if let (None, Some((error, what))) = (self.retry_at, failure) {
            tracing::warn!(uid = %self.uid, %error,
                "the server did not take {what}; it is kept on disk and sent again");
        }
        let wait = self.backoff.next().unwrap_or(MAX_BACKOFF);
        self.retry_at = Some(Instant::now() + wait);
        // Unsent batches must outlive a crash of the machine too.
        if let Err(e) = self.spool().sync() {
            tracing::error!(error = %e, "making the spool file durable failed");
        }
        false
    }

    fn unshipped(&mut self) -> StoreError {
        let spool = self.spool().path().to_owned();
        if let Some(why) = &self.refused {
            return StoreError::BatchRefused(format!(
                "logging of experiment {} stopped ({why}); that batch and {} later one(s) \
                 are kept in {}",
                self.uid,
                self.pending.len().saturating_sub(1),
                spool.display()
            ));
        }
        StoreError::Unshipped {
            uid: self.uid.clone(),
            url: self.client.base().to_owned(),
            batches: self.pending.len(),
            spool,
        }
    }
}

impl ExperimentWriter for HttpWriter {
    fn write(&mut self, batch: &WriteBatch<'_>) -> Result<()> {
        // A large batch goes as several requests; parameters and hardware with the first.
        let mut chunks = batch.points.chunks(MAX_POINTS_PER_REQUEST);
        let mut parts = vec![WriteBatch {
            points: chunks.next().unwrap_or_default(),
            ..*batch
        }];
        parts.extend(chunks.map(|points| WriteBatch {
            names: batch.names,
            points,
            parameters: &[],
            hardware: &[],
        }));
        self.enqueue(&parts)?;
        // Once in the file the batch is safe: a failed send is retried later, not reported.
        self.ship();
        Ok(())
    }

    fn heartbeat(&mut self) -> Result<()> {
        if self.pending.is_empty() && self.refused.is_none() {
            // An empty batch tells the server this writer is alive.
            self.enqueue(&[WriteBatch {
                names: &[],
                points: &[],
                parameters: &[],
                hardware: &[],
            }])?;
        }
        self.ship();
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let deadline = Instant::now() + ship_timeout();
        // The end is the moment to try: a back-off grown through an outage would outlast it.
        self.retry_at = None;
        self.backoff = backoff();
        loop {
            if self.ship() {
                return Ok(());
            }
            if self.refused.is_some() || Instant::now() >= deadline {
                // What is left must survive the machine too, for `opsml sync`.
                self.spool().sync()?;
                return Err(self.unshipped());
            }
            let wake = self.retry_at.unwrap_or_else(Instant::now).min(deadline);
            std::thread::sleep(wake.saturating_duration_since(Instant::now()));
        }
    }
}

impl Drop for HttpWriter {
    fn drop(&mut self) {
        if let Some(mut spool) = self.spool.take() {
            if self.pending.is_empty() {
                spool.remove();
            } else if let Err(e) = spool.sync() {
                tracing::error!(error = %e, "making the spool file durable failed");
            }
        }
    }
}
