use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use chrono::Utc;
use opsml_api::wire::StatusBody;
use opsml_registry::{
    default_store, Artifacts, Lease, NewExperiment, PointRecord, RegistryError, Store, StoreError,
};
use opsml_types::{
    new_uid, now_micros, validate_name, ArtifactRecord, ExperimentCard, ExperimentMetadata,
    MetricPoint, Parameter, ParameterValue, Status,
};
use parking_lot::Mutex;

use opsml_hardware::{HardwareQueue, MIN_INTERVAL};

use crate::artifacts::log_directory;
use crate::capture::{capture, CapturePlan, ScriptSource, CODE_PREFIX, REQUIREMENTS_PATH};
use crate::environment::{compute_environment, generated_name, username};
use crate::forked::ForkedWriter;
use crate::pipeline::{NameInterner, Pipeline, DEFAULT_FLUSH_INTERVAL, DEFAULT_QUEUE_CAPACITY};
use crate::runtime::runtime;
use crate::{live, ExperimentError, Result};

/// Environment variable with the flush interval in seconds.
pub(crate) const FLUSH_INTERVAL_ENV: &str = "OPSML_FLUSH_INTERVAL";
/// Environment variable with the hardware sampling interval in seconds.
pub const HARDWARE_INTERVAL_ENV: &str = "OPSML_HARDWARE_INTERVAL";
/// Time between hardware samples unless told otherwise.
pub const DEFAULT_HARDWARE_INTERVAL: Duration = Duration::from_secs(5);

/// Space of experiments started without one.
pub const DEFAULT_SPACE: &str = "default";

/// How to start (or resume) an experiment.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Space (project) of the experiment; the parent's for a child, else `"default"`.
    pub space: Option<String>,
    /// Name; a readable random one when absent.
    pub name: Option<String>,
    pub tags: Vec<String>,
    /// Resume this existing experiment instead of creating one.
    pub experiment_uid: Option<String>,
    /// Directory of source code to capture with the experiment.
    pub code_dir: Option<PathBuf>,
    /// Sample hardware usage in the background.
    pub log_hardware: bool,
    /// Time between hardware samples; `OPSML_HARDWARE_INTERVAL` (seconds) or
    /// 5 s when absent, at least 0.1 s.
    pub hardware_interval: Option<Duration>,
    /// The script that started the experiment, stored as code when no
    /// `code_dir` is given.
    pub script: Option<PathBuf>,
    /// Without a script file, source code that started the experiment (the cells a
    /// notebook ran), stored as a file of this name.
    pub script_source: Option<ScriptSource>,
    /// Where installed Python packages are found (`sys.path`), for the
    /// `environment/requirements.txt` artifact.
    pub python_paths: Vec<PathBuf>,
    /// Recorded in the compute environment when started from Python.
    pub python_version: Option<String>,
    /// Longest time a logged point stays in memory before it is written.
    pub flush_interval: Duration,
    /// Points queued before logging calls wait for the writer.
    pub queue_capacity: usize,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            space: None,
            name: None,
            tags: Vec::new(),
            experiment_uid: None,
            code_dir: None,
            log_hardware: false,
            hardware_interval: None,
            script: None,
            script_source: None,
            python_paths: Vec::new(),
            python_version: None,
            flush_interval: flush_interval_from_env(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    artifacts: Artifacts,
    uid: String,
    /// Disconnects when the background capture of code and environment is done.
    capture_done: Mutex<Option<mpsc::Receiver<()>>>,
    /// The hardware sampler, while it runs.
    hardware: Mutex<Option<HardwareQueue>>,
    card: Mutex<ExperimentCard>,
    /// Held while the card's metadata is changed and stored, so that changes from different
    /// threads (capture, the hardware summary, the user's notes) never overwrite each other.
    metadata_writes: Mutex<()>,
    pipeline: Pipeline,
    /// This process's own writer when it is a forked child of the process running the
    /// experiment (see [`crate::forked`]).
    forked: Mutex<Option<Arc<ForkedWriter>>>,
    flush_interval: Duration,
    queue_capacity: usize,
    ended: AtomicBool,
    python_version: Option<String>,
}

