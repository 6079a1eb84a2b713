//! NVIDIA GPUs through NVML, loaded at run time.

use std::collections::HashSet;

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::Nvml;
use opsml_types::{GpuDevice, GpuSample};

use crate::visible::{visible_devices, VisibleDevices};

/// The visible GPUs of a host with an NVIDIA driver.
pub(crate) struct Gpus {
    nvml: Nvml,
    /// NVML indices of the visible devices.
    indices: Vec<u32>,
}

impl Gpus {
    /// The GPUs visible to this process, or `None` without a driver or device
    /// (logged at debug level: a machine without GPUs is not an error).
    pub(crate) fn open() -> Option<Self> {
        let nvml = match Nvml::init() {
            Ok(nvml) => nvml,
            Err(e) => {
                tracing::debug!(error = %e, "NVML is not available; no GPU metrics");
                return None;
            }
        };
        let visible = visible_devices();
        let count = nvml.device_count().unwrap_or(0);
        let indices: Vec<u32> = (0..count)
            .filter(|&i| {
                nvml.device_by_index(i)
                    .and_then(|d| d.uuid())
                    .is_ok_and(|uuid| visible.contains(i, &uuid))
                    || matches!(visible, VisibleDevices::All)
            })
            .collect();
        if indices.is_empty() {
            tracing::debug!("no visible NVIDIA GPU; no GPU metrics");
            return None;
        }
        Some(Self { nvml, indices })
    }

    /// The visible devices.
    pub(crate) fn devices(&self) -> Vec<GpuDevice> {
        self.indices
            .iter()
            .filter_map(|&index| {
                let device = self.nvml.device_by_index(index).ok()?;
                Some(GpuDevice {
                    index,
                    uuid: device.uuid().unwrap_or_default(),
                    name: device.name().unwrap_or_default(),
                    memory_total_bytes: device.memory_info().map_or(0, |m| m.total),
                })
            })
            .collect()
    }

    pub(crate) fn driver_version(&self) -> Option<String> {
        self.nvml.sys_driver_version().ok()
    }

    /// The CUDA version the driver supports, as "12.4".
    pub(crate) fn cuda_version(&self) -> Option<String> {
        self.nvml
            .sys_cuda_driver_version()
            .ok()
            .map(format_cuda_version)
    }

    /// One sample per visible device; `pids` is the process tree whose GPU
    /// memory is counted. A reading that fails leaves its field empty.
    pub(crate) fn sample(&self, pids: &HashSet<u32>) -> Vec<GpuSample> {
        self.indices
            .iter()
            .filter_map(|&index| {
                let device = self.nvml.device_by_index(index).ok()?;
                let memory = device.memory_info().ok();
                let process_memory = device.running_compute_processes().ok().map(|procs| {
                    let mut graphics = device.running_graphics_processes().unwrap_or_default();
                    graphics.retain(|g| !procs.iter().any(|p| p.pid == g.pid));
                    procs
                        .iter()
                        .chain(&graphics)
                        .filter(|p| pids.contains(&p.pid))
                        .map(|p| match p.used_gpu_memory {
                            UsedGpuMemory::Used(bytes) => bytes,
                            UsedGpuMemory::Unavailable => 0,
                        })
                        .sum()
                });
                Some(GpuSample {
                    index,
                    uuid: device.uuid().unwrap_or_default(),
                    name: device.name().unwrap_or_default(),
                    utilization_percent: device.utilization_rates().ok().map(|u| u.gpu),
                    memory_used_bytes: memory.as_ref().map(|m| m.used),
                    memory_total_bytes: memory.as_ref().map(|m| m.total),
                    temperature_celsius: device.temperature(TemperatureSensor::Gpu).ok(),
                    power_watts: device
                        .power_usage()
                        .ok()
                        .map(|milliwatts| f64::from(milliwatts) / 1000.0),
                    process_memory_bytes: process_memory,
                })
            })
            .collect()
    }
}

/// NVML's CUDA version number (major × 1000 + minor × 10) as "major.minor".
pub(crate) fn format_cuda_version(version: i32) -> String {
    format!("{}.{}", version / 1000, (version % 1000) / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_versions_read_as_major_minor() {
        assert_eq!(format_cuda_version(12040), "12.4");
        assert_eq!(format_cuda_version(11080), "11.8");
        assert_eq!(format_cuda_version(13000), "13.0");
    }

    #[test]
    fn a_host_without_a_driver_has_no_gpus_and_no_error() {
        // On machines with a driver this opens the real devices instead.
        if let Some(gpus) = Gpus::open() {
            assert!(!gpus.devices().is_empty());
        }
    }
}
