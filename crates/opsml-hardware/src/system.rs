//! Host CPU and memory, this process tree, its disk I/O, and host network
//! traffic, through sysinfo.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use opsml_types::{IoSample, ProcessSample};
use sysinfo::{Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// Host-wide readings.
pub(crate) struct HostReading {
    pub cpu_percent: f32,
    pub cpu_percent_per_core: Vec<f32>,
    pub memory_used_bytes: u64,
    pub memory_available_bytes: u64,
    pub memory_total_bytes: u64,
    pub swap_used_bytes: u64,
}

pub(crate) struct SystemSampler {
    system: System,
    networks: Option<Networks>,
    root: Pid,
    last: Instant,
    /// Bytes each descendant had read and written in all, at the last sample.
    descendant_io: HashMap<Pid, (u64, u64)>,
}

impl SystemSampler {
    pub(crate) fn new() -> Option<Self> {
        let system = System::new().ok()?;
        let networks = Networks::new_with_refreshed_list().ok();
        let mut sampler = Self {
            system,
            networks,
            root: Pid::from_u32(std::process::id()),
            last: Instant::now(),
            descendant_io: HashMap::new(),
        };
        // Usage figures are differences between two refreshes: take the first one now.
        sampler.system.refresh_cpu_usage();
        sampler.tree_pids();
        Some(sampler)
    }

    /// Seconds since the previous sample, for rates.
    pub(crate) fn elapsed(&mut self) -> f64 {
        let now = Instant::now();
        let seconds = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        seconds
    }

    pub(crate) fn host(&mut self) -> HostReading {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        HostReading {
            cpu_percent: self.system.global_cpu_usage(),
            cpu_percent_per_core: self.system.cpus().iter().map(sysinfo::Cpu::usage).collect(),
            memory_used_bytes: self.system.used_memory(),
            memory_available_bytes: self.system.available_memory(),
            memory_total_bytes: self.system.total_memory(),
            swap_used_bytes: self.system.used_swap(),
        }
    }

    /// This process and its descendants, refreshed.
    fn tree_pids(&mut self) -> Vec<Pid> {
        let mut tree = vec![self.root];
        let mut known: HashSet<Pid> = tree.iter().copied().collect();
        let mut next = 0;
        while next < tree.len() {
            for child in children(tree[next]) {
                if known.insert(child) {
                    tree.push(child);
                }
            }
            next += 1;
        }
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&tree),
            true,
            ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .with_disk_usage()
                .with_tasks(),
        );
        tree
    }

    /// The process tree's usage, its pids (for GPU accounting), and its disk I/O
    /// over `seconds`.
    pub(crate) fn process_tree(&mut self, seconds: f64) -> (ProcessSample, HashSet<u32>, IoSample) {
        let tree = self.tree_pids();
        let mut sample = ProcessSample::default();
        let mut disk = IoSample::default();
        let mut pids = HashSet::new();
        let mut descendant_io = HashMap::new();
        for pid in &tree {
            let Some(process) = self.system.process(*pid) else {
                continue;
            };
            pids.insert(pid.as_u32());
            sample.processes += 1;
            sample.cpu_percent += process.cpu_usage();
            sample.rss_bytes += process.memory();
            sample.threads += process.tasks().map_or(1, |t| t.len().max(1) as u64);
            let usage = process.disk_usage();
            disk.read_bytes += usage.read_bytes;
            disk.write_bytes += usage.written_bytes;
            if *pid != self.root {
                // The most seen: a child that has ended but is not reaped yet may read as 0.
                let (read, written) = self.descendant_io.get(pid).copied().unwrap_or_default();
                descendant_io.insert(
                    *pid,
                    (
                        usage.total_read_bytes.max(read),
                        usage.total_written_bytes.max(written),
                    ),
                );
            }
        }
        // A child that ended was counted while it ran, and Linux adds all of its I/O to the
        // parent that reaps it: take that second count back out.
        let previous = std::mem::replace(&mut self.descendant_io, descendant_io);
        for (pid, (read, written)) in previous {
            if !self.descendant_io.contains_key(&pid) {
                disk.read_bytes = disk.read_bytes.saturating_sub(read);
                disk.write_bytes = disk.write_bytes.saturating_sub(written);
            }
        }
        set_rates(&mut disk, seconds);
        (sample, pids, disk)
    }

    /// Host network traffic since the previous sample, loopback excluded.
    pub(crate) fn network(&mut self, seconds: f64) -> Option<IoSample> {
        let networks = self.networks.as_mut()?;
        networks.refresh(true);
        let mut io = IoSample::default();
        for (name, data) in networks.iter() {
            if name == "lo" {
                continue;
            }
            io.read_bytes += data.received();
            io.write_bytes += data.transmitted();
        }
        set_rates(&mut io, seconds);
        Some(io)
    }
}

fn set_rates(io: &mut IoSample, seconds: f64) {
    if seconds > 0.0 {
        io.read_bytes_per_second = io.read_bytes as f64 / seconds;
        io.write_bytes_per_second = io.write_bytes as f64 / seconds;
    }
}

/// Direct children of `pid`: Linux lists them per thread in
/// `/proc/<pid>/task/<tid>/children`, far cheaper than scanning every process.
#[cfg(target_os = "linux")]
fn children(pid: Pid) -> Vec<Pid> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .map(Pid::from_u32)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Direct children of `pid`, by scanning every process's parent.
#[cfg(not(target_os = "linux"))]
fn children(pid: Pid) -> Vec<Pid> {
    let Ok(mut system) = System::new() else {
        return Vec::new();
    };
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
    system
        .processes()
        .iter()
        .filter(|(_, p)| p.parent() == Some(pid))
        .map(|(child, _)| *child)
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn child_processes_are_part_of_the_tree() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut sampler = SystemSampler::new().unwrap();
        let (sample, pids, _) = sampler.process_tree(1.0);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(pids.contains(&child.id()), "{pids:?}");
        assert!(pids.contains(&std::process::id()));
        assert!(sample.processes >= 2);
        assert!(sample.rss_bytes > 0);
        assert!(sample.threads >= 2);
    }
}
