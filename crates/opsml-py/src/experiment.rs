//! `Experiment`, `start_experiment` and the module-level read functions.

use std::path::PathBuf;

use opsml_experiment::default_store;
use opsml_experiment::{now_micros, MetricPoint, Parameter};
use opsml_experiment::{Artifacts, Experiment, PointRecord, StartOptions, Status};
use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

use crate::card::PyExperimentCard;
use crate::convert::{
    datetime_micros, metric_value, name_str, optional_int, py_str, short_repr,
    tags as extract_tags, RemotePath,
};
use crate::detach::{experiment_work, guarded, store_work};
use crate::error::{experiment_error, registry_error};
#[cfg(feature = "fault-injection")]
use crate::fault;
use crate::flatten::{fields_of, flatten};
use crate::metric::{PyMetric, PyMetrics};
use crate::parameter::{PyParameter, PyParameters};
use crate::read;
use crate::script::Notebook;

/// The running Python's version, as "3.11.7".
fn python_version(py: Python<'_>) -> String {
    let info = py.version_info();
    format!("{}.{}.{}", info.major, info.minor, info.patch)
}

#[allow(clippy::too_many_arguments)]
fn start_options(
    py: Python<'_>,
    space: Option<String>,
    name: Option<String>,
    code_dir: Option<PathBuf>,
    (log_hardware, hardware_interval): (bool, Option<f64>),
    experiment_uid: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
) -> PyResult<StartOptions> {
    let hardware_interval = hardware_interval
        .map(|seconds| {
            std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
                PyValueError::new_err(format!(
                    "hardware_interval must be a positive number of seconds, got {seconds}"
                ))
            })
        })
        .transpose()?;
    let sys = py.import("sys")?;
    let (script, script_source) = match crate::script::started_by(py)? {
        Some(file) => (Some(file), None),
        None => match crate::script::notebook(py) {
            Some(Notebook::File(file)) => (Some(file), None),
            Some(Notebook::Cells(source)) => (None, Some(source)),
            None => (None, None),
        },
    };
    let python_paths = sys
        .getattr("path")?
        .try_iter()?
        .filter_map(|entry| entry.ok()?.extract::<PathBuf>().ok())
        .filter(|path| !path.as_os_str().is_empty())
        .collect();
    Ok(StartOptions {
        space,
        name,
        tags: extract_tags(tags)?,
        experiment_uid,
        code_dir,
        log_hardware,
        hardware_interval,
        script,
        script_source,
        python_paths,
        python_version: Some(python_version(py)),
        ..StartOptions::default()
    })
}

/// A running experiment. Use it as a context manager: leaving the block
/// stores everything logged and marks the experiment completed, or failed
/// when an exception propagates (the exception is never swallowed).
#[pyclass(name = "Experiment", module = "opsml._opsml", frozen)]
pub struct PyExperiment {
    experiment: Experiment,
}

#[pymethods]
impl PyExperiment {
    /// Logs one value of a metric. Returns at once: the value is stored in the
    /// background (see `flush`).
    ///
    /// Args:
    ///     name: Metric name.
    ///     value: A number (int, float, numpy or torch scalar). NaN and inf are kept.
    ///     step: Training step.
    ///     timestamp: Your own integer timestamp.
    ///     created_at: When the value was produced (default: now).
    #[pyo3(signature = (name, value, step=None, timestamp=None, created_at=None))]
    fn log_metric(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        step: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
        created_at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = name_str("metric", name)?;
        let point = MetricPoint {
            value: metric_value(name, value)?,
            step: optional_int("step", name, step)?,
            timestamp: optional_int("timestamp", name, timestamp)?,
            created_at: match created_at {
                Some(c) if !c.is_none() => datetime_micros("created_at", c)?,
                _ => now_micros(),
            },
        };
        let logged = guarded(|| {
            #[cfg(feature = "fault-injection")]
            fault::panic_if_injected(name);
            self.experiment
                .try_log_point(name, point)
                .map_err(experiment_error)
        })?;
        if logged {
            return Ok(());
        }
        // The queue is full: wait for the writer without holding the GIL.
        experiment_work(py, || self.experiment.log_point(name, point))
    }

