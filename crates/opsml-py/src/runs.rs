//! `opsml.runs()`: the runs matching a filter as one data frame, a row a run, with a column
//! per card field, parameter and metric statistic, read in one query of the store.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use opsml_experiment::{default_store, CardRecord, RunTable};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::columnar::{import_optional, pandas_frame, STREAM_CAPSULE};
use crate::detach::{experiment_work, store_work};
use crate::search::search_query;

/// Most runs one call reads, and its default.
const MAX_RUNS: usize = 10_000;

/// The runs as Arrow, for the data frame libraries (the PyCapsule stream interface).
#[pyclass(name = "_RunsBatch", module = "opsml._opsml", frozen)]
pub struct PyRunsBatch {
    batch: RecordBatch,
}

#[pymethods]
impl PyRunsBatch {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; a consumer asking for another one casts what it gets.
        let _ = requested_schema;
        let reader = RecordBatchIterator::new([Ok(self.batch.clone())], self.batch.schema());
        PyCapsule::new_with_value(
            py,
            FFI_ArrowArrayStream::new(Box::new(reader)),
            STREAM_CAPSULE,
        )
    }
}

/// One row per experiment matching `filter` (the language of `search_experiments`), newest
/// first after `order_by`: `uid`, `space`, `name`, `version`, `status`, `created_at`,
/// `ended_at`, `username`, `tags`, `parent_uid`, then `params.<name>` for every parameter and
/// `metrics.<name>.<stat>` (last, min, max, mean, last_step, count) for every metric. A run
/// without a parameter or metric has an empty cell there. `output` is "pandas" (default; integer
/// columns as nullable `Int64`), "polars" or "arrow" (a `pyarrow.Table`).
#[pyfunction]
#[pyo3(signature = (filter=None, space=None, order_by=None, limit=10000, output="pandas"))]
pub(crate) fn runs<'py>(
    py: Python<'py>,
    filter: Option<&str>,
    space: Option<String>,
    order_by: Option<&Bound<'py, PyAny>>,
    limit: usize,
    output: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if !(1..=MAX_RUNS).contains(&limit) {
        return Err(PyValueError::new_err(format!(
            "limit {limit} is out of range: give 1 to {MAX_RUNS}"
        )));
    }
    if !["pandas", "polars", "arrow"].contains(&output) {
        return Err(PyValueError::new_err(format!(
            "output {output:?} is not one of \"pandas\", \"polars\", \"arrow\""
        )));
    }
    let query = search_query(filter, space, order_by, limit)?;
    let store = store_work(py, default_store)?;
    let table = experiment_work(py, || opsml_experiment::runs_table(store.as_ref(), &query))?;
    frame(py, &table, output)
}

/// The cards of a listing as a data frame, with their parameters and metric statistics.
pub(crate) fn cards_frame<'py>(
    py: Python<'py>,
    records: &[CardRecord],
    output: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let store = store_work(py, default_store)?;
    let table = experiment_work(py, || {
        opsml_experiment::cards_table(store.as_ref(), records.to_vec())
    })?;
    frame(py, &table, output)
}

/// `table` as a pandas (integer columns nullable `Int64`) or polars data frame, or a pyarrow
/// table.
fn frame<'py>(py: Python<'py>, table: &RunTable, output: &str) -> PyResult<Bound<'py, PyAny>> {
    let batch = opsml_experiment::runs_batch(table)
        .map_err(|e| PyValueError::new_err(format!("exporting the runs to Arrow failed: {e}")))?;
    let batch = Bound::new(py, PyRunsBatch { batch })?;
    match output {
        "polars" => import_optional(py, "polars", "a polars frame of runs")?
            .call_method1("DataFrame", (batch,)),
        "arrow" => import_optional(py, "pyarrow", "an Arrow table of runs")?
            .call_method1("table", (batch,)),
        // Integer columns stay integers where a run lacks the value.
        _ => pandas_frame(batch.as_any(), "a pandas frame of runs"),
    }
}
