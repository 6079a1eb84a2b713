//! Hardware monitoring for experiments: a background task on the caller's
//! tokio runtime that samples host CPU and memory, this process tree's CPU,
//! memory, threads and disk I/O, host network traffic, and the NVIDIA GPUs
//! visible to the process.
//!
//! NVML (the NVIDIA driver's management library) is loaded at run time: with
//! no driver or no GPU the samples simply carry no GPU fields.
//!
//! ```no_run
//! use std::time::Duration;
//! use opsml_hardware::HardwareQueue;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let queue = HardwareQueue::start(runtime.handle(), Duration::from_secs(5), |sample| {
//!     println!("{:?}", sample.cpu_percent);
//! });
//! // ... the work being measured ...
//! let summary = queue.stop();
//! println!("{} samples", summary.samples);
//! ```

mod environment;
mod gpu;
mod queue;
mod sampler;
mod system;
mod visible;

pub use environment::{cpu_model, gpu_environment, GpuEnvironment};
pub use queue::{HardwareQueue, MIN_INTERVAL};
pub use sampler::Sampler;
pub use visible::{visible_devices, VisibleDevices};