    /// Logs a batch of `Metric`s. The batch is checked first: a bad item
    /// rejects the whole call and logs nothing.
    fn log_metrics(&self, py: Python<'_>, metrics: &Bound<'_, PyAny>) -> PyResult<()> {
        let records = guarded(|| {
            self.experiment
                .intern_names(|names| -> PyResult<Vec<PointRecord>> {
                    let mut records = Vec::with_capacity(metrics.len().unwrap_or(0));
                    for (index, item) in metrics.try_iter()?.enumerate() {
                        let item = item?;
                        let metric = item.cast::<PyMetric>().map_err(|_| {
                            PyTypeError::new_err(format!(
                                "log_metrics takes a list of Metric; item {index} is {}",
                                short_repr(&item)
                            ))
                        })?;
                        let metric = metric.get();
                        let name_id = names
                            .id(&metric.name)
                            .map_err(|e| PyValueError::new_err(e.to_string()))?;
                        records.push(PointRecord {
                            name_id,
                            point: metric.point,
                        });
                    }
                    Ok(records)
                })
                .map_err(experiment_error)?
        })?;
        experiment_work(py, || self.experiment.log_records(&records))
    }

    /// Logs (or replaces) a parameter: None, int, float, str or bool, or a dict, list,
    /// dataclass, pydantic model or `argparse.Namespace` of them, flattened to dotted names
    /// under `name`.
    fn log_parameter(&self, name: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut batch = Vec::new();
        flatten(name_str("parameter", name)?, value, &mut batch)?;
        guarded(|| {
            self.experiment
                .log_parameters(batch)
                .map_err(experiment_error)
        })
    }

