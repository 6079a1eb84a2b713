//! Reading metrics and parameters back, shared by the module functions and cards.

use std::sync::Arc;

use opsml_experiment::{Store, StoreError};
use pyo3::prelude::*;

use opsml_experiment::{ExperimentError, MetricTable, PointSelection};
use pyo3::exceptions::{PyTypeError, PyValueError};

use crate::convert::{optional_names, short_repr};
use crate::detach::experiment_work;
use crate::metric::PyMetrics;
use crate::parameter::PyParameters;

pub(crate) fn metrics(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
    selection: &PointSelection,
) -> PyResult<PyMetrics> {
    let names = optional_names(names)?;
    let table = experiment_work(py, || {
        let columns =
            opsml_experiment::get_experiment_metrics(store.as_ref(), uid, names.as_deref())?;
        let columns = opsml_experiment::select_points(columns, selection);
        MetricTable::new(columns).map_err(|e| {
            ExperimentError::from(StoreError::Corrupt(format!(
                "metric points of experiment {uid}: {e}"
            )))
        })
    })?;
    Ok(PyMetrics { table })
}

/// The `steps=(start, stop)` and `max_points=N` arguments of a metrics read.
pub(crate) fn selection(
    steps: Option<&Bound<'_, PyAny>>,
    max_points: Option<&Bound<'_, PyAny>>,
) -> PyResult<PointSelection> {
    let steps = match steps.filter(|s| !s.is_none()) {
        None => None,
        Some(value) => {
            let (start, stop): (i64, i64) = value.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "steps must be a (start, stop) pair of ints, got {}",
                    short_repr(value)
                ))
            })?;
            if start > stop {
                return Err(PyValueError::new_err(format!(
                    "steps=({start}, {stop}): start is after stop"
                )));
            }
            Some((start, stop))
        }
    };
    let max_points = match max_points.filter(|m| !m.is_none()) {
        None => None,
        Some(value) => {
            let max: i64 = value.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "max_points must be an int, got {}",
                    short_repr(value)
                ))
            })?;
            if max < 2 {
                return Err(PyValueError::new_err(format!(
                    "max_points={max}: at least 2 points (the first and the last) are kept"
                )));
            }
            Some(usize::try_from(max).unwrap_or(usize::MAX))
        }
    };
    Ok(PointSelection { steps, max_points })
}

pub(crate) fn parameters(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyParameters> {
    let names = optional_names(names)?;
    let parameters = experiment_work(py, || {
        opsml_experiment::get_experiment_parameters(store.as_ref(), uid, names.as_deref())
    })?;
    Ok(PyParameters { parameters })
}
