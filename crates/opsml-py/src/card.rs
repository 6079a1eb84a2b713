//! `ExperimentCard` and the listing types `CardRecord` and `CardList`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use std::path::PathBuf;

use opsml_experiment::Artifacts;
use opsml_experiment::Store;
use opsml_experiment::{
    human_bytes, CardRecord, CodeCapture, ComputeEnvironment, ExperimentCard, GitInfo, Status,
};
use opsml_experiment::{Align, TextTable};
use pyo3::exceptions::{PyAttributeError, PyIndexError, PyValueError};
use pyo3::prelude::*;

use crate::convert::{py_str, tags as extract_tags, RemotePath};
use crate::detach::experiment_work;
use crate::eval_metrics::{eval_metrics_from, PyEvalMetrics};
use crate::metric::PyMetrics;
use crate::notebook;
use crate::parameter::PyParameters;
use crate::read;
use crate::summary::PyMetricSummary;

/// "1 card", "2 cards".
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn format_time(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// The uids of cards related to an experiment card.
#[pyclass(name = "CardUids", module = "opsml._opsml", frozen)]
pub struct PyCardUids {
    experimentcard_uids: Vec<String>,
}

#[pymethods]
impl PyCardUids {
    /// Uids of the child experiments, oldest first.
    #[getter]
    fn experimentcard_uids(&self) -> Vec<String> {
        self.experimentcard_uids.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "CardUids(experimentcard_uids=[{}])",
            self.experimentcard_uids
                .iter()
                .map(|u| py_str(u))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Where an experiment ran.
#[pyclass(name = "ComputeEnvironment", module = "opsml._opsml", frozen)]
pub struct PyComputeEnvironment {
    env: ComputeEnvironment,
}

#[pymethods]
impl PyComputeEnvironment {
    /// Logical CPUs available to the process.
    #[getter]
    fn cpu_count(&self) -> usize {
        self.env.cpu_count
    }

    /// Physical memory of the host in bytes.
    #[getter]
    fn total_memory_bytes(&self) -> u64 {
        self.env.total_memory_bytes
    }

    /// Operating system name and version.
    #[getter]
    fn os(&self) -> &str {
        &self.env.os
    }

    /// Host name.
    #[getter]
    fn hostname(&self) -> &str {
        &self.env.hostname
    }

    /// Python version, when started from Python.
    #[getter]
    fn python_version(&self) -> Option<&str> {
        self.env.python_version.as_deref()
    }

    /// CPU model name.
    #[getter]
    fn cpu_model(&self) -> &str {
        &self.env.cpu_model
    }

    /// Visible NVIDIA GPUs as dicts (index, uuid, name, memory_total_bytes).
    #[getter]
    fn gpus<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::hardware::to_python(py, &self.env.gpus)
    }

    /// NVIDIA driver version, or None without a driver.
    #[getter]
    fn gpu_driver_version(&self) -> Option<&str> {
        self.env.gpu_driver_version.as_deref()
    }

    /// CUDA version supported by the driver, or None.
    #[getter]
    fn cuda_version(&self) -> Option<&str> {
        self.env.cuda_version.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "ComputeEnvironment(cpu_count={}, total_memory_bytes={}, os={}, hostname={}, \
             python_version={})",
            self.env.cpu_count,
            self.env.total_memory_bytes,
            py_str(&self.env.os),
            py_str(&self.env.hostname),
            self.env
                .python_version
                .as_deref()
                .map_or_else(|| "None".to_owned(), py_str),
        )
    }
}

/// Restores one artifact of `uid` from the artifacts of `store`.
pub(crate) fn download_one(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
    path: &str,
    lpath: Option<PathBuf>,
) -> PyResult<PathBuf> {
    experiment_work(py, || {
        let artifacts = Artifacts::for_reading(Arc::clone(store))?;
        opsml_experiment::download_artifact(&artifacts, uid, path, lpath.as_deref())
    })
}

/// Git state of an experiment's code.
#[pyclass(name = "GitInfo", module = "opsml._opsml", frozen)]
pub struct PyGitInfo {
    git: GitInfo,
}

#[pymethods]
impl PyGitInfo {
    /// Commit checked out.
    #[getter]
    fn commit(&self) -> &str {
        &self.git.commit
    }

    /// Branch checked out, or None on a detached head.
    #[getter]
    fn branch(&self) -> Option<&str> {
        self.git.branch.as_deref()
    }

    /// Whether tracked files had uncommitted changes.
    #[getter]
    fn dirty(&self) -> bool {
        self.git.dirty
    }

    /// URL of the origin remote, without credentials.
    #[getter]
    fn remote_url(&self) -> Option<&str> {
        self.git.remote_url.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "GitInfo(commit={}, branch={}, dirty={}, remote_url={})",
            py_str(&self.git.commit),
            self.git
                .branch
                .as_deref()
                .map_or_else(|| "None".to_owned(), py_str),
            if self.git.dirty { "True" } else { "False" },
            self.git
                .remote_url
                .as_deref()
                .map_or_else(|| "None".to_owned(), py_str),
        )
    }
}

