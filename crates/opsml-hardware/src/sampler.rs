//! One hardware sample from several sources. A source that fails drops its
//! fields from that sample and is logged once; the others carry on.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use opsml_types::{now_micros, HardwareSample};

use crate::gpu::Gpus;
use crate::system::SystemSampler;

/// What sources share within one sample.
#[derive(Debug, Default)]
pub(crate) struct Context {
    /// Seconds since the previous sample.
    pub seconds: f64,
    /// Pids of this process tree, for per-process GPU memory.
    pub pids: HashSet<u32>,
}

/// A source of hardware readings.
pub(crate) trait Source: Send {
    /// Name for messages.
    fn name(&self) -> &'static str;
    /// Fills its fields of `sample`.
    fn fill(&mut self, sample: &mut HardwareSample, context: &mut Context) -> Result<(), String>;
}

struct SystemSource(SystemSampler);

impl Source for SystemSource {
    fn name(&self) -> &'static str {
        "system"
    }

    fn fill(&mut self, sample: &mut HardwareSample, context: &mut Context) -> Result<(), String> {
        let sampler = &mut self.0;
        context.seconds = sampler.elapsed();
        let host = sampler.host();
        sample.cpu_percent = Some(host.cpu_percent);
        sample.cpu_percent_per_core = host.cpu_percent_per_core;
        sample.memory_used_bytes = Some(host.memory_used_bytes);
        sample.memory_available_bytes = Some(host.memory_available_bytes);
        sample.memory_total_bytes = Some(host.memory_total_bytes);
        sample.swap_used_bytes = Some(host.swap_used_bytes);
        let (process, pids, disk) = sampler.process_tree(context.seconds);
        sample.process = Some(process);
        sample.disk = Some(disk);
        context.pids = pids;
        sample.network = sampler.network(context.seconds);
        Ok(())
    }
}

struct GpuSource(Gpus);

impl Source for GpuSource {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn fill(&mut self, sample: &mut HardwareSample, context: &mut Context) -> Result<(), String> {
        sample.gpus = self.0.sample(&context.pids);
        Ok(())
    }
}

/// Takes hardware samples.
pub struct Sampler {
    sources: Vec<Box<dyn Source>>,
    /// Sources whose failure was already logged.
    warned: HashSet<&'static str>,
}

impl Sampler {
    /// A sampler of everything this host offers.
    pub fn new() -> Self {
        let mut sources: Vec<Box<dyn Source>> = Vec::new();
        match SystemSampler::new() {
            Some(system) => sources.push(Box::new(SystemSource(system))),
            None => tracing::warn!("this platform offers no CPU or memory readings"),
        }
        if let Some(gpus) = Gpus::open() {
            sources.push(Box::new(GpuSource(gpus)));
        }
        Self::with_sources(sources)
    }

    pub(crate) fn with_sources(sources: Vec<Box<dyn Source>>) -> Self {
        Self {
            sources,
            warned: HashSet::new(),
        }
    }

    /// One sample, stamped with the time it was taken.
    pub fn sample(&mut self) -> HardwareSample {
        let mut sample = HardwareSample {
            timestamp: now_micros(),
            ..HardwareSample::default()
        };
        let mut context = Context::default();
        for source in &mut self.sources {
            let filled = catch_unwind(AssertUnwindSafe(|| source.fill(&mut sample, &mut context)))
                .unwrap_or_else(|_| Err("it panicked".to_owned()));
            if let Err(reason) = filled {
                if self.warned.insert(source.name()) {
                    tracing::warn!(
                        source = source.name(),
                        %reason,
                        "a hardware source failed; its fields are left out"
                    );
                }
            }
        }
        sample
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;

    impl Source for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }

        fn fill(&mut self, sample: &mut HardwareSample, _: &mut Context) -> Result<(), String> {
            sample.swap_used_bytes = Some(1);
            Err("permission denied reading a counter".to_owned())
        }
    }

    struct Panicking;

    impl Source for Panicking {
        fn name(&self) -> &'static str {
            "panicking"
        }

        fn fill(&mut self, _: &mut HardwareSample, _: &mut Context) -> Result<(), String> {
            panic!("a reading went wrong")
        }
    }

    #[test]
    fn failing_sources_do_not_stop_the_others() {
        let system: Box<dyn Source> = Box::new(SystemSource(SystemSampler::new().unwrap()));
        let mut sampler =
            Sampler::with_sources(vec![Box::new(Failing), Box::new(Panicking), system]);
        for _ in 0..3 {
            let sample = sampler.sample();
            assert!(sample.timestamp > 0);
            assert!(sample.memory_total_bytes.unwrap() > 0);
            assert!(sample.process.is_some());
        }
        assert_eq!(sampler.warned.len(), 2);
    }
}
