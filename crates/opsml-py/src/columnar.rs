//! Metrics as columns: one Arrow record batch handed over through the Arrow PyCapsule
//! interface (`__arrow_c_stream__`), which pyarrow, pandas (through pyarrow) and polars read
//! without converting point by point, and numpy arrays of one metric.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::RecordBatchIterator;
use opsml_experiment::{metric_schema, MetricTable};
use pyo3::exceptions::{PyImportError, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyCapsule, PyDict, PyTuple};

/// Name of the capsule the Arrow C stream interface expects.
pub(crate) const STREAM_CAPSULE: &std::ffi::CStr = c"arrow_array_stream";

/// `__arrow_c_stream__`: a capsule holding a stream of one record batch.
pub(crate) fn arrow_stream<'py>(
    py: Python<'py>,
    table: &MetricTable,
) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new([Ok(table.batch())], metric_schema());
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
}

/// A pandas DataFrame of the Arrow stream `source` (anything with `__arrow_c_stream__`),
/// integer columns as pandas' nullable `Int64`: pyarrow would make one with a missing value
/// float64. Needs pandas and pyarrow.
pub(crate) fn pandas_frame<'py>(
    source: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let py = source.py();
    let pandas = import_optional(py, "pandas", what)?;
    let pyarrow = import_optional(py, "pyarrow", what)?;
    let nullable = PyDict::new(py);
    nullable.set_item(
        pyarrow.call_method0("int64")?,
        pandas.call_method0("Int64Dtype")?,
    )?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("types_mapper", nullable.getattr("get")?)?;
    pyarrow
        .call_method1("table", (source,))?
        .call_method("to_pandas", (), Some(&kwargs))
}

/// Imports an optional package, or says which one to install for `what`.
pub(crate) fn import_optional<'py>(
    py: Python<'py>,
    package: &str,
    what: &str,
) -> PyResult<Bound<'py, PyModule>> {
    py.import(package).map_err(|_| {
        PyImportError::new_err(format!("{what} needs {package}: pip install {package}"))
    })
}

/// Steps and values of metric `name` as numpy arrays: steps as int64, or as float64 with NaN
/// where a point has no step; values as float64.
pub(crate) fn numpy_arrays<'py>(
    py: Python<'py>,
    table: &MetricTable,
    name: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let numpy = import_optional(py, "numpy", "Metrics.to_numpy")?;
    let id = table
        .names()
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| PyKeyError::new_err(format!("no metric named {name:?} in these points")))?;
    #[allow(clippy::expect_used, reason = "fewer names than u32::MAX")]
    let id = u32::try_from(id).expect("fewer names than u32::MAX");
    let points: Vec<usize> = (0..table.len())
        .filter(|&i| table.name_ids()[i] == id)
        .collect();
    let values: Vec<u8> = points
        .iter()
        .flat_map(|&i| table.values()[i].to_ne_bytes())
        .collect();
    let steps: Vec<u8> = points
        .iter()
        .flat_map(|&i| table.step(i).unwrap_or_default().to_ne_bytes())
        .collect();
    // numpy views the bytearray's memory: one copy, and the array is writable.
    let array = |bytes: Vec<u8>, dtype: &str| -> PyResult<Bound<'py, PyAny>> {
        numpy.call_method1("frombuffer", (PyByteArray::new(py, &bytes), dtype))
    };
    let mut steps = array(steps, "int64")?;
    if points.iter().any(|&i| table.step(i).is_none()) {
        // Integers stay integers: a point without a step is masked, not a float NaN.
        let missing: Vec<bool> = points.iter().map(|&i| table.step(i).is_none()).collect();
        let kwargs = PyDict::new(py);
        kwargs.set_item("mask", missing)?;
        steps = numpy
            .getattr("ma")?
            .call_method("MaskedArray", (steps,), Some(&kwargs))?;
    }
    PyTuple::new(py, [steps, array(values, "float64")?])
}
