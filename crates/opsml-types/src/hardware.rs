use serde::{Deserialize, Serialize};

/// Resource usage of this process and the processes it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessSample {
    /// CPU use summed over the process tree, in percent of one core (can exceed 100).
    pub cpu_percent: f32,
    /// Resident memory summed over the process tree, in bytes.
    pub rss_bytes: u64,
    /// Threads summed over the process tree.
    pub threads: u64,
    /// Processes in the tree (this one included).
    pub processes: u32,
}

/// Bytes moved since the previous sample, and the rates they make.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IoSample {
    /// Bytes read (disk) or received (network) since the previous sample.
    pub read_bytes: u64,
    /// Bytes written (disk) or sent (network) since the previous sample.
    pub write_bytes: u64,
    pub read_bytes_per_second: f64,
    pub write_bytes_per_second: f64,
}

/// One NVIDIA GPU visible to the process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpuSample {
    /// NVML index of the device.
    pub index: u32,
    pub uuid: String,
    pub name: String,
    /// Percent of time a kernel ran over the driver's last sample period.
    pub utilization_percent: Option<u32>,
    pub memory_used_bytes: Option<u64>,
    pub memory_total_bytes: Option<u64>,
    pub temperature_celsius: Option<u32>,
    pub power_watts: Option<f64>,
    /// GPU memory used by this process tree.
    pub process_memory_bytes: Option<u64>,
}

/// One hardware sample. A source that could not be read leaves its fields
/// empty for that sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HardwareSample {
    /// When the sample was taken, microseconds since the Unix epoch.
    pub timestamp: i64,
    /// Host CPU use, in percent of all cores.
    pub cpu_percent: Option<f32>,
    /// Host CPU use per core, in percent.
    pub cpu_percent_per_core: Vec<f32>,
    pub memory_used_bytes: Option<u64>,
    pub memory_available_bytes: Option<u64>,
    pub memory_total_bytes: Option<u64>,
    pub swap_used_bytes: Option<u64>,
    pub process: Option<ProcessSample>,
    /// Disk I/O of the process tree.
    pub disk: Option<IoSample>,
    /// Network traffic of the host, loopback excluded.
    pub network: Option<IoSample>,
    pub gpus: Vec<GpuSample>,
}

/// Mean and peak of one quantity over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeanPeak {
    pub mean: f64,
    pub peak: f64,
}

/// One GPU over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpuSummary {
    pub index: u32,
    pub name: String,
    /// `None` when no sample could read it (not a GPU at rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<MeanPeak>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_used_bytes: Option<MeanPeak>,
}

/// Hardware use over a whole run, kept on the card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HardwareSummary {
    pub samples: u64,
    pub cpu_percent: MeanPeak,
    pub process_cpu_percent: MeanPeak,
    pub process_rss_bytes: MeanPeak,
    pub gpus: Vec<GpuSummary>,
    pub disk_read_bytes: u64,
    pub disk_write_bytes: u64,
    pub network_received_bytes: u64,
    pub network_sent_bytes: u64,
}

/// Running mean and peak.
#[derive(Debug, Clone, Copy, Default)]
struct Accumulator {
    sum: f64,
    count: u64,
    peak: f64,
}

impl Accumulator {
    fn add(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
        self.peak = if self.count == 1 {
            value
        } else {
            self.peak.max(value)
        };
    }

    /// Mean and peak, or `None` when nothing was added.
    fn result_if_any(self) -> Option<MeanPeak> {
        (self.count > 0).then(|| self.result())
    }

    fn result(self) -> MeanPeak {
        MeanPeak {
            mean: if self.count == 0 {
                0.0
            } else {
                self.sum / self.count as f64
            },
            peak: self.peak,
        }
    }
}

/// Builds a [`HardwareSummary`] one sample at a time, in constant memory.
#[derive(Debug, Default)]
pub struct HardwareSummaryBuilder {
    summary: HardwareSummary,
    cpu: Accumulator,
    process_cpu: Accumulator,
    rss: Accumulator,
    gpus: Vec<(GpuSummary, Accumulator, Accumulator)>,
}

