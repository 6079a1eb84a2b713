//! `plot_metrics` and `write_report`: charts drawn in Rust, no matplotlib needed.

use std::path::PathBuf;

use opsml_experiment::default_store;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::optional_names;
use crate::detach::{experiment_work, store_work};

/// Draws the metrics of experiments `uids` (all metrics, or `names`): one
/// panel per metric, one line per experiment labelled `name:version`.
/// Writes a PNG or an SVG by the extension of `path`; returns the path.
#[pyfunction]
#[pyo3(
    signature = (uids, names=None, path=PathBuf::from("metrics.png")),
    text_signature = "(uids, names=None, path='metrics.png')"
)]
pub(crate) fn plot_metrics(
    py: Python<'_>,
    uids: Vec<String>,
    names: Option<&Bound<'_, PyAny>>,
    path: PathBuf,
) -> PyResult<PathBuf> {
    if uids.is_empty() {
        return Err(PyValueError::new_err(
            "plot_metrics needs at least one experiment uid",
        ));
    }
    let names = optional_names(names)?;
    let store = store_work(py, default_store)?;
    let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
    experiment_work(py, || {
        opsml_experiment::plot_metrics(store.as_ref(), &uids, names.as_deref(), &path)
    })?;
    Ok(path)
}

/// Writes one self-contained HTML report (no network needed to view it) of
/// experiments `uids`: card details, parameters, metric summaries, a chart of
/// every metric and of the hardware series, and the artifact list. Returns
/// the path.
#[pyfunction]
#[pyo3(
    signature = (uids, path=PathBuf::from("report.html")),
    text_signature = "(uids, path='report.html')"
)]
pub(crate) fn write_report(py: Python<'_>, uids: Vec<String>, path: PathBuf) -> PyResult<PathBuf> {
    if uids.is_empty() {
        return Err(PyValueError::new_err(
            "write_report needs at least one experiment uid",
        ));
    }
    let store = store_work(py, default_store)?;
    let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
    experiment_work(py, || {
        opsml_experiment::write_report(store.as_ref(), &uids, &path)
    })?;
    Ok(path)
}
