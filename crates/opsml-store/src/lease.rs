//! Which process runs an experiment, so that one whose process died can be
//! told from one still running: the process is checked directly on the same
//! host, and through the experiment's heartbeat elsewhere.

use std::time::Duration;

use parking_lot::Mutex;

use serde::{Deserialize, Serialize};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use opsml_process::fork_generation;

/// How often a running experiment's writer records that it is alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A running experiment on another host with no heartbeat for this long is dead.
pub const STALE_AFTER: Duration = Duration::from_mins(1);

/// The lease of this process, with the fork generation it was read in.
static CURRENT: Mutex<Option<(u64, Lease)>> = Mutex::new(None);

/// Forgets the parent's lease in a forked child.
pub(crate) fn reset_after_fork() {
    opsml_process::reset_after_fork(&CURRENT);
}

/// The process that runs an experiment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lease {
    pub host: String,
    pub pid: u32,
    /// Start time of the process (seconds since the epoch), which tells a
    /// live process from a later one that reused its pid.
    pub started: u64,
}

fn start_time(system: &mut System, pid: u32) -> Option<u64> {
    let pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid).map(sysinfo::Process::start_time)
}

impl Lease {
    /// The lease of this process.
    pub fn current() -> Lease {
        let mut current = CURRENT.lock();
        match &*current {
            Some((generation, lease)) if *generation == fork_generation() => lease.clone(),
            _ => {
                let lease = Self::read_current();
                *current = Some((fork_generation(), lease.clone()));
                lease
            }
        }
    }

    fn read_current() -> Lease {
        let pid = std::process::id();
        let started = System::new()
            .ok()
            .and_then(|mut system| start_time(&mut system, pid))
            .unwrap_or(0);
        Lease {
            host: System::host_name().unwrap_or_default(),
            pid,
            started,
        }
    }

    /// Whether the process is still alive: `Some` on the same host, `None`
    /// where only the heartbeat can tell.
    pub fn is_alive(&self) -> Option<bool> {
        let current = Self::current();
        if self.host != current.host {
            return None;
        }
        if self.pid == current.pid {
            return Some(self.started == current.started);
        }
        let mut system = System::new().ok()?;
        Some(start_time(&mut system, self.pid) == Some(self.started))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        assert_eq!(Lease::current().is_alive(), Some(true));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let gone = Lease {
            pid,
            ..Lease::current()
        };
        assert_eq!(gone.is_alive(), Some(false));
        let elsewhere = Lease {
            host: "another-host".into(),
            ..Lease::current()
        };
        assert_eq!(elsewhere.is_alive(), None);
    }
}
