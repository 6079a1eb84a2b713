//! The logging path: callers push points into a bounded in-memory queue; one
//! background task per experiment swaps the queue out in bulk and writes it
//! to the store in one transaction per batch.
//!
//! A batch the store fails to take is written again at the next interval while the failure
//! may pass (a busy or unreachable store). One the store refuses for good, and one still
//! failing when the experiment ends, goes to the store's recovery file instead (see
//! [`opsml_registry::RecoveryFile`]): nothing logged is dropped, and `opsml sync` stores it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opsml_api::wire::StatusBody;
use opsml_registry::{
    fork_generation, ExperimentWriter, KeptCounts, PointRecord, RecoveryFile, Store, StoreError,
    HEARTBEAT_INTERVAL, STALE_AFTER,
};
use opsml_types::{validate_parameter, HardwareSample, MetricPoint, Parameter, TypesError};
use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

use crate::batch::{store_batch, Batch, Outcome};
use crate::names::NameTable;
use crate::runtime::runtime;
use crate::{ExperimentError, Result};

/// Environment variable with the time between heartbeats in seconds.
pub(crate) const HEARTBEAT_INTERVAL_ENV: &str = "OPSML_HEARTBEAT_INTERVAL";

/// Points the queue holds before callers wait (about 14 MB).
pub const DEFAULT_QUEUE_CAPACITY: usize = 1 << 18;
/// Longest time a logged point waits in memory before it is written.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

struct Queue {
    names: NameTable,
    points: Vec<PointRecord>,
    parameters: Vec<Parameter>,
    hardware: Vec<HardwareSample>,
    /// Points and parameters ever accepted.
    logged: u64,
    /// Points and parameters known to be stored.
    durable: u64,
    /// The last write error, cleared by the next successful write.
    failure: Option<String>,
    /// Batches kept in the recovery file, and why the first of them was not stored.
    kept: Option<Kept>,
    /// The status the experiment ends with, given to [`Pipeline::close`]: kept beside batches
    /// in the recovery file, for `opsml sync` to set once they are stored.
    final_status: Option<StatusBody>,
    closing: bool,
    finished: bool,
}

/// What went to the recovery file instead of the store.
#[derive(Debug, Clone)]
struct Kept {
    counts: KeptCounts,
    path: PathBuf,
    reason: String,
}

struct Shared {
    uid: String,
    /// Whether refused batches have a recovery file to go to.
    recoverable: bool,
    /// Fork generation of the process that owns the writer.
    generation: u64,
    capacity: usize,
    queue: Mutex<Queue>,
    /// Signalled when the writer takes the queue: waiting callers have room.
    room: Condvar,
    /// Signalled after each write attempt and when the writer finishes.
    progress: Condvar,
    /// Wakes the writer before its interval is up.
    wake: Notify,
}

impl Shared {
    fn ended(&self) -> ExperimentError {
        ExperimentError::Ended {
            uid: self.uid.clone(),
        }
    }

    fn write_failed(&self, message: &str) -> ExperimentError {
        ExperimentError::Write {
            uid: self.uid.clone(),
            message: message.to_owned(),
        }
    }

    fn kept(&self, kept: &Kept) -> ExperimentError {
        ExperimentError::Kept {
            uid: self.uid.clone(),
            counts: kept.counts,
            path: kept.path.clone(),
            reason: kept.reason.clone(),
        }
    }
}

/// Gives metric names their ids while the queue is held, for batches.
pub struct NameInterner<'a> {
    names: &'a mut NameTable,
}

impl NameInterner<'_> {
    /// The id of `name`, validating it on first sight.
    pub fn id(&mut self, name: &str) -> Result<u32, TypesError> {
        self.names.intern(name)
    }
}

/// How often the writer stores what was logged and says the experiment is alive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) flush: Duration,
    pub(crate) heartbeat: Duration,
}

/// `OPSML_HEARTBEAT_INTERVAL` (seconds, at least 0.01 and at most a quarter of the time after
/// which other machines take a silent experiment for dead) or the store's default.
fn heartbeat_interval_from_env() -> Duration {
    // Other machines take an experiment for dead after STALE_AFTER without a heartbeat.
    crate::experiment::interval_from_env(
        HEARTBEAT_INTERVAL_ENV,
        HEARTBEAT_INTERVAL,
        Duration::from_millis(10),
    )
    .min(STALE_AFTER / 4)
}

/// The queue and background writer of one experiment.
pub(crate) struct Pipeline {
    shared: Arc<Shared>,
}

