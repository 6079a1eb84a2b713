//! `HardwareSamples`: the hardware samples of an experiment as a sequence of
//! `HardwareMetrics`, and as columns (Arrow, pandas, polars) with one column per field and,
//! for GPUs, per device.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, RecordBatchIterator, TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use opsml_types::{GpuSample, HardwareSample};
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

/// A column of optional integers (bytes, counts) as Int64.
fn ints(samples: &[HardwareSample], field: impl Fn(&HardwareSample) -> Option<u64>) -> ArrayRef {
    Arc::new(
        samples
            .iter()
            .map(|s| field(s).map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
            .collect::<Int64Array>(),
    )
}

/// A column of optional numbers (percentages, rates) as Float64.
fn floats(samples: &[HardwareSample], field: impl Fn(&HardwareSample) -> Option<f64>) -> ArrayRef {
    Arc::new(samples.iter().map(field).collect::<Float64Array>())
}

fn gpu(sample: &HardwareSample, index: u32) -> Option<&GpuSample> {
    sample.gpus.iter().find(|g| g.index == index)
}

/// Five columns per GPU index seen in any sample (`gpu<index>_...`, null where a sample lacks
/// the device).
fn gpu_columns(samples: &[HardwareSample], columns: &mut Vec<(String, ArrayRef)>) {
    let gpus: BTreeSet<u32> = samples
        .iter()
        .flat_map(|s| s.gpus.iter().map(|g| g.index))
        .collect();
    for index in gpus {
        let per_gpu: [(&str, ArrayRef); 5] = [
            (
                "utilization_percent",
                floats(samples, |s| {
                    gpu(s, index).and_then(|g| g.utilization_percent.map(f64::from))
                }),
            ),
            (
                "memory_used_bytes",
                ints(samples, |s| gpu(s, index).and_then(|g| g.memory_used_bytes)),
            ),
            (
                "process_memory_bytes",
                ints(samples, |s| {
                    gpu(s, index).and_then(|g| g.process_memory_bytes)
                }),
            ),
            (
                "temperature_celsius",
                floats(samples, |s| {
                    gpu(s, index).and_then(|g| g.temperature_celsius.map(f64::from))
                }),
            ),
            (
                "power_watts",
                floats(samples, |s| gpu(s, index).and_then(|g| g.power_watts)),
            ),
        ];
        for (name, array) in per_gpu {
            columns.push((format!("gpu{index}_{name}"), array));
        }
    }
}

/// The samples as one record batch: fixed host and process columns, then the GPU columns.
fn record_batch(samples: &[HardwareSample]) -> Result<RecordBatch, ArrowError> {
    let mut columns: Vec<(String, ArrayRef)> = Vec::new();
    let mut push = |name: &str, array: ArrayRef| columns.push((name.to_owned(), array));
    push(
        "timestamp",
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(samples.iter().map(|s| s.timestamp))
                .with_timezone("UTC"),
        ),
    );
    push(
        "cpu_percent",
        floats(samples, |s| s.cpu_percent.map(f64::from)),
    );
    push("memory_used_bytes", ints(samples, |s| s.memory_used_bytes));
    push(
        "memory_available_bytes",
        ints(samples, |s| s.memory_available_bytes),
    );
    push(
        "memory_total_bytes",
        ints(samples, |s| s.memory_total_bytes),
    );
    push("swap_used_bytes", ints(samples, |s| s.swap_used_bytes));
    push(
        "process_cpu_percent",
        floats(samples, |s| {
            s.process.as_ref().map(|p| f64::from(p.cpu_percent))
        }),
    );
    push(
        "process_rss_bytes",
        ints(samples, |s| s.process.as_ref().map(|p| p.rss_bytes)),
    );
    push(
        "process_threads",
        ints(samples, |s| s.process.as_ref().map(|p| p.threads)),
    );
    push(
        "process_count",
        ints(samples, |s| {
            s.process.as_ref().map(|p| u64::from(p.processes))
        }),
    );
    push(
        "disk_read_bytes",
        ints(samples, |s| s.disk.as_ref().map(|d| d.read_bytes)),
    );
    push(
        "disk_write_bytes",
        ints(samples, |s| s.disk.as_ref().map(|d| d.write_bytes)),
    );
    push(
        "network_received_bytes",
        ints(samples, |s| s.network.as_ref().map(|n| n.read_bytes)),
    );
    push(
        "network_sent_bytes",
        ints(samples, |s| s.network.as_ref().map(|n| n.write_bytes)),
    );
    gpu_columns(samples, &mut columns);
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| {
            let nullable = name != "timestamp";
            let data_type = match array.data_type() {
                DataType::Timestamp(_, _) => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
                }
                other => other.clone(),
            };
            Field::new(name, data_type, nullable)
        })
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
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
        let batch = record_batch(&self.samples).map_err(|e| {
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