    /// Logs (or replaces) parameters from a mapping of name → value (nested mappings and lists
    /// flattened to dotted names: `optimizer.lr`, `layers.0`), a dataclass, pydantic model or
    /// `argparse.Namespace` (its fields), or a list of `Parameter`. A bad entry rejects the
    /// whole call.
    fn log_parameters(&self, parameters: &Bound<'_, PyAny>) -> PyResult<()> {
        let batch: Vec<Parameter> = if let Some(fields) = fields_of(parameters)? {
            let mut batch = Vec::new();
            for (name, value) in fields {
                flatten(&name, &value, &mut batch)?;
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(twice) = batch.iter().find(|p| !seen.insert(p.name.as_str())) {
                return Err(PyValueError::new_err(format!(
                    "parameter {:?} is given twice in one call (a dotted name and a nested one?)",
                    twice.name
                )));
            }
            batch
        } else if parameters.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "log_parameters takes a dict or a list of Parameter, got the str {}",
                short_repr(parameters)
            )));
        } else {
            parameters
                .try_iter()
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "log_parameters takes a dict or a list of Parameter, got {}",
                        short_repr(parameters)
                    ))
                })?
                .enumerate()
                .map(|(index, item)| {
                    let item = item?;
                    item.cast::<PyParameter>()
                        .map(|p| p.get().parameter.clone())
                        .map_err(|_| {
                            PyTypeError::new_err(format!(
                                "log_parameters takes a list of Parameter; item {index} is {}",
                                short_repr(&item)
                            ))
                        })
                })
                .collect::<PyResult<_>>()?
        };
        guarded(|| {
            self.experiment
                .log_parameters(batch)
                .map_err(experiment_error)
        })
    }

    /// Stores a file as an artifact at `rpath` (default: its file name). The
    /// file is streamed, compressed when it helps, and encrypted; it is never
    /// modified.
    #[pyo3(signature = (lpath, rpath=None))]
    fn log_artifact(
        &self,
        py: Python<'_>,
        lpath: PathBuf,
        rpath: Option<RemotePath>,
    ) -> PyResult<()> {
        let rpath = rpath.as_ref().map(RemotePath::as_str);
        experiment_work(py, || self.experiment.log_artifact(&lpath, rpath)).map(drop)
    }

    /// Stores a directory tree under `rpath` (default: the artifact root),
    /// keeping relative paths; many files are stored at once.
    #[pyo3(signature = (path, rpath=None))]
    fn log_artifacts(
        &self,
        py: Python<'_>,
        path: PathBuf,
        rpath: Option<RemotePath>,
    ) -> PyResult<()> {
        let rpath = rpath.as_ref().map(RemotePath::as_str);
        experiment_work(py, || self.experiment.log_artifacts(&path, rpath)).map(drop)
    }

    /// Stores an image file under `figures/` (at `figures/<rpath>`, default its file name).
    #[pyo3(signature = (lpath, rpath=None))]
    fn log_figure_from_path(
        &self,
        py: Python<'_>,
        lpath: PathBuf,
        rpath: Option<&str>,
    ) -> PyResult<()> {
        let name = Artifacts::remote_path(&lpath, rpath).map_err(registry_error)?;
        if !is_image(&name) {
            return Err(PyValueError::new_err(format!(
                "log_figure_from_path takes an image file (png, jpg, svg, pdf, ...), got {}",
                lpath.display()
            )));
        }
        let remote = format!("figures/{name}");
        experiment_work(py, || self.experiment.log_artifact(&lpath, Some(&remote))).map(drop)
    }

    /// Renders a matplotlib figure and stores it as `figures/<name>`; the
    /// format follows the name's extension (png when it has none). `kwargs`
    /// go to `figure.savefig`.
    #[pyo3(signature = (name, figure, kwargs=None))]
    fn log_figure(
        &self,
        py: Python<'_>,
        name: &str,
        figure: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if py.import("matplotlib").is_err() {
            return Err(pyo3::exceptions::PyImportError::new_err(
                "log_figure needs matplotlib, which is not installed: pip install matplotlib",
            ));
        }
        if !figure.hasattr("savefig")? {
            return Err(PyTypeError::new_err(format!(
                "log_figure takes a matplotlib figure, got {}",
                short_repr(figure)
            )));
        }
        let name = opsml_experiment::normalize_artifact_path(name)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let extension = match name.rsplit_once('.') {
            Some((_, ext)) if !ext.is_empty() && !ext.contains('/') => {
                Some(ext.to_ascii_lowercase())
            }
            _ => None,
        };
        let (name, format) = match extension {
            Some(ext) => (name, ext),
            None => (format!("{name}.png"), "png".to_owned()),
        };
        let buffer = py.import("io")?.getattr("BytesIO")?.call0()?;
        let options = PyDict::new(py);
        if let Some(kwargs) = kwargs {
            options.update(kwargs.as_mapping())?;
        }
        options.set_item("format", format)?;
        figure.call_method("savefig", (&buffer,), Some(&options))?;
        let data: Vec<u8> = buffer.call_method0("getvalue")?.extract()?;
        let remote = format!("figures/{name}");
        experiment_work(py, || self.experiment.log_bytes(&remote, &data)).map(drop)
    }

    /// Starts a child experiment, in this experiment's space unless given.
    /// Its uid is recorded in this card's `uids.experimentcard_uids`.
    #[pyo3(signature = (space=None, name=None, code_dir=None, log_hardware=false, experiment_uid=None, tags=None, hardware_interval=None))]
    #[allow(clippy::too_many_arguments)]
    fn start_experiment(
        &self,
        py: Python<'_>,
        space: Option<String>,
        name: Option<String>,
        code_dir: Option<PathBuf>,
        log_hardware: bool,
        experiment_uid: Option<String>,
        tags: Option<&Bound<'_, PyAny>>,
        hardware_interval: Option<f64>,
    ) -> PyResult<Self> {
        let options = start_options(
            py,
            space,
            name,
            code_dir,
            (log_hardware, hardware_interval),
            experiment_uid,
            tags,
        )?;
        let child = experiment_work(py, || self.experiment.start_child(options))?;
        Ok(Self { experiment: child })
    }

    /// The experiment's card (a snapshot).
    #[getter]
    fn card(&self, py: Python<'_>) -> PyResult<PyExperimentCard> {
        let store = experiment_work(py, || self.experiment.store())?;
        Ok(PyExperimentCard {
            card: self.experiment.card(),
            store,
            of_running_experiment: true,
        })
    }

    /// Adds tags to the experiment's card (in the store, at once); one it has is kept once.
    #[pyo3(signature = (*tags))]
    fn add_tags(&self, py: Python<'_>, tags: &Bound<'_, PyTuple>) -> PyResult<()> {
        let tags = extract_tags(Some(tags.as_any()))?;
        experiment_work(py, || self.experiment.add_tags(&tags))
    }

    /// Sets what the run is for, shown with its card (an empty text removes it). Stored at
    /// once; needs the store to answer.
    fn set_description(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        experiment_work(py, || self.experiment.set_description(text))
    }

    /// Records final evaluation results (an `EvalMetrics` or a dict of names to numbers),
    /// kept on the card apart from the metrics logged over steps; a name given again takes
    /// the new value. Stored at once; needs the store to answer.
    fn log_eval_metrics(&self, py: Python<'_>, metrics: &Bound<'_, PyAny>) -> PyResult<()> {
        let metrics = crate::eval_metrics::eval_metrics_from(metrics)?;
        experiment_work(py, || self.experiment.log_eval_metrics(&metrics))
    }

    /// The experiment's uid.
    #[getter]
    fn uid(&self) -> &str {
        self.experiment.uid()
    }

    /// Waits until everything logged so far is stored.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        experiment_work(py, || self.experiment.flush())
    }

    /// Stores everything logged and ends the experiment ("completed" unless
    /// another status is given). Ending twice does nothing.
    #[pyo3(signature = (status="completed"))]
    fn end(&self, py: Python<'_>, status: &str) -> PyResult<()> {
        let status: Status = status
            .parse()
            .map_err(|e: opsml_experiment::TypesError| PyValueError::new_err(e.to_string()))?;
        experiment_work(py, || self.experiment.end(status))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Ends the experiment: completed, failed on an exception, killed on
    /// KeyboardInterrupt; `sys.exit(0)` completes it. Never swallows the exception.
    #[pyo3(signature = (exc_type=None, exc_value=None, _traceback=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let status = match exc_type {
            None => Status::Completed,
            Some(t) if t.is_subclass_of::<PyKeyboardInterrupt>()? => Status::Killed,
            Some(t) if t.is_subclass_of::<PySystemExit>()? => {
                let code = exc_value.map(|e| e.getattr("code")).transpose()?;
                let success = code
                    .is_none_or(|c| c.is_none() || c.extract::<i64>().is_ok_and(|code| code == 0));
                if success {
                    Status::Completed
                } else {
                    Status::Failed
                }
            }
            Some(_) => Status::Failed,
        };
        let ended = experiment_work(py, || self.experiment.end(status));
        match (ended, exc_type) {
            // The block's own exception matters more than a failure to store.
            (Err(err), Some(_)) => {
                err.print(py);
                Ok(false)
            }
            (Err(err), None) => Err(err),
            (Ok(()), _) => Ok(false),
        }
    }

    fn __repr__(&self) -> String {
        let card = self.experiment.card();
        format!(
            "Experiment(space={}, name={}, version={}, uid={}, status={})",
            py_str(&card.space),
            py_str(&card.name),
            py_str(&card.version.to_string()),
            py_str(&card.uid),
            py_str(card.status.as_str())
        )
    }
}

