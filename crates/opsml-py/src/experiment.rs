//! `Experiment`, `start_experiment` and the module-level read functions.

use std::path::PathBuf;

use opsml_experiment::{Experiment, PointRecord, StartOptions, Status};
use opsml_registry::default_store;
use opsml_types::{now_micros, MetricPoint, Parameter};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyType};

use crate::card::PyExperimentCard;
use crate::convert::{
    datetime_micros, metric_value, name_str, optional_int, py_str, short_repr, tags as extract_tags,
};
use crate::detach::{experiment_work, store_work};
use crate::error::experiment_error;
use crate::metric::{PyMetric, PyMetrics};
use crate::parameter::{PyParameter, PyParameters};
use crate::read;

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
    log_hardware: bool,
    experiment_uid: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
) -> PyResult<StartOptions> {
    Ok(StartOptions {
        space,
        name,
        tags: extract_tags(tags)?,
        experiment_uid,
        code_dir,
        log_hardware,
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
        if self
            .experiment
            .try_log_point(name, point)
            .map_err(experiment_error)?
        {
            return Ok(());
        }
        // The queue is full: wait for the writer without holding the GIL.
        experiment_work(py, || self.experiment.log_point(name, point))
    }

    /// Logs a batch of `Metric`s. The batch is checked first: a bad item
    /// rejects the whole call and logs nothing.
    fn log_metrics(&self, py: Python<'_>, metrics: &Bound<'_, PyAny>) -> PyResult<()> {
        let records = self
            .experiment
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
            })?;
        experiment_work(py, || self.experiment.log_records(&records))
    }

    /// Logs (or replaces) a parameter: int, float, str or bool.
    fn log_parameter(&self, name: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let parameter = PyParameter::build(name, value)?;
        self.experiment
            .log_parameters(vec![parameter])
            .map_err(experiment_error)
    }

    /// Logs (or replaces) parameters from a dict of name → value or a list of
    /// `Parameter`. A bad entry rejects the whole call.
    fn log_parameters(&self, parameters: &Bound<'_, PyAny>) -> PyResult<()> {
        let batch: Vec<Parameter> = if let Ok(dict) = parameters.cast::<PyDict>() {
            dict.iter()
                .map(|(name, value)| PyParameter::build(&name, &value))
                .collect::<PyResult<_>>()?
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
        self.experiment
            .log_parameters(batch)
            .map_err(experiment_error)
    }

    /// Starts a child experiment, in this experiment's space unless given.
    /// Its uid is recorded in this card's `uids.experimentcard_uids`.
    #[pyo3(signature = (space=None, name=None, code_dir=None, log_hardware=false, experiment_uid=None, tags=None))]
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
    ) -> PyResult<Self> {
        let options = start_options(
            py,
            space,
            name,
            code_dir,
            log_hardware,
            experiment_uid,
            tags,
        )?;
        let child = experiment_work(py, || self.experiment.start_child(options))?;
        Ok(Self { experiment: child })
    }

    /// The experiment's card (a snapshot).
    #[getter]
    fn card(&self) -> PyExperimentCard {
        PyExperimentCard {
            card: self.experiment.card(),
            store: self.experiment.store().clone(),
        }
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
            .map_err(|e: opsml_types::TypesError| PyValueError::new_err(e.to_string()))?;
        experiment_work(py, || self.experiment.end(status))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Ends the experiment: completed, failed on an exception, killed on
    /// KeyboardInterrupt. Never swallows the exception.
    #[pyo3(signature = (exc_type=None, _exc_value=None, _traceback=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let status = match exc_type {
            None => Status::Completed,
            Some(t) if t.is_subclass_of::<PyKeyboardInterrupt>()? => Status::Killed,
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
///     code_dir: Directory of code to capture (not available yet).
///     log_hardware: Sample hardware usage (not available yet).
///     experiment_uid: Resume this experiment instead of creating one.
///     tags: List of tags.
#[pyfunction]
#[pyo3(signature = (space=None, name=None, code_dir=None, log_hardware=false, experiment_uid=None, tags=None))]
pub fn start_experiment(
    py: Python<'_>,
    space: Option<String>,
    name: Option<String>,
    code_dir: Option<PathBuf>,
    log_hardware: bool,
    experiment_uid: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyExperiment> {
    let options = start_options(
        py,
        space,
        name,
        code_dir,
        log_hardware,
        experiment_uid,
        tags,
    )?;
    let experiment = experiment_work(py, || Experiment::start(options))?;
    Ok(PyExperiment { experiment })
}

/// Every metric point of experiment `uid` (or of the named metrics), ordered
/// by (name, step, insertion).
#[pyfunction]
#[pyo3(signature = (uid, names=None))]
pub fn get_experiment_metrics(
    py: Python<'_>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyMetrics> {
    let store = store_work(py, default_store)?;
    read::metrics(py, &store, uid, names)
}

/// The parameters of experiment `uid` (or the named ones), with their Python types.
#[pyfunction]
#[pyo3(signature = (uid, names=None))]
pub fn get_experiment_parameters(
    py: Python<'_>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyParameters> {
    let store = store_work(py, default_store)?;
    read::parameters(py, &store, uid, names)
}

/// Ends every experiment still running with `status`, storing what they
/// logged; run at interpreter exit.
#[pyfunction]
#[pyo3(signature = (status="completed"))]
pub fn _end_running_experiments(py: Python<'_>, status: &str) -> PyResult<()> {
    let status: Status = status
        .parse()
        .map_err(|e: opsml_types::TypesError| PyValueError::new_err(e.to_string()))?;
    for error in py.detach(|| opsml_experiment::end_all_running(status)) {
        experiment_error(error).print(py);
    }
    Ok(())
}
