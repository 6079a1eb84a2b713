//! Running blocking work without the GIL.

use pyo3::prelude::*;

use crate::error::{experiment_error, registry_error};

/// Runs experiment work (flushing, ending, reading, waiting for queue room)
/// with the GIL released, so that other Python threads keep running.
pub(crate) fn experiment_work<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> opsml_experiment::Result<T> + Send,
) -> PyResult<T> {
    py.detach(work).map_err(experiment_error)
}

/// Runs store work with the GIL released.
pub(crate) fn store_work<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> opsml_registry::Result<T> + Send,
) -> PyResult<T> {
    py.detach(work).map_err(registry_error)
}