/// Longest a forked child waits for the slot of its own writer. The slot is only held for
/// an instant, so running out means a thread held it when the process was forked.
const FORKED_SLOT_WAIT: Duration = Duration::from_secs(1);

/// What a metadata change does when the store cannot say what it holds now.
#[derive(Clone, Copy)]
enum Unanswered {
    /// Start from this process's copy: what only this process found out (git, code,
    /// hardware) is worth keeping even then, and a server that is down takes the write into
    /// its outbox, as before the notes were part of the metadata.
    StartFromCopy,
    /// Fail: a user's note written over a copy could erase another process's notes.
    Fail,
}

/// Longest a metadata change waits for another one of this process (a store round trip).
const METADATA_LOCK_WAIT: Duration = Duration::from_secs(5);

impl Inner {
    pub(crate) fn uid(&self) -> &str {
        &self.uid
    }

    pub(crate) fn wait_for_capture(&self) {
        if let Some(done) = self.capture_done.lock().take() {
            // Returns when the capture task drops its sender.
            let _ = done.recv();
        }
    }

    /// Takes the final sample and keeps the run's summary on the card.
    fn stop_hardware(&self) {
        let Some(queue) = self.hardware.lock().take() else {
            return;
        };
        let summary = queue.stop();
        self.record_metadata(|metadata| metadata.hardware = Some(summary.clone()));
    }

    /// Keeps what this process found out (git, code, hardware) on the card and stores it. A
    /// failed save is warned about; the next metadata write of this process carries it.
    fn record_metadata(&self, change: impl Fn(&mut ExperimentMetadata)) {
        change(&mut self.card.lock().metadata);
        let saved =
            self.update_metadata(self.store.as_ref(), Unanswered::StartFromCopy, |metadata| {
                change(metadata);
                Ok(())
            });
        if let Err(e) = saved {
            tracing::warn!(uid = %self.uid, error = %e, "saving the run's metadata failed");
        }
    }

    /// Applies `change` to the metadata the store holds and saves the whole of it, the card's
    /// copy following. Read from the store each time: another process (a resumed run, an
    /// evaluation job, the registry) may have set a description or evaluation metrics since.
    /// What only this process finds out (git, code, hardware) is taken from its copy where the
    /// store lacks it. A change that fails leaves the card as it was.
    fn update_metadata(
        &self,
        store: &dyn Store,
        unanswered: Unanswered,
        change: impl FnOnce(&mut ExperimentMetadata) -> Result<()>,
    ) -> Result<()> {
        // One change at a time in this process. A lock held when the process forked belongs
        // to a thread the child does not have: after the wait, the child goes on without it.
        let _one_at_a_time = self.metadata_writes.try_lock_for(METADATA_LOCK_WAIT);
        let copy = self.card.lock().metadata.clone();
        let mut metadata = match (store.get_experiment(&self.uid), unanswered) {
            (Ok(Some(stored)), _) => stored.metadata,
            (Ok(None), _) | (Err(_), Unanswered::StartFromCopy) => copy.clone(),
            (Err(e), Unanswered::Fail) => return Err(e.into()),
        };
        metadata.git = metadata.git.or(copy.git);
        metadata.code = metadata.code.or(copy.code);
        metadata.hardware = metadata.hardware.or(copy.hardware);
        change(&mut metadata)?;
        store.set_metadata(&self.uid, &metadata)?;
        self.card.lock().metadata = metadata;
        Ok(())
    }