/// What code capture stored.
#[pyclass(name = "CodeCapture", module = "opsml._opsml", frozen)]
pub struct PyCodeCapture {
    code: CodeCapture,
}

#[pymethods]
impl PyCodeCapture {
    /// The directory or script captured.
    #[getter]
    fn root(&self) -> &str {
        &self.code.root
    }

    /// Files stored under `code/`.
    #[getter]
    fn files(&self) -> usize {
        self.code.files
    }

    /// Bytes stored.
    #[getter]
    fn bytes(&self) -> u64 {
        self.code.bytes
    }

    /// Files left out for their size.
    #[getter]
    fn skipped(&self) -> Vec<String> {
        self.code.skipped.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "CodeCapture(root={}, files={}, bytes={}, skipped={})",
            py_str(&self.code.root),
            self.code.files,
            self.code.bytes,
            self.code.skipped.len()
        )
    }
}

/// The record of one experiment: identity, version, status, environment, and
/// access to its metrics and parameters.
#[pyclass(name = "ExperimentCard", module = "opsml._opsml")]
pub struct PyExperimentCard {
    pub(crate) card: ExperimentCard,
    pub(crate) store: Arc<dyn Store>,
    /// A copy of a running experiment's card (`exp.card`), which changes nothing when
    /// assigned to: its setters say so instead of appearing to work.
    pub(crate) of_running_experiment: bool,
}

impl PyExperimentCard {
    /// Refuses a change to the copy of a running experiment's card.
    fn check_changeable(&self, what: &str, instead: &str) -> PyResult<()> {
        if self.of_running_experiment {
            return Err(PyAttributeError::new_err(format!(
                "exp.card is a copy of the running experiment's card: setting its {what} \
                 would change nothing; {instead}"
            )));
        }
        Ok(())
    }
}

#[pymethods]
impl PyExperimentCard {
    /// Unique id (UUIDv7).
    #[getter]
    fn uid(&self) -> &str {
        &self.card.uid
    }

    /// Space (project) of the experiment.
    #[getter]
    fn space(&self) -> &str {
        &self.card.space
    }

    /// Experiment name.
    #[getter]
    fn name(&self) -> &str {
        &self.card.name
    }

    /// Semantic version within (space, name).
    #[getter]
    fn version(&self) -> String {
        self.card.version.to_string()
    }

    /// Tags; assign a new list and call `CardRegistry.update_card` to save it.
    #[getter]
    fn tags(&self) -> Vec<String> {
        self.card.tags.clone()
    }

    #[setter]
    fn set_tags(&mut self, tags: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_changeable("tags", "use exp.add_tags(...)")?;
        self.card.tags = extract_tags(Some(tags))?;
        Ok(())
    }

