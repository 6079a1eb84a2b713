//! `HardwareMetrics` and `GpuMetrics`: hardware samples read back.

use std::sync::Arc;

use opsml_experiment::Store;
use opsml_experiment::{GpuSample, HardwareSample};
use pyo3::prelude::*;

use crate::convert::{micros_to_py, py_str};
use crate::detach::experiment_work;
use crate::hardware_table::PyHardwareSamples;

/// One NVIDIA GPU in a hardware sample.
#[pyclass(name = "GpuMetrics", module = "opsml._opsml", frozen)]
pub struct PyGpuMetrics {
    gpu: GpuSample,
}

#[pymethods]
impl PyGpuMetrics {
    /// NVML index of the device.
    #[getter]
    fn index(&self) -> u32 {
        self.gpu.index
    }

    #[getter]
    fn uuid(&self) -> &str {
        &self.gpu.uuid
    }

    #[getter]
    fn name(&self) -> &str {
        &self.gpu.name
    }

    /// Percent of time a kernel ran, or None if the driver did not say.
    #[getter]
    fn utilization_percent(&self) -> Option<u32> {
        self.gpu.utilization_percent
    }

    #[getter]
    fn memory_used_bytes(&self) -> Option<u64> {
        self.gpu.memory_used_bytes
    }

    #[getter]
    fn memory_total_bytes(&self) -> Option<u64> {
        self.gpu.memory_total_bytes
    }

    #[getter]
    fn temperature_celsius(&self) -> Option<u32> {
        self.gpu.temperature_celsius
    }

    #[getter]
    fn power_watts(&self) -> Option<f64> {
        self.gpu.power_watts
    }

    /// GPU memory used by this process and its children.
    #[getter]
    fn process_memory_bytes(&self) -> Option<u64> {
        self.gpu.process_memory_bytes
    }

    fn __repr__(&self) -> String {
        format!(
            "GpuMetrics(index={}, name={}, utilization_percent={}, memory_used_bytes={})",
            self.gpu.index,
            py_str(&self.gpu.name),
            py_option(self.gpu.utilization_percent),
            py_option(self.gpu.memory_used_bytes)
        )
    }
}

/// One hardware sample. Fields of a source that could not be read are None.
#[pyclass(name = "HardwareMetrics", module = "opsml._opsml", frozen)]
pub struct PyHardwareMetrics {
    pub(crate) sample: HardwareSample,
}

#[pymethods]
impl PyHardwareMetrics {
    /// When the sample was taken (aware UTC datetime).
    #[getter]
    fn timestamp<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        micros_to_py(py, self.sample.timestamp)
    }

    /// Host CPU use, percent of all cores.
    #[getter]
    fn cpu_percent(&self) -> Option<f32> {
        self.sample.cpu_percent
    }

    /// Host CPU use per core, percent.
    #[getter]
    fn cpu_percent_per_core(&self) -> Vec<f32> {
        self.sample.cpu_percent_per_core.clone()
    }

    #[getter]
    fn memory_used_bytes(&self) -> Option<u64> {
        self.sample.memory_used_bytes
    }

    #[getter]
    fn memory_available_bytes(&self) -> Option<u64> {
        self.sample.memory_available_bytes
    }

    #[getter]
    fn memory_total_bytes(&self) -> Option<u64> {
        self.sample.memory_total_bytes
    }

    #[getter]
    fn swap_used_bytes(&self) -> Option<u64> {
        self.sample.swap_used_bytes
    }

    /// CPU use of this process and its children, percent of one core.
    #[getter]
    fn process_cpu_percent(&self) -> Option<f32> {
        self.sample.process.as_ref().map(|p| p.cpu_percent)
    }

    /// Resident memory of this process and its children.
    #[getter]
    fn process_rss_bytes(&self) -> Option<u64> {
        self.sample.process.as_ref().map(|p| p.rss_bytes)
    }

    /// Threads of this process and its children.
    #[getter]
    fn process_threads(&self) -> Option<u64> {
        self.sample.process.as_ref().map(|p| p.threads)
    }

    /// Processes in the tree, this one included.
    #[getter]
    fn process_count(&self) -> Option<u32> {
        self.sample.process.as_ref().map(|p| p.processes)
    }

    /// Bytes the process tree read from disk since the previous sample.
    #[getter]
    fn disk_read_bytes(&self) -> Option<u64> {
        self.sample.disk.as_ref().map(|d| d.read_bytes)
    }

    /// Bytes the process tree wrote to disk since the previous sample.
    #[getter]
    fn disk_write_bytes(&self) -> Option<u64> {
        self.sample.disk.as_ref().map(|d| d.write_bytes)
    }

    #[getter]
    fn disk_read_bytes_per_second(&self) -> Option<f64> {
        self.sample.disk.as_ref().map(|d| d.read_bytes_per_second)
    }

    #[getter]
    fn disk_write_bytes_per_second(&self) -> Option<f64> {
        self.sample.disk.as_ref().map(|d| d.write_bytes_per_second)
    }

    /// Bytes the host received since the previous sample (loopback excluded).
    #[getter]
    fn network_received_bytes(&self) -> Option<u64> {
        self.sample.network.as_ref().map(|n| n.read_bytes)
    }

    /// Bytes the host sent since the previous sample (loopback excluded).
    #[getter]
    fn network_sent_bytes(&self) -> Option<u64> {
        self.sample.network.as_ref().map(|n| n.write_bytes)
    }

    #[getter]
    fn network_receive_bytes_per_second(&self) -> Option<f64> {
        self.sample
            .network
            .as_ref()
            .map(|n| n.read_bytes_per_second)
    }

    #[getter]
    fn network_send_bytes_per_second(&self) -> Option<f64> {
        self.sample
            .network
            .as_ref()
            .map(|n| n.write_bytes_per_second)
    }

    /// One entry per visible NVIDIA GPU (empty without one).
    #[getter]
    fn gpus(&self) -> Vec<PyGpuMetrics> {
        self.sample
            .gpus
            .iter()
            .map(|gpu| PyGpuMetrics { gpu: gpu.clone() })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "HardwareMetrics(cpu_percent={}, process_cpu_percent={}, process_rss_bytes={}, gpus={})",
            py_option(self.sample.cpu_percent.map(|c| (c * 10.0).round() / 10.0)),
            py_option(self.process_cpu_percent().map(|c| (c * 10.0).round() / 10.0)),
            py_option(self.process_rss_bytes()),
            self.sample.gpus.len()
        )
    }
}

/// An optional value as Python prints it.
fn py_option<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "None".to_owned(), |v| v.to_string())
}

/// The hardware samples of `uid`, in the order taken.
pub(crate) fn read(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
) -> PyResult<PyHardwareSamples> {
    let samples = experiment_work(py, || {
        opsml_experiment::get_experiment_hardware_metrics(store.as_ref(), uid)
    })?;
    Ok(PyHardwareSamples { samples })
}

/// A serde value as plain Python objects (dicts, lists, numbers, strings).
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}