impl Pipeline {
    /// Opens a writer of experiment `uid` in `store` and starts the background writer; what
    /// the store refuses goes to its recovery file.
    pub(crate) fn open(
        store: &dyn Store,
        uid: &str,
        flush_interval: Duration,
        capacity: usize,
    ) -> Result<Self> {
        let writer = store.open_writer(uid)?;
        let recovery = store.recovery_dir().map(|dir| RecoveryFile::new(dir, uid));
        let timing = Timing {
            flush: flush_interval,
            heartbeat: heartbeat_interval_from_env(),
        };
        Ok(Self::start(uid, writer, recovery, timing, capacity))
    }

    /// Starts the background writer of experiment `uid`; batches the store refuses go to
    /// `recovery` where there is one.
    fn start(
        uid: &str,
        writer: Box<dyn ExperimentWriter>,
        recovery: Option<RecoveryFile>,
        timing: Timing,
        capacity: usize,
    ) -> Self {
        let capacity = capacity.max(2);
        let shared = Arc::new(Shared {
            uid: uid.to_owned(),
            recoverable: recovery.is_some(),
            generation: fork_generation(),
            capacity,
            queue: Mutex::new(Queue {
                names: NameTable::default(),
                points: Vec::with_capacity(capacity),
                parameters: Vec::new(),
                hardware: Vec::new(),
                logged: 0,
                durable: 0,
                failure: None,
                kept: None,
                final_status: None,
                closing: false,
                finished: false,
            }),
            room: Condvar::new(),
            progress: Condvar::new(),
            wake: Notify::new(),
        });
        runtime().spawn(run_writer(Arc::clone(&shared), writer, recovery, timing));
        Self { shared }
    }

    /// Queues one point without waiting; `Ok(false)` when the queue is full.
    pub(crate) fn try_push(&self, name: &str, point: MetricPoint) -> Result<bool> {
        let shared = &*self.shared;
        let mut queue = shared.queue.lock();
        if queue.closing {
            return Err(shared.ended());
        }
        if queue.points.len() >= shared.capacity {
            return Ok(false);
        }
        let name_id = queue.names.intern(name)?;
        queue.points.push(PointRecord { name_id, point });
        queue.logged += 1;
        if queue.points.len() == shared.capacity / 2 {
            shared.wake.notify_one();
        }
        Ok(true)
    }

    /// Queues one point, waiting for room when the queue is full.
    pub(crate) fn push(&self, name: &str, point: MetricPoint) -> Result<()> {
        if self.try_push(name, point)? {
            return Ok(());
        }
        let name_id = self.intern(|names| names.id(name))?;
        self.push_records(&[PointRecord { name_id, point }])
    }

    /// Whether this process owns the writer: a forked child must not touch
    /// the parent's queue (its lock may have been held by a thread that does
    /// not exist in the child). Callers route to a pipeline of this process
    /// with this check (see `Experiment::with_pipeline`), once per call.
    pub(crate) fn owned_here(&self) -> bool {
        self.shared.generation == fork_generation()
    }