    /// One of "running", "completed", "failed", "killed".
    #[getter]
    fn status(&self) -> &'static str {
        self.card.status.as_str()
    }

    #[setter]
    fn set_status(&mut self, status: &str) -> PyResult<()> {
        self.check_changeable(
            "status",
            "the run sets it when it ends (raise to end it failed)",
        )?;
        self.card.status = status
            .parse::<Status>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(())
    }

    /// What the run is for, or None; set it with `exp.set_description(...)`, or assign it
    /// here and call `CardRegistry.update_card` to save it.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.card.metadata.description.as_deref()
    }

    #[setter]
    fn set_description(&mut self, text: Option<String>) -> PyResult<()> {
        self.check_changeable("description", "use exp.set_description(...)")?;
        if let Some(text) = &text {
            opsml_experiment::validate_description(text)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        self.card.metadata.description = text.filter(|t| !t.trim().is_empty());
        Ok(())
    }

    /// Final evaluation results by name (`card.eval_metrics["auc"]`); log them with
    /// `exp.log_eval_metrics(...)`, or assign here and call `CardRegistry.update_card`.
    #[getter]
    fn eval_metrics(&self) -> PyEvalMetrics {
        PyEvalMetrics {
            metrics: self.card.metadata.eval_metrics.clone(),
        }
    }

    #[setter]
    fn set_eval_metrics(&mut self, metrics: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_changeable("evaluation metrics", "use exp.log_eval_metrics(...)")?;
        self.card.metadata.eval_metrics = eval_metrics_from(metrics)?;
        Ok(())
    }

    /// When the experiment started (aware UTC datetime).
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.card.created_at
    }

    /// When the experiment ended, or None while it runs.
    #[getter]
    fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.card.ended_at
    }

    /// Uids of related cards (`uids.experimentcard_uids`: the children).
    #[getter]
    fn uids(&self) -> PyCardUids {
        PyCardUids {
            experimentcard_uids: self.card.experimentcard_uids.clone(),
        }
    }

    /// Uid of the parent experiment, or None.
    #[getter]
    fn parent_uid(&self) -> Option<&str> {
        self.card.parent_uid.as_deref()
    }

    /// Where the experiment ran.
    #[getter]
    fn compute_environment(&self) -> PyComputeEnvironment {
        PyComputeEnvironment {
            env: self.card.compute_environment.clone(),
        }
    }

    /// Version of opsml that created the card.
    #[getter]
    fn opsml_version(&self) -> &str {
        &self.card.opsml_version
    }

    /// Who ran the experiment.
    #[getter]
    fn username(&self) -> &str {
        &self.card.username
    }

    /// Metric points of this experiment (or of the named metrics); optionally
    /// only steps in `[start, stop)` and at most `max_points` per metric.
    #[pyo3(signature = (names=None, steps=None, max_points=None))]
    fn get_metrics(
        &self,
        py: Python<'_>,
        names: Option<&Bound<'_, PyAny>>,
        steps: Option<&Bound<'_, PyAny>>,
        max_points: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyMetrics> {
        let selection = read::selection(steps, max_points)?;
        read::metrics(py, &self.store, &self.card.uid, names, &selection)
    }

    /// Count, min, max, mean, first and last value and last step of each
    /// metric, by name; kept by the writer, so no point is read.
    fn metric_summary(&self, py: Python<'_>) -> PyResult<BTreeMap<String, PyMetricSummary>> {
        Ok(crate::summary::read(py, &self.store, &self.card.uid)?
            .into_iter()
            .map(|summary| (summary.name.clone(), PyMetricSummary { summary }))
            .collect())
    }

    /// Remote paths of the artifacts, all or those at or under `path`.
    #[pyo3(signature = (path=None))]
    fn list_artifacts(&self, py: Python<'_>, path: Option<RemotePath>) -> PyResult<Vec<String>> {
        let uid = &self.card.uid;
        let path = path.as_ref().map(RemotePath::as_str);
        let records = experiment_work(py, || {
            let artifacts = Artifacts::for_reading(Arc::clone(&self.store))?;
            Ok(artifacts.list(uid, path)?)
        })?;
        Ok(records.into_iter().map(|r| r.path).collect())
    }

    /// Restores the artifacts at or under `path` (all when None) into `lpath`
    /// (default `./artifacts`), keeping their remote paths and verifying each
    /// file. Returns the files written.
    #[pyo3(signature = (path=None, lpath=None))]
    fn download_artifacts(
        &self,
        py: Python<'_>,
        path: Option<RemotePath>,
        lpath: Option<PathBuf>,
    ) -> PyResult<Vec<PathBuf>> {
        let uid = &self.card.uid;
        let path = path.as_ref().map(RemotePath::as_str);
        let destination = lpath.unwrap_or_else(|| PathBuf::from("artifacts"));
        experiment_work(py, || {
            let artifacts = Artifacts::for_reading(Arc::clone(&self.store))?;
            opsml_experiment::download_artifacts(&artifacts, uid, path, &destination)
        })
    }

    /// Restores one artifact (exactly `path`) to `lpath`: a directory receives
    /// the file under its name, anything else is the file to write. Default
    /// `./artifacts/<path>`. Returns the file written.
    #[pyo3(signature = (path, lpath=None))]
    fn download_artifact(
        &self,
        py: Python<'_>,
        path: RemotePath,
        lpath: Option<PathBuf>,
    ) -> PyResult<PathBuf> {
        download_one(py, &self.store, &self.card.uid, path.as_str(), lpath)
    }

    /// Hardware samples of this experiment, in the order taken.
    fn get_hardware_metrics(
        &self,
        py: Python<'_>,
    ) -> PyResult<crate::hardware_table::PyHardwareSamples> {
        crate::hardware::read(py, &self.store, &self.card.uid)
    }

    /// Mean and peak CPU, process memory and GPU use and total disk and
    /// network bytes over the run, as a dict; None without hardware monitoring.
    #[getter]
    fn hardware_summary<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.card
            .metadata
            .hardware
            .as_ref()
            .map(|summary| crate::hardware::to_python(py, summary))
            .transpose()
    }

    /// Git state of the code (commit, branch, dirty, remote_url), or None
    /// outside a git repository or while it is still being recorded.
    #[getter]
    fn git(&self) -> Option<PyGitInfo> {
        self.card.metadata.git.clone().map(|git| PyGitInfo { git })
    }

    /// What code capture stored under `code/`, or None.
    #[getter]
    fn code(&self) -> Option<PyCodeCapture> {
        self.card
            .metadata
            .code
            .clone()
            .map(|code| PyCodeCapture { code })
    }

    /// Parameters of this experiment (or the named ones).
    #[pyo3(signature = (names=None))]
    fn get_parameters(
        &self,
        py: Python<'_>,
        names: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyParameters> {
        read::parameters(py, &self.store, &self.card.uid, names)
    }

    fn __repr__(&self) -> String {
        format!(
            "ExperimentCard(space={}, name={}, version={}, uid={}, status={})",
            py_str(&self.card.space),
            py_str(&self.card.name),
            py_str(&self.card.version.to_string()),
            py_str(&self.card.uid),
            py_str(self.card.status.as_str())
        )
    }

    /// The card as it prints, for a notebook.
    fn _repr_html_(&self, py: Python<'_>) -> String {
        notebook::preformatted(&self.__str__(py))
    }

    fn __str__(&self, py: Python<'_>) -> String {
        let c = &self.card;
        let env = &c.compute_environment;
        let mut out = String::new();
        let _ = writeln!(out, "ExperimentCard {}/{} v{}", c.space, c.name, c.version);
        let _ = writeln!(out, "  uid          {}", c.uid);
        let _ = writeln!(out, "  status       {}", c.status);
        let _ = writeln!(out, "  created_at   {}", format_time(Some(c.created_at)));
        let _ = writeln!(out, "  ended_at     {}", format_time(c.ended_at));
        let _ = writeln!(out, "  tags         {}", c.tags.join(", "));
        let _ = writeln!(out, "  username     {}", c.username);
        if let Some(parent) = &c.parent_uid {
            let _ = writeln!(out, "  parent_uid   {parent}");
        }
        if let Some(git) = &c.metadata.git {
            let _ = writeln!(
                out,
                "  git          {} {}{}",
                git.branch.as_deref().unwrap_or("(detached)"),
                &git.commit[..git.commit.len().min(12)],
                if git.dirty { " (dirty)" } else { "" }
            );
        }
        if !c.experimentcard_uids.is_empty() {
            let _ = writeln!(out, "  children     {}", c.experimentcard_uids.join(", "));
        }
        if let Some(h) = &c.metadata.hardware {
            let _ = writeln!(
                out,
                "  hardware     {} samples; CPU {:.0}% mean, {:.0}% peak; process {:.0}% CPU mean, \
                 {:.0} MiB peak memory; disk {} read, {} written; network {} in, {} out",
                h.samples,
                h.cpu_percent.mean,
                h.cpu_percent.peak,
                h.process_cpu_percent.mean,
                h.process_rss_bytes.peak / f64::from(1u32 << 20),
                human_bytes(h.disk_read_bytes),
                human_bytes(h.disk_write_bytes),
                human_bytes(h.network_received_bytes),
                human_bytes(h.network_sent_bytes),
            );
            for gpu in &h.gpus {
                // A reading no sample could take says so, rather than 0.
                let utilization = gpu.utilization_percent.map_or_else(
                    || "use not read".to_owned(),
                    |u| format!("{:.0}% mean, {:.0}% peak use", u.mean, u.peak),
                );
                let memory = gpu.memory_used_bytes.map_or_else(
                    || "memory not read".to_owned(),
                    |m| format!("{:.0} MiB peak memory", m.peak / f64::from(1u32 << 20)),
                );
                let _ = writeln!(
                    out,
                    "  gpu {}        {}: {utilization}; {memory}",
                    gpu.index, gpu.name
                );
            }
        }
        let _ = write!(
            out,
            "  environment  {} on {}, {} CPUs, {:.1} GiB, Python {}",
            env.hostname,
            env.os,
            env.cpu_count,
            env.total_memory_bytes as f64 / f64::from(1u32 << 30),
            env.python_version.as_deref().unwrap_or("-")
        );
        // A card whose summaries cannot be read still prints.
        if let Ok(summaries) = crate::summary::read(py, &self.store, &c.uid) {
            out.push_str(&crate::summary::describe(&summaries));
        }
        opsml_experiment::printable(&out).into_owned()
    }
}

