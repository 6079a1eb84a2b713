//! Hardware facts for the compute environment of a card.

use opsml_types::GpuDevice;
use sysinfo::{CpuRefreshKind, RefreshKind, System};

use crate::gpu::Gpus;

/// The GPUs, driver and CUDA version of this host (empty without a driver).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuEnvironment {
    pub devices: Vec<GpuDevice>,
    pub driver_version: Option<String>,
    pub cuda_version: Option<String>,
}

/// The CPU model name, or an empty string where the platform does not say.
pub fn cpu_model() -> String {
    System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()))
        .ok()
        .and_then(|system| {
            system
                .cpus()
                .first()
                .map(|cpu| cpu.brand().trim().to_owned())
        })
        .unwrap_or_default()
}

/// The visible NVIDIA GPUs and driver, read through NVML.
pub fn gpu_environment() -> GpuEnvironment {
    match Gpus::open() {
        Some(gpus) => GpuEnvironment {
            devices: gpus.devices(),
            driver_version: gpus.driver_version(),
            cuda_version: gpus.cuda_version(),
        },
        None => GpuEnvironment::default(),
    }
}