    fn check_running(&self) -> Result<()> {
        if self.ended.load(Ordering::Acquire) {
            return Err(ExperimentError::Ended {
                uid: self.uid.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn flush(&self) -> Result<()> {
        if self.pipeline.owned_here() {
            return self.pipeline.flush();
        }
        match self.forked_writer()? {
            Some(forked) => forked.pipeline.flush(),
            None => Ok(()),
        }
    }

    /// Whether this process logs to the experiment: it runs it, or it is a forked child
    /// that logged through the inherited object.
    pub(crate) fn logs_here(&self) -> bool {
        self.pipeline.owned_here() || self.forked_writer().is_ok_and(|w| w.is_some())
    }

    /// The forked child's own writer, if it opened one.
    fn forked_writer(&self) -> Result<Option<Arc<ForkedWriter>>> {
        let slot = self.forked_slot()?;
        Ok(slot
            .as_ref()
            .filter(|w| w.pipeline.owned_here())
            .map(Arc::clone))
    }

    fn forked_slot(&self) -> Result<parking_lot::MutexGuard<'_, Option<Arc<ForkedWriter>>>> {
        self.forked
            .try_lock_for(FORKED_SLOT_WAIT)
            .ok_or_else(|| ExperimentError::Forked {
                uid: self.uid.clone(),
            })
    }

    pub(crate) fn end(&self, status: Status) -> Result<()> {
        if !self.pipeline.owned_here() {
            // A forked child stores what it logged and leaves the experiment to its parent.
            let forked = self.forked_slot()?.take();
            return match forked.filter(|w| w.pipeline.owned_here()) {
                Some(forked) => {
                    live::unregister(self);
                    forked.pipeline.close(None)
                }
                None => Ok(()),
            };
        }
        if self.ended.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        live::unregister(self);
        self.wait_for_capture();
        self.stop_hardware();
        let ended_at = Utc::now();
        // Where some of the data waits in the recovery file, the status it ends with waits
        // beside it: `opsml sync` sets it once the rest is stored.
        let drained = self.pipeline.close(Some(StatusBody {
            status,
            ended_at: Some(ended_at),
        }));
        // A failed drain still ends the experiment, as failed: its data is not all stored.
        let status = if drained.is_err() {
            Status::Failed
        } else {
            status
        };
        self.store.set_status(&self.uid, status, Some(ended_at))?;
        {
            let mut card = self.card.lock();
            card.status = status;
            card.ended_at = Some(ended_at);
        }
        tracing::debug!(uid = %self.uid, %status, "experiment ended");
        drained
    }
}

/// A running experiment. Logging calls only validate and queue; a background
/// writer stores the data. Dropping the experiment ends it as completed.
pub struct Experiment {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Experiment")
            .field("uid", &self.inner.uid)
            .finish_non_exhaustive()
    }
}

impl Experiment {
    /// Starts (or resumes) an experiment in the store of `OPSML_TRACKING_URI`.
    pub fn start(options: StartOptions) -> Result<Self> {
        Self::start_in(default_store()?, options)
    }

    /// Starts (or resumes) an experiment in `store`.
    pub fn start_in(store: Arc<dyn Store>, options: StartOptions) -> Result<Self> {
        Self::start_with(Artifacts::for_store(store)?, options)
    }

    /// Starts (or resumes) an experiment in the store of `artifacts`, keeping
    /// its artifacts in their storage.
    pub fn start_with(artifacts: Artifacts, options: StartOptions) -> Result<Self> {
        Self::start_with_parent(artifacts, options, None)
    }

    /// Starts a child experiment, in this experiment's space unless another is given.
    pub fn start_child(&self, mut options: StartOptions) -> Result<Self> {
        let (space, uid) = {
            let card = self.inner.card.lock();
            (card.space.clone(), card.uid.clone())
        };
        options.space.get_or_insert(space);
        if options.python_version.is_none() {
            options
                .python_version
                .clone_from(&self.inner.python_version);
        }
        if let Some(resume_uid) = &options.experiment_uid {
            // Only a child of this experiment can be resumed through it.
            let parent_uid = self
                .store()?
                .get_experiment(resume_uid)?
                .ok_or_else(|| StoreError::ExperimentNotFound(resume_uid.clone()))?
                .parent_uid;
            if parent_uid.as_deref() != Some(uid.as_str()) {
                return Err(ExperimentError::ResumeMismatch {
                    uid: resume_uid.clone(),
                    field: "a child of",
                    actual: parent_uid.unwrap_or_else(|| "no experiment".to_owned()),
                    requested: uid,
                });
            }
        }
        // Through this process's own connections: in a forked worker (a trial of a sweep) the
        // parent's may not be used.
        let artifacts = if self.inner.pipeline.owned_here() {
            self.inner.artifacts.clone()
        } else {
            self.forked()?.artifacts.clone()
        };
        let child = Self::start_with_parent(artifacts, options, Some(uid.clone()))?;
        let mut card = self.inner.card.lock();
        if !card.experimentcard_uids.iter().any(|c| c == child.uid()) {
            card.experimentcard_uids.push(child.uid().to_owned());
        }
        drop(card);
        Ok(child)
    }

    fn start_with_parent(
        artifacts: Artifacts,
        options: StartOptions,
        parent_uid: Option<String>,
    ) -> Result<Self> {
        let hardware_interval = if options.log_hardware {
            Some(hardware_interval(options.hardware_interval)?)
        } else {
            None
        };
        let store = Arc::clone(artifacts.store());
        if let Some(dir) = &options.code_dir {
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(RegistryError::NotADirectory(dir.clone()).into()),
                Err(_) => return Err(RegistryError::LocalPathNotFound(dir.clone()).into()),
            }
        }
        // New top-level experiments record their code; children and resumed
        // experiments only when given a code directory.
        let capture_code = options.code_dir.is_some()
            || (options.experiment_uid.is_none() && parent_uid.is_none());
        let card = match &options.experiment_uid {
            Some(uid) => resume(store.as_ref(), uid, &options)?,
            None => create(store.as_ref(), &options, parent_uid)?,
        };
        let uid = card.uid.clone();
        let pipeline = Pipeline::open(
            store.as_ref(),
            &uid,
            options.flush_interval,
            options.queue_capacity,
        )?;
        let (capture_sender, capture_done) = mpsc::channel::<()>();
        let inner = Arc::new(Inner {
            pipeline,
            forked: Mutex::new(None),
            flush_interval: options.flush_interval,
            queue_capacity: options.queue_capacity,
            artifacts,
            store,
            uid,
            capture_done: Mutex::new(capture_code.then_some(capture_done)),
            hardware: Mutex::new(None),
            card: Mutex::new(card),
            metadata_writes: Mutex::new(()),
            ended: AtomicBool::new(false),
            python_version: options.python_version.clone(),
        });
        live::register(&inner);
        if let Some(interval) = hardware_interval {
            let sink = Arc::downgrade(&inner);
            let queue = HardwareQueue::start(runtime().handle(), interval, move |sample| {
                if let Some(inner) = sink.upgrade() {
                    // Only fails once the experiment has ended, after the final sample.
                    let _ = inner.pipeline.push_hardware(sample);
                }
            });
            *inner.hardware.lock() = Some(queue);
        }
        if capture_code {
            let plan = CapturePlan {
                code_dir: options.code_dir,
                script: options.script,
                script_source: options.script_source,
                python_paths: options.python_paths,
                excluded: inner.store.local_files(),
            };
            let task = Arc::clone(&inner);
            runtime().spawn_blocking(move || {
                let captured = capture(&task.artifacts, &task.uid, &plan);
                task.record_metadata(|metadata| {
                    metadata.git.clone_from(&captured.git);
                    // A capture that stored nothing keeps what an earlier one (of a resumed
                    // run) recorded.
                    if captured.code.is_some() {
                        metadata.code.clone_from(&captured.code);
                    }
                });
                drop(capture_sender);
            });
        }
        Ok(Self { inner })
    }

    /// The experiment's uid.
    pub fn uid(&self) -> &str {
        &self.inner.uid
    }

    /// A snapshot of the experiment's card.
    ///
    /// A run started while its server could not be reached shows version `0.0.0-pending`
    /// until the server has created it; the version it assigned shows from then on.
    pub fn card(&self) -> ExperimentCard {
        let pending = opsml_types::is_pending(&self.inner.card.lock().version);
        if pending {
            self.learn_version();
        }
        self.inner.card.lock().clone()
    }

    /// Takes the version the server assigned, once it has.
    fn learn_version(&self) {
        let stored = self
            .store()
            .and_then(|store| Ok(store.get_experiment(&self.inner.uid)?));
        if let Ok(Some(stored)) = stored {
            if !opsml_types::is_pending(&stored.version) {
                self.inner.card.lock().version = stored.version;
            }
        }
    }

    /// The store the experiment writes to.
    ///
    /// In a forked child, the store through the child's own connections.
    /// Adds `tags` to the card, in the store and in this process's copy; a tag it has
    /// already is kept once. Needs the store to answer (a server that is down is an error).
    pub fn add_tags(&self, tags: &[String]) -> Result<()> {
        for tag in tags {
            validate_name("tag", tag)?;
        }
        let store = self.store()?;
        let uid = self.uid();
        let mut stored = store
            .get_experiment(uid)?
            .ok_or_else(|| StoreError::ExperimentNotFound(uid.to_owned()))?;
        for tag in tags {
            if !stored.tags.contains(tag) {
                stored.tags.push(tag.clone());
            }
        }
        store.update_experiment(&stored)?;
        self.inner.card.lock().tags = stored.tags;
        Ok(())
    }

    /// Sets what the run is for (an empty text removes it), in the store and in this
    /// process's copy. Needs the store to answer.
    pub fn set_description(&self, text: &str) -> Result<()> {
        opsml_types::validate_description(text)?;
        let store = self.store()?;
        self.inner
            .update_metadata(store.as_ref(), Unanswered::Fail, |metadata| {
                metadata.description = Some(text.to_owned()).filter(|t| !t.trim().is_empty());
                Ok(())
            })
    }

    /// Records final evaluation results, kept apart from the metrics logged over steps: a
    /// name given again takes the new value. Needs the store to answer.
    pub fn log_eval_metrics(&self, metrics: &BTreeMap<String, f64>) -> Result<()> {
        opsml_types::validate_eval_metrics(metrics.keys().map(String::as_str))?;
        let store = self.store()?;
        self.inner
            .update_metadata(store.as_ref(), Unanswered::Fail, |metadata| {
                let mut merged = metadata.eval_metrics.clone();
                merged.extend(metrics.iter().map(|(name, value)| (name.clone(), *value)));
                opsml_types::validate_eval_metrics(merged.keys().map(String::as_str))?;
                metadata.eval_metrics = merged;
                Ok(())
            })
    }

    pub fn store(&self) -> Result<Arc<dyn Store>> {
        if self.inner.pipeline.owned_here() {
            Ok(Arc::clone(&self.inner.store))
        } else {
            Ok(opsml_registry::reopen(self.inner.store.as_ref())?)
        }
    }

    /// Logs one value of metric `name` (created now), waiting if the queue is full.
    pub fn log_metric(&self, name: &str, value: f64, step: Option<i64>) -> Result<()> {
        self.log_point(
            name,
            MetricPoint {
                step,
                value,
                timestamp: None,
                created_at: now_micros(),
            },
        )
    }

    /// Runs `f` with the pipeline this process logs through: the experiment's own, or in a
    /// forked child the child's own writer, opened on first use.
    #[inline]
    fn with_pipeline<R>(&self, f: impl FnOnce(&Pipeline) -> Result<R>) -> Result<R> {
        if self.inner.pipeline.owned_here() {
            return f(&self.inner.pipeline);
        }
        f(&self.forked()?.pipeline)
    }

    /// The forked child's own writer, opened (and registered for the child's exit) on first
    /// use.
    #[cold]
    fn forked(&self) -> Result<Arc<ForkedWriter>> {
        let inner = &*self.inner;
        let mut slot = inner.forked_slot()?;
        if let Some(forked) = slot.as_ref().filter(|w| w.pipeline.owned_here()) {
            return Ok(Arc::clone(forked));
        }
        if inner.ended.load(Ordering::Acquire) {
            return Err(ExperimentError::Ended {
                uid: inner.uid.clone(),
            });
        }
        let forked = Arc::new(ForkedWriter::open(
            &inner.store,
            &inner.artifacts,
            &inner.uid,
            inner.flush_interval,
            inner.queue_capacity,
        )?);
        *slot = Some(Arc::clone(&forked));
        drop(slot);
        live::register(&self.inner);
        Ok(forked)
    }

    /// The artifacts this process stores through (see [`Experiment::with_pipeline`]).
    fn with_artifacts<R>(&self, f: impl FnOnce(&Artifacts) -> Result<R>) -> Result<R> {
        self.inner.check_running()?;
        if self.inner.pipeline.owned_here() {
            return f(&self.inner.artifacts);
        }
        f(&self.forked()?.artifacts)
    }

    /// Logs one point of metric `name`, waiting if the queue is full.
    pub fn log_point(&self, name: &str, point: MetricPoint) -> Result<()> {
        self.with_pipeline(|pipeline| pipeline.push(name, point))
    }

    /// Logs one point without ever waiting: `Ok(false)` when the queue is
    /// full, in which case nothing was logged.
    pub fn try_log_point(&self, name: &str, point: MetricPoint) -> Result<bool> {
        self.with_pipeline(|pipeline| pipeline.try_push(name, point))
    }

    /// Gives names their ids for [`Experiment::log_records`], with the name table held once.
    pub fn intern_names<R>(&self, f: impl FnOnce(&mut NameInterner<'_>) -> R) -> Result<R> {
        self.with_pipeline(|pipeline| Ok(pipeline.intern(f)))
    }

    /// Logs points whose names were interned, waiting for room as needed.
    pub fn log_records(&self, records: &[PointRecord]) -> Result<()> {
        self.with_pipeline(|pipeline| pipeline.push_records(records))
    }

    /// Logs a batch of named points; an invalid name rejects the whole batch.
    pub fn log_points<'a>(
        &self,
        points: impl IntoIterator<Item = (&'a str, MetricPoint)>,
    ) -> Result<()> {
        let records = self.intern_names(|names| {
            points
                .into_iter()
                .map(|(name, point)| {
                    Ok(PointRecord {
                        name_id: names.id(name)?,
                        point,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })??;
        self.log_records(&records)
    }

    /// Logs (or replaces) one parameter.
    pub fn log_parameter(&self, name: &str, value: ParameterValue) -> Result<()> {
        self.log_parameters(vec![Parameter {
            name: name.to_owned(),
            value,
        }])
    }

    /// Logs (or replaces) parameters; an invalid name rejects the whole batch.
    pub fn log_parameters(&self, parameters: Vec<Parameter>) -> Result<()> {
        self.with_pipeline(|pipeline| pipeline.push_parameters(parameters))
    }

    /// Waits until everything logged so far is stored.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }

    /// The experiment's artifacts (store, storage and key).
    pub fn artifacts(&self) -> &Artifacts {
        &self.inner.artifacts
    }

    /// Stores one file at `rpath` (default: its file name); returns its record.
    pub fn log_artifact(&self, lpath: &Path, rpath: Option<&str>) -> Result<ArtifactRecord> {
        if let Ok(path) = Artifacts::remote_path(lpath, rpath) {
            self.after_capture_of(&path);
        }
        self.with_artifacts(|artifacts| Ok(artifacts.log_file(&self.inner.uid, lpath, rpath)?))
    }

    /// Waits for the capture of code and environment when `path` is where it stores them: a
    /// file the user logs there then replaces the captured one, never the other way round.
    fn after_capture_of(&self, path: &str) {
        if is_capture_path(path) {
            self.after_capture();
        }
    }

    fn after_capture(&self) {
        // Only the process that runs the capture waits for it (a forked child has none).
        if self.inner.pipeline.owned_here() {
            self.inner.wait_for_capture();
        }
    }

    /// Stores a directory tree under `rpath` (default: the artifact root),
    /// many files at once; returns the records.
    pub fn log_artifacts(&self, dir: &Path, rpath: Option<&str>) -> Result<Vec<ArtifactRecord>> {
        self.with_artifacts(|artifacts| {
            log_directory(artifacts, &self.inner.uid, dir, rpath, |files| {
                if files.iter().any(|(_, remote)| is_capture_path(remote)) {
                    self.after_capture();
                }
            })
        })
    }

    /// Stores bytes produced in memory (a rendered figure, a report) at `rpath`.
    pub fn log_bytes(&self, rpath: &str, data: &[u8]) -> Result<ArtifactRecord> {
        if let Ok(path) = opsml_types::normalize_artifact_path(rpath) {
            self.after_capture_of(&path);
        }
        self.with_artifacts(|artifacts| Ok(artifacts.log_bytes(&self.inner.uid, rpath, data)?))
    }

    /// Stores everything logged and ends the experiment with `status`. Ending
    /// twice does nothing the second time.
    pub fn end(&self, status: Status) -> Result<()> {
        self.inner.end(status)
    }

    /// Whether the experiment has ended.
    pub fn is_ended(&self) -> bool {
        self.inner.ended.load(Ordering::Acquire)
    }
}

impl Drop for Experiment {
    fn drop(&mut self) {
        if let Err(e) = self.inner.end(Status::Completed) {
            tracing::error!(uid = %self.inner.uid, error = %e, "ending a dropped experiment failed");
        }
    }
}

/// Whether the capture of code and environment stores an artifact at `path`.
fn is_capture_path(path: &str) -> bool {
    path == REQUIREMENTS_PATH || path.starts_with(CODE_PREFIX)
}

/// `OPSML_FLUSH_INTERVAL` (seconds, at least 0.001) or the default: the
/// longest a logged point waits in memory, so the most a `SIGKILL` can lose.
fn flush_interval_from_env() -> Duration {
    interval_from_env(
        FLUSH_INTERVAL_ENV,
        DEFAULT_FLUSH_INTERVAL,
        Duration::from_millis(1),
    )
}

/// The seconds of environment variable `name` as a duration of at least `least`, or `default`
/// when it is unset or not a number of seconds.
pub(crate) fn interval_from_env(name: &str, default: Duration, least: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .map_or(default, |d| d.max(least))
}

/// The hardware sampling interval: given, or `OPSML_HARDWARE_INTERVAL`
/// (seconds), or the default; never below the minimum.
fn hardware_interval(given: Option<Duration>) -> Result<Duration> {
    let interval = match given {
        Some(interval) => interval,
        None => match std::env::var(HARDWARE_INTERVAL_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                let seconds: f64 =
                    text.trim()
                        .parse()
                        .map_err(|_| ExperimentError::InvalidOption {
                            name: HARDWARE_INTERVAL_ENV,
                            value: text.clone(),
                            reason: "it is not a number of seconds".to_owned(),
                        })?;
                Duration::try_from_secs_f64(seconds).map_err(|_| {
                    ExperimentError::InvalidOption {
                        name: HARDWARE_INTERVAL_ENV,
                        value: text.clone(),
                        reason: "it is not a positive number of seconds".to_owned(),
                    }
                })?
            }
            _ => DEFAULT_HARDWARE_INTERVAL,
        },
    };
    if interval < MIN_INTERVAL {
        return Err(ExperimentError::InvalidOption {
            name: "hardware_interval",
            value: format!("{}", interval.as_secs_f64()),
            reason: format!("the shortest interval is {} s", MIN_INTERVAL.as_secs_f64()),
        });
    }
    Ok(interval)
}

fn create(
    store: &dyn Store,
    options: &StartOptions,
    parent_uid: Option<String>,
) -> Result<ExperimentCard> {
    let space = options
        .space
        .clone()
        .unwrap_or_else(|| DEFAULT_SPACE.to_owned());
    let name = options.name.clone().unwrap_or_else(generated_name);
    validate_name("space", &space)?;
    validate_name("experiment", &name)?;
    for tag in &options.tags {
        validate_name("tag", tag)?;
    }
    let card = store.create_experiment(&NewExperiment {
        uid: new_uid(),
        space,
        name,
        tags: options.tags.clone(),
        parent_uid,
        compute_environment: compute_environment(options.python_version.as_deref()),
        opsml_version: env!("CARGO_PKG_VERSION").to_owned(),
        username: username(),
        created_at: Utc::now(),
        lease: Lease::current(),
    })?;
    tracing::debug!(uid = %card.uid, space = %card.space, name = %card.name, version = %card.version, "experiment started");
    Ok(card)
}

fn resume(store: &dyn Store, uid: &str, options: &StartOptions) -> Result<ExperimentCard> {
    let mut card = store
        .get_experiment(uid)?
        .ok_or_else(|| StoreError::ExperimentNotFound(uid.to_owned()))?;
    for (field, actual, requested) in [
        ("in space", &card.space, &options.space),
        ("named", &card.name, &options.name),
    ] {
        if let Some(requested) = requested.as_ref().filter(|r| *r != actual) {
            return Err(ExperimentError::ResumeMismatch {
                uid: uid.to_owned(),
                field,
                actual: actual.clone(),
                requested: requested.clone(),
            });
        }
    }
    store.claim(uid, &Lease::current())?;
    // A status kept for `opsml sync` by an earlier end is not this run's end.
    opsml_registry::forget_kept_status(store, uid);
    card.status = Status::Running;
    card.ended_at = None;
    tracing::debug!(uid, "experiment resumed");
    Ok(card)
}