/// Starts an experiment (or resumes one with `experiment_uid`). Use it in a
/// `with` block.
///
/// Args:
///     space: Space (project); default "default".
///     name: Experiment name; a readable random name if omitted.
///     code_dir: Directory stored under `code/` (honouring .gitignore);
///         without it, the running script is stored.
///     log_hardware: Sample CPU, memory, disk, network and NVIDIA GPUs in
///         the background (see get_experiment_hardware_metrics).
///     experiment_uid: Resume this experiment instead of creating one.
///     tags: List of tags.
///     hardware_interval: Seconds between hardware samples (default 5, or
///         OPSML_HARDWARE_INTERVAL; at least 0.1).
#[pyfunction]
#[pyo3(signature = (space=None, name=None, code_dir=None, log_hardware=false, experiment_uid=None, tags=None, hardware_interval=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_experiment(
    py: Python<'_>,
    space: Option<String>,
    name: Option<String>,
    code_dir: Option<PathBuf>,
    log_hardware: bool,
    experiment_uid: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
    hardware_interval: Option<f64>,
) -> PyResult<PyExperiment> {
    let options = start_options(
        py,
        space,
        name,
        code_dir,
        (log_hardware, hardware_interval),
        experiment_uid,
        tags,
    )?;
    install_signal_handlers(py)?;
    let experiment = experiment_work(py, || Experiment::start(options))?;
    Ok(PyExperiment { experiment })
}

