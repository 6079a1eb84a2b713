//! `HardwareSamples`: the hardware samples of an experiment as a sequence of
//! `HardwareMetrics`, and as columns (Arrow, pandas, polars) with one column per field and,
//! for GPUs, per device.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::RecordBatchIterator;
use opsml_experiment::hardware_batch;
use opsml_experiment::HardwareSample;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PySlice};

use crate::columnar::{import_optional, STREAM_CAPSULE};
use crate::hardware::PyHardwareMetrics;

/// Hardware samples in the order taken: a sequence of `HardwareMetrics` that
/// also converts to columns (`to_arrow`, `to_pandas`, `to_polars`).
#[pyclass(name = "HardwareSamples", module = "opsml._opsml", frozen, sequence)]
pub struct PyHardwareSamples {
    pub(crate) samples: Vec<HardwareSample>,
}

impl PyHardwareSamples {
    fn item(&self, index: usize) -> PyHardwareMetrics {
        PyHardwareMetrics {
            sample: self.samples[index].clone(),
        }
    }
}

#[pymethods]
impl PyHardwareSamples {
    fn __len__(&self) -> usize {
        self.samples.len()
    }

    #[allow(clippy::expect_used, reason = "slice indices are in range")]
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let indices =
                slice.indices(isize::try_from(self.samples.len()).unwrap_or(isize::MAX))?;
            let mut items = Vec::new();
            let mut i = indices.start;
            for _ in 0..indices.slicelength {
                items.push(self.item(usize::try_from(i).expect("slice indices are in range")));
                i += indices.step;
            }
            return Ok(PyList::new(py, items)?.into_any());
        }
        let index: isize = key.extract()?;
        let len = isize::try_from(self.samples.len()).unwrap_or(isize::MAX);
        let resolved = if index < 0 { index + len } else { index };
        if !(0..len).contains(&resolved) {
            return Err(PyIndexError::new_err(format!(
                "hardware sample index {index} out of range for {len} samples"
            )));
        }
        Ok(Bound::new(py, self.item(resolved.unsigned_abs()))?.into_any())
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items: Vec<PyHardwareMetrics> = (0..self.samples.len()).map(|i| self.item(i)).collect();
        PyList::new(py, items)?.try_iter().map(Bound::into_any)
    }

    /// Equal to another `HardwareSamples` or a list of `HardwareMetrics` with the same samples.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        if let Ok(other) = other.cast::<PyHardwareSamples>() {
            return self.samples == other.get().samples;
        }
        let Ok(list) = other.cast::<PyList>() else {
            return false;
        };
        if list.len() != self.samples.len() {
            return false;
        }
        for (item, sample) in list.iter().zip(&self.samples) {
            match item.cast::<PyHardwareMetrics>() {
                Ok(metrics) if &metrics.get().sample == sample => {}
                _ => return false,
            }
        }
        true
    }

    /// The samples as a `pyarrow.Table`: timestamp, host and process columns,
    /// and `gpu<index>_...` columns per device. Needs pyarrow.
    fn to_arrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        import_optional(slf.py(), "pyarrow", "HardwareSamples.to_arrow")?
            .call_method1("table", (slf,))
    }

    /// The samples as a `pandas.DataFrame`. Needs pandas and pyarrow.
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        import_optional(slf.py(), "pandas", "HardwareSamples.to_pandas")?;
        Self::to_arrow(slf)?.call_method0("to_pandas")
    }

    /// The samples as a `polars.DataFrame`. Needs polars.
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        import_optional(slf.py(), "polars", "HardwareSamples.to_polars")?
            .call_method1("DataFrame", (slf,))
    }

    /// The Arrow PyCapsule stream interface (see `Metrics.__arrow_c_stream__`).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; a consumer asking for another one casts what it gets.
        let _ = requested_schema;
        let batch = hardware_batch(&self.samples).map_err(|e| {
            PyValueError::new_err(format!("exporting hardware samples to Arrow failed: {e}"))
        })?;
        let schema = batch.schema();
        let reader = RecordBatchIterator::new([Ok(batch)], schema);
        PyCapsule::new_with_value(
            py,
            FFI_ArrowArrayStream::new(Box::new(reader)),
            STREAM_CAPSULE,
        )
    }

    fn __repr__(&self) -> String {
        format!("HardwareSamples({} samples)", self.samples.len())
    }
}