impl HardwareSummaryBuilder {
    /// Takes one sample into account.
    pub fn add(&mut self, sample: &HardwareSample) {
        self.summary.samples += 1;
        if let Some(v) = sample.cpu_percent {
            self.cpu.add(f64::from(v));
        }
        if let Some(p) = &sample.process {
            self.process_cpu.add(f64::from(p.cpu_percent));
            self.rss.add(p.rss_bytes as f64);
        }
        if let Some(d) = &sample.disk {
            self.summary.disk_read_bytes += d.read_bytes;
            self.summary.disk_write_bytes += d.write_bytes;
        }
        if let Some(n) = &sample.network {
            self.summary.network_received_bytes += n.read_bytes;
            self.summary.network_sent_bytes += n.write_bytes;
        }
        for gpu in &sample.gpus {
            let slot = if let Some(i) = self.gpus.iter().position(|(g, _, _)| g.index == gpu.index)
            {
                i
            } else {
                self.gpus.push((
                    GpuSummary {
                        index: gpu.index,
                        name: gpu.name.clone(),
                        ..GpuSummary::default()
                    },
                    Accumulator::default(),
                    Accumulator::default(),
                ));
                self.gpus.len() - 1
            };
            if let Some(u) = gpu.utilization_percent {
                self.gpus[slot].1.add(f64::from(u));
            }
            if let Some(m) = gpu.memory_used_bytes {
                self.gpus[slot].2.add(m as f64);
            }
        }
    }

    /// The summary of every sample added.
    pub fn finish(self) -> HardwareSummary {
        HardwareSummary {
            cpu_percent: self.cpu.result(),
            process_cpu_percent: self.process_cpu.result(),
            process_rss_bytes: self.rss.result(),
            gpus: self
                .gpus
                .into_iter()
                .map(|(mut g, util, mem)| {
                    g.utilization_percent = util.result_if_any();
                    g.memory_used_bytes = mem.result_if_any();
                    g
                })
                .collect(),
            ..self.summary
        }
    }
}

impl HardwareSummary {
    /// The summary of `samples`.
    pub fn of(samples: &[HardwareSample]) -> Self {
        let mut builder = HardwareSummaryBuilder::default();
        for sample in samples {
            builder.add(sample);
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_means_peaks_and_totals() {
        let sample = |cpu: f32, rss: u64, util: u32, read: u64| HardwareSample {
            cpu_percent: Some(cpu),
            process: Some(ProcessSample {
                cpu_percent: cpu * 2.0,
                rss_bytes: rss,
                threads: 4,
                processes: 1,
            }),
            disk: Some(IoSample {
                read_bytes: read,
                write_bytes: 1,
                ..IoSample::default()
            }),
            gpus: vec![GpuSample {
                index: 1,
                name: "gpu".into(),
                utilization_percent: Some(util),
                memory_used_bytes: Some(u64::from(util) * 10),
                ..GpuSample::default()
            }],
            ..HardwareSample::default()
        };
        let summary = HardwareSummary::of(&[sample(10.0, 100, 50, 5), sample(30.0, 300, 70, 7)]);
        assert_eq!(summary.samples, 2);
        assert_eq!(
            summary.cpu_percent,
            MeanPeak {
                mean: 20.0,
                peak: 30.0
            }
        );
        assert_eq!(summary.process_rss_bytes.peak, 300.0);
        assert_eq!(summary.disk_read_bytes, 12);
        assert_eq!(summary.disk_write_bytes, 2);
        assert_eq!(summary.gpus.len(), 1);
        assert_eq!(summary.gpus[0].utilization_percent.unwrap().mean, 60.0);
        assert_eq!(summary.gpus[0].memory_used_bytes.unwrap().peak, 700.0);
    }

    #[test]
    fn missing_sources_do_not_count() {
        let summary = HardwareSummary::of(&[HardwareSample::default()]);
        assert_eq!(summary.samples, 1);
        assert_eq!(summary.cpu_percent, MeanPeak::default());
        assert!(summary.gpus.is_empty());
    }

    #[test]
    fn a_gpu_reading_that_always_failed_is_absent_not_zero() {
        let unread = HardwareSample {
            gpus: vec![GpuSample {
                index: 0,
                name: "gpu".into(),
                memory_used_bytes: Some(1 << 20),
                ..GpuSample::default()
            }],
            ..HardwareSample::default()
        };
        let summary = HardwareSummary::of(&[unread.clone(), unread]);
        assert_eq!(summary.gpus[0].utilization_percent, None);
        assert_eq!(
            summary.gpus[0].memory_used_bytes.unwrap().peak,
            f64::from(1 << 20)
        );
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("utilization_percent"), "{json}");
        // Summaries written before absent readings were possible still read.
        let old =
            r#"{"gpus":[{"index":0,"name":"g","utilization_percent":{"mean":0.0,"peak":0.0}}]}"#;
        let read: HardwareSummary = serde_json::from_str(old).unwrap();
        assert_eq!(read.gpus[0].utilization_percent, Some(MeanPeak::default()));
    }
}