    /// Runs `f` with the name table held, to give a batch of points their ids.
    pub(crate) fn intern<R>(&self, f: impl FnOnce(&mut NameInterner<'_>) -> R) -> R {
        let mut queue = self.shared.queue.lock();
        f(&mut NameInterner {
            names: &mut queue.names,
        })
    }

    /// Queues points whose names were interned, waiting for room as needed.
    pub(crate) fn push_records(&self, mut records: &[PointRecord]) -> Result<()> {
        let shared = &*self.shared;
        let mut queue = shared.queue.lock();
        while !records.is_empty() {
            if queue.closing {
                return Err(shared.ended());
            }
            let room = shared.capacity.saturating_sub(queue.points.len());
            if room == 0 {
                if let Some(failure) = &queue.failure {
                    return Err(shared.write_failed(failure));
                }
                shared.wake.notify_one();
                shared.room.wait(&mut queue);
                continue;
            }
            let (now, later) = records.split_at(room.min(records.len()));
            queue.points.extend_from_slice(now);
            queue.logged += now.len() as u64;
            records = later;
        }
        if queue.points.len() >= shared.capacity / 2 {
            shared.wake.notify_one();
        }
        Ok(())
    }

    /// Queues parameters after validating all of them (none is queued if one is invalid).
    pub(crate) fn push_parameters(&self, parameters: Vec<Parameter>) -> Result<()> {
        for parameter in &parameters {
            validate_parameter(parameter)?;
        }
        let mut queue = self.shared.queue.lock();
        if queue.closing {
            return Err(self.shared.ended());
        }
        queue.logged += parameters.len() as u64;
        queue.parameters.extend(parameters);
        Ok(())
    }

    /// Queues a hardware sample (few and small: never waits).
    pub(crate) fn push_hardware(&self, sample: HardwareSample) -> Result<()> {
        let mut queue = self.shared.queue.lock();
        if queue.closing {
            return Err(self.shared.ended());
        }
        queue.logged += 1;
        queue.hardware.push(sample);
        Ok(())
    }

    /// Waits until everything queued so far is stored.
    pub(crate) fn flush(&self) -> Result<()> {
        let shared = &*self.shared;
        let mut queue = shared.queue.lock();
        let target = queue.logged;
        while queue.durable < target {
            if let Some(failure) = &queue.failure {
                return Err(shared.write_failed(failure));
            }
            if queue.finished {
                break;
            }
            shared.wake.notify_one();
            shared.progress.wait(&mut queue);
        }
        Ok(())
    }

    /// Stores everything queued, then stops the writer. Further pushes fail. What the store
    /// would not take is kept in the recovery file with `final_status` (the status the
    /// experiment ends with, if this process ends it), and the error says what and where.
    pub(crate) fn close(&self, final_status: Option<StatusBody>) -> Result<()> {
        let shared = &*self.shared;
        let mut queue = shared.queue.lock();
        queue.closing = true;
        queue.final_status = final_status;
        shared.room.notify_all();
        while !queue.finished {
            if let Some(failure) = &queue.failure {
                // Without a recovery file the batch stays in memory, retried in the
                // background; with one, the writer's next attempt keeps it there.
                if !shared.recoverable {
                    return Err(shared.write_failed(failure));
                }
            }
            shared.wake.notify_one();
            shared.progress.wait(&mut queue);
        }
        if let Some(failure) = &queue.failure {
            return Err(shared.write_failed(failure));
        }
        if let Some(kept) = &queue.kept {
            return Err(shared.kept(kept));
        }
        Ok(())
    }
}

/// Records a heartbeat off the async workers; the panic if the writer panicked.
async fn heartbeat(
    mut writer: Box<dyn ExperimentWriter>,
) -> Result<Box<dyn ExperimentWriter>, tokio::task::JoinError> {
    let (writer, result) = tokio::task::spawn_blocking(move || {
        let result = writer.heartbeat();
        (writer, result)
    })
    .await?;
    if let Err(e) = result {
        tracing::warn!(error = %e, "recording the heartbeat failed");
    }
    Ok(writer)
}

/// Lets the writer deliver what it holds, then marks the pipeline finished. Batches still on
/// their way (kept for `opsml sync`) are a warning; batches refused are the run's failure.
async fn finish(shared: &Shared, mut writer: Box<dyn ExperimentWriter>) {
    let finished = tokio::task::spawn_blocking(move || writer.finish()).await;
    let mut queue = shared.queue.lock();
    match finished {
        Ok(Ok(())) => {}
        Ok(Err(e @ StoreError::Unshipped { .. })) => {
            tracing::warn!(error = %e, "the last batches were not delivered yet");
        }
        Ok(Err(e)) => queue.failure = Some(e.to_string()),
        Err(panic) => queue.failure = Some(format!("the writer panicked: {panic}")),
    }
    queue.finished = true;
    shared.progress.notify_all();
}

/// Notes that a batch went to the recovery file (said once per run, with the first reason).
fn record_kept(shared: &Shared, queue: &mut Queue, file: &RecoveryFile, reason: String) {
    queue.failure = None;
    let path = file.path().map(PathBuf::from).unwrap_or_default();
    if queue.kept.is_none() {
        tracing::error!(uid = %shared.uid, error = %reason, path = %path.display(),
            "the store refused logged data; it is kept in a recovery file that `opsml sync` \
             stores");
    }
    let reason = queue.kept.take().map_or(reason, |kept| kept.reason);
    queue.kept = Some(Kept {
        counts: file.kept(),
        path,
        reason,
    });
}

/// Ends the pipeline after a batch could neither be stored nor kept: every waiter is told.
fn finish_lost(shared: &Shared) {
    let mut queue = shared.queue.lock();
    queue.finished = true;
    shared.progress.notify_all();
    shared.room.notify_all();
}

/// Ends the pipeline after the writer panicked: every waiter is told.
fn writer_panicked(shared: &Shared, panic: &tokio::task::JoinError) {
    let mut queue = shared.queue.lock();
    queue.failure = Some(format!("the writer panicked: {panic}"));
    queue.finished = true;
    shared.progress.notify_all();
    shared.room.notify_all();
}

/// Keeps the status the experiment ends with beside its kept batches, before the file is
/// released to `opsml sync`.
fn keep_final_status(shared: &Shared, recovery: Option<RecoveryFile>) {
    let Some(recovery) = recovery else { return };
    let status = shared.queue.lock().final_status.clone();
    if let (Some(status), true) = (status, recovery.kept().batches > 0) {
        if let Err(e) = recovery.keep_status(&status) {
            tracing::error!(uid = %shared.uid, error = %e,
                "keeping the final status beside the kept batches failed");
        }
    }
}

/// Whether the writer goes on after a batch's outcome.
#[derive(PartialEq, Eq)]
enum Noted {
    GoOn,
    /// Nothing more can be done: the end says so rather than waiting forever.
    Lost,
}

/// Notes what became of a batch in the queue: its failure, or where it was kept.
fn note_outcome(
    shared: &Shared,
    queue: &mut Queue,
    recovery: Option<&RecoveryFile>,
    outcome: Outcome,
) -> Noted {
    match outcome {
        Outcome::Stored => queue.failure = None,
        Outcome::Kept(reason) => {
            #[allow(
                clippy::expect_used,
                reason = "an outcome of Kept comes only with the recovery file it was kept in"
            )]
            let file = recovery.expect("kept in the recovery file");
            record_kept(shared, queue, file, reason);
        }
        Outcome::Failed(reason) => {
            // Once per run of failures, not at every retry.
            if queue.failure.is_none() {
                tracing::warn!(error = %reason, "writing logged data failed; will retry");
            }
            queue.failure = Some(reason);
        }
        Outcome::Lost(reason) => {
            tracing::error!(uid = %shared.uid, error = %reason, "logged data is lost");
            queue.failure = Some(reason);
            return Noted::Lost;
        }
    }
    Noted::GoOn
}

