//! Running blocking work without the GIL, and without letting a Rust panic
//! escape as anything but an `OpsmlError`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;

use crate::error::{experiment_error, registry_error, OpsmlError};

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_owned())
}

/// Runs `work` with the GIL released; a panic becomes an `OpsmlError`.
fn detached<T: Send, E: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, E> + Send,
    convert: impl FnOnce(E) -> PyErr,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(result) => result.map_err(convert),
        Err(payload) => Err(internal_error(payload.as_ref())),
    }
}

fn internal_error(payload: &(dyn std::any::Any + Send)) -> PyErr {
    OpsmlError::new_err(format!(
        "internal error in opsml: {}; nothing logged before this call is lost",
        panic_message(payload)
    ))
}

/// Runs quick work with the GIL held (the logging fast path), so that a Rust panic reaches
/// Python as an `OpsmlError` like everywhere else, not as a `PanicException`.
pub(crate) fn guarded<T>(work: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(internal_error(payload.as_ref())))
}

/// Runs experiment work (flushing, ending, reading, waiting for queue room)
/// with the GIL released, so that other Python threads keep running.
pub(crate) fn experiment_work<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> opsml_experiment::Result<T> + Send,
) -> PyResult<T> {
    detached(py, work, experiment_error)
}

/// Runs store work with the GIL released.
pub(crate) fn store_work<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, opsml_experiment::RegistryError> + Send,
) -> PyResult<T> {
    detached(py, work, registry_error)
}
