use std::sync::OnceLock;

use opsml_types::ComputeEnvironment;
use sysinfo::System;

use crate::name_words::{ADJECTIVES, NOUNS};

/// The host facts of this process, read once.
fn host() -> &'static ComputeEnvironment {
    static HOST: OnceLock<ComputeEnvironment> = OnceLock::new();
    HOST.get_or_init(|| {
        let total_memory_bytes = System::new().map_or(0, |mut system| {
            system.refresh_memory();
            system.total_memory()
        });
        let gpus = opsml_hardware::gpu_environment();
        ComputeEnvironment {
            cpu_count: std::thread::available_parallelism().map_or(1, usize::from),
            total_memory_bytes,
            os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_owned()),
            hostname: System::host_name().unwrap_or_default(),
            python_version: None,
            cpu_model: opsml_hardware::cpu_model(),
            gpus: gpus.devices,
            gpu_driver_version: gpus.driver_version,
            cuda_version: gpus.cuda_version,
        }
    })
}

/// Where this experiment runs; `python_version` is given by the Python front.
pub(crate) fn compute_environment(python_version: Option<&str>) -> ComputeEnvironment {
    ComputeEnvironment {
        python_version: python_version.map(str::to_owned),
        ..host().clone()
    }
}

/// The user recorded on new cards: `OPSML_USERNAME`, else the login name.
pub(crate) fn username() -> String {
    std::env::var("OPSML_USERNAME")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| whoami::username().ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A readable random name such as `brave-falcon`, for experiments started without one.
pub(crate) fn generated_name() -> String {
    names::Generator::new(ADJECTIVES, NOUNS, names::Name::Plain)
        .next()
        .unwrap_or_else(|| "experiment".to_owned())
}