async fn run_writer(
    shared: Arc<Shared>,
    mut writer: Box<dyn ExperimentWriter>,
    mut recovery: Option<RecoveryFile>,
    timing: Timing,
) {
    let span = tracing::debug_span!("experiment_writer", uid = %shared.uid);
    let _enter = span.enter();
    let mut batch = Batch {
        points: Vec::with_capacity(shared.capacity),
        ..Batch::default()
    };
    let mut last_heartbeat = std::time::Instant::now();
    let mut done;
    let mut closing;
    let mut attempts_at_close = 0;
    loop {
        if last_heartbeat.elapsed() >= timing.heartbeat {
            last_heartbeat = std::time::Instant::now();
            match heartbeat(writer).await {
                Ok(back) => writer = back,
                Err(panic) => return writer_panicked(&shared, &panic),
            }
        }
        {
            let mut queue = shared.queue.lock();
            // A batch that failed is written again before anything newer.
            if batch.is_empty() {
                std::mem::swap(&mut queue.points, &mut batch.points);
                std::mem::swap(&mut queue.parameters, &mut batch.parameters);
                std::mem::swap(&mut queue.hardware, &mut batch.hardware);
                batch.upto = queue.logged;
                shared.room.notify_all();
            }
            let known = batch.names.len();
            batch.names.extend_from_slice(queue.names.since(known));
            closing = queue.closing;
            // Closing refuses new data, so an empty queue now stays empty.
            done = batch.is_empty() && closing;
            if batch.is_empty() {
                queue.durable = queue.durable.max(batch.upto);
                if !done {
                    shared.progress.notify_all();
                }
            }
        }
        if done {
            keep_final_status(&shared, recovery);
            finish(&shared, writer).await;
            return;
        }
        if !batch.is_empty() {
            if closing {
                attempts_at_close += 1;
            }
            let written = tokio::task::spawn_blocking(move || {
                let outcome = store_batch(
                    &mut *writer,
                    recovery.as_mut(),
                    &mut batch,
                    attempts_at_close,
                );
                (writer, recovery, batch, outcome)
            })
            .await;
            let outcome;
            (writer, recovery, batch, outcome) = match written {
                Ok(done) => done,
                Err(panic) => return writer_panicked(&shared, &panic),
            };
            let mut queue = shared.queue.lock();
            if note_outcome(&shared, &mut queue, recovery.as_ref(), outcome) == Noted::Lost {
                drop(queue);
                keep_final_status(&shared, recovery);
                finish_lost(&shared);
                return;
            }
            if queue.failure.is_none() {
                queue.durable = batch.upto;
                batch.points.clear();
                batch.parameters.clear();
                batch.hardware.clear();
            }
            shared.progress.notify_all();
            if queue.failure.is_none() {
                // Data may have arrived while writing: look again at once.
                continue;
            }
            // A failed write waits for the next interval before it is retried.
            drop(queue);
        }
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(timing.flush) => {}
        }
    }
}