/// One row of a card listing.
#[pyclass(name = "CardRecord", module = "opsml._opsml", frozen)]
pub struct PyCardRecord {
    pub(crate) record: CardRecord,
}

#[pymethods]
impl PyCardRecord {
    #[getter]
    fn uid(&self) -> &str {
        &self.record.uid
    }

    #[getter]
    fn space(&self) -> &str {
        &self.record.space
    }

    #[getter]
    fn name(&self) -> &str {
        &self.record.name
    }

    #[getter]
    fn version(&self) -> String {
        self.record.version.to_string()
    }

    #[getter]
    fn tags(&self) -> Vec<String> {
        self.record.tags.clone()
    }

    #[getter]
    fn status(&self) -> &'static str {
        self.record.status.as_str()
    }

    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }

    #[getter]
    fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.record.ended_at
    }

    #[getter]
    fn parent_uid(&self) -> Option<&str> {
        self.record.parent_uid.as_deref()
    }

    #[getter]
    fn username(&self) -> &str {
        &self.record.username
    }

    fn __repr__(&self) -> String {
        let r = &self.record;
        format!(
            "CardRecord(space={}, name={}, version={}, uid={}, status={})",
            py_str(&r.space),
            py_str(&r.name),
            py_str(&r.version.to_string()),
            py_str(&r.uid),
            py_str(r.status.as_str())
        )
    }
}