/// Installs the SIGTERM handler of the Python package, once per process, at
/// the first experiment rather than at import.
fn install_signal_handlers(py: Python<'_>) -> PyResult<()> {
    static INSTALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if INSTALLED.swap(true, std::sync::atomic::Ordering::AcqRel) {
        return Ok(());
    }
    py.import("opsml")?
        .getattr("_install_signal_handlers")?
        .call0()
        .map(drop)
}

/// Whether a file name is that of an image format.
fn is_image(name: &str) -> bool {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        extension.as_deref(),
        Some(
            "png"
                | "jpg"
                | "jpeg"
                | "gif"
                | "svg"
                | "pdf"
                | "webp"
                | "bmp"
                | "tif"
                | "tiff"
                | "eps"
        )
    )
}

/// Restores one artifact of experiment `experiment_uid` (exactly `path`),
/// verified, to `lpath` (a directory or file name; default `./artifacts/<path>`).
#[pyfunction]
#[pyo3(signature = (experiment_uid, path, lpath=None))]
pub(crate) fn download_artifact(
    py: Python<'_>,
    experiment_uid: &str,
    path: RemotePath,
    lpath: Option<PathBuf>,
) -> PyResult<PathBuf> {
    let store = store_work(py, default_store)?;
    crate::card::download_one(py, &store, experiment_uid, path.as_str(), lpath)
}

/// Metric points of experiment `uid` (or of the named metrics), ordered by
/// (name, step, insertion); optionally only steps in `[start, stop)` and at
/// most `max_points` per metric (LTTB, first and last kept).
#[pyfunction]
#[pyo3(signature = (uid, names=None, steps=None, max_points=None))]
pub(crate) fn get_experiment_metrics(
    py: Python<'_>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
    steps: Option<&Bound<'_, PyAny>>,
    max_points: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyMetrics> {
    let selection = read::selection(steps, max_points)?;
    let store = store_work(py, default_store)?;
    read::metrics(py, &store, uid, names, &selection)
}

/// The parameters of experiment `uid` (or the named ones), with their Python types.
#[pyfunction]
#[pyo3(signature = (uid, names=None))]
pub(crate) fn get_experiment_parameters(
    py: Python<'_>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyParameters> {
    let store = store_work(py, default_store)?;
    read::parameters(py, &store, uid, names)
}

/// The hardware samples of experiment `uid` (taken with `log_hardware=True`),
/// in the order taken.
#[pyfunction]
pub(crate) fn get_experiment_hardware_metrics(
    py: Python<'_>,
    uid: &str,
) -> PyResult<crate::hardware_table::PyHardwareSamples> {
    let store = store_work(py, default_store)?;
    crate::hardware::read(py, &store, uid)
}

/// Called right before a fork: waits until no thread is inside SQLite.
#[pyfunction]
pub(crate) fn _before_fork(py: Python<'_>) {
    py.detach(opsml_experiment::before_fork);
}

/// Called in the parent right after a fork.
#[pyfunction]
pub(crate) fn _after_fork_in_parent() {
    opsml_experiment::after_fork_in_parent();
}

/// Called in a child process right after a fork: the child gets its own
/// runtime and store connections and leaves the parent's experiments alone.
#[pyfunction]
pub(crate) fn _after_fork_in_child() {
    opsml_experiment::after_fork_in_child();
    crate::logging::after_fork_in_child();
}

/// Tasks alive on the background runtime (writers, samplers): for tests
/// that check nothing is left running.
#[pyfunction]
pub(crate) fn _runtime_alive_tasks() -> usize {
    opsml_experiment::runtime().metrics().num_alive_tasks()
}

/// Ends every experiment still running with `status`, storing what they
/// logged; run at interpreter exit.
#[pyfunction]
#[pyo3(signature = (status="completed"))]
pub(crate) fn _end_running_experiments(py: Python<'_>, status: &str) -> PyResult<()> {
    let status: Status = status
        .parse()
        .map_err(|e: opsml_experiment::TypesError| PyValueError::new_err(e.to_string()))?;
    for error in py.detach(|| opsml_experiment::end_all_running(status)) {
        experiment_error(error).print(py);
    }
    Ok(())
}
