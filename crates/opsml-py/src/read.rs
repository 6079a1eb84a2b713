//! Reading metrics and parameters back, shared by the module functions and cards.

use std::sync::Arc;

use opsml_registry::Store;
use pyo3::prelude::*;

use crate::convert::optional_names;
use crate::detach::experiment_work;
use crate::metric::PyMetrics;
use crate::parameter::PyParameters;

pub(crate) fn metrics(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
    names: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyMetrics> {
    let names = optional_names(names)?;
    let columns = experiment_work(py, || {
        opsml_experiment::get_experiment_metrics(store.as_ref(), uid, names.as_deref())
    })?;
    Ok(PyMetrics { columns })
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