/// Card records returned by `CardRegistry.list_cards`: a sequence that prints as a table.
#[pyclass(name = "CardList", module = "opsml._opsml", frozen, sequence)]
pub struct PyCardList {
    pub(crate) records: Vec<CardRecord>,
}

#[pymethods]
impl PyCardList {
    fn __len__(&self) -> usize {
        self.records.len()
    }

    fn __getitem__(&self, index: isize) -> PyResult<PyCardRecord> {
        let len = self.records.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err(format!(
                "card index {index} out of range for {len} cards"
            )));
        }
        Ok(PyCardRecord {
            record: self.records[i as usize].clone(),
        })
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let items: Vec<PyCardRecord> = self
            .records
            .iter()
            .map(|r| PyCardRecord { record: r.clone() })
            .collect();
        Ok(items.into_pyobject(py)?.try_iter()?.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        format!("CardList({} cards)", self.records.len())
    }

    fn __str__(&self) -> String {
        let out = format!(
            "{}\n{}",
            self.text_table().aligned(),
            plural(self.records.len(), "card")
        );
        opsml_experiment::printable(&out).into_owned()
    }

    /// The cards as an HTML table, for a notebook.
    fn _repr_html_(&self) -> String {
        notebook::table(&self.text_table(), &plural(self.records.len(), "card"))
    }

    /// The cards as a `pandas.DataFrame`, a row a card in this order, with the columns of
    /// `opsml.runs()`: card fields, `params.<name>` and `metrics.<name>.<stat>`. Needs pandas
    /// and pyarrow.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::runs::cards_frame(py, &self.records, "pandas")
    }

    /// The same as a `polars.DataFrame`. Needs polars.
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::runs::cards_frame(py, &self.records, "polars")
    }

    /// The same as a `pyarrow.Table`. Needs pyarrow.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::runs::cards_frame(py, &self.records, "arrow")
    }
}

impl PyCardList {
    fn text_table(&self) -> TextTable {
        let mut table = TextTable::new(
            &["space", "name", "version", "status", "created_at", "uid"].map(|c| (c, Align::Left)),
        );
        for r in &self.records {
            table.push(vec![
                r.space.clone(),
                r.name.clone(),
                r.version.to_string(),
                r.status.to_string(),
                format_time(Some(r.created_at)),
                r.uid.clone(),
            ]);
        }
        table
    }
}
