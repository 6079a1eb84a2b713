//! The one tokio runtime of the process: background writers, hardware
//! samplers, parallel uploads and object-storage requests all run on it.

use parking_lot::Mutex;
use tokio::runtime::{Builder, Runtime};

use crate::fork::fork_generation;

/// The runtime of this process, with the fork generation it belongs to.
static RUNTIME: Mutex<Option<(u64, &'static Runtime)>> = Mutex::new(None);

/// Threads of the blocking pool, created only when needed. Uploads and
/// downloads park one blocking thread each while they wait on storage, and
/// the HTTP client resolves host names on the same pool, so it must not be
/// the bottleneck.
const MAX_BLOCKING_THREADS: usize = 64;

/// Forgets the parent's runtime in a forked child (it has no threads here).
pub(crate) fn reset_after_fork() {
    crate::fork::reset_after_fork(&RUNTIME);
}

/// The process-wide runtime (timers and network I/O enabled), created on
/// first use. A forked child, whose copy of the parent's runtime has no
/// threads, gets a new one; the parent's is leaked, never dropped, as dropping
/// it would wait for threads that do not exist there.
///
/// Synchronous code waits on it with `runtime().block_on(...)`, which works
/// from plain threads and from the runtime's blocking pool, never from inside
/// an async task.
pub fn runtime() -> &'static Runtime {
    let generation = fork_generation();
    let mut current = RUNTIME.lock();
    if let Some((owner, runtime)) = *current {
        if owner == generation {
            return runtime;
        }
    }
    #[allow(
        clippy::expect_used,
        reason = "no threads leave no way to store anything; the process cannot go on"
    )]
    let runtime: &'static Runtime = Box::leak(Box::new(
        Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .thread_name("opsml-runtime")
            .enable_time()
            .enable_io()
            .build()
            .expect("the opsml runtime could not start its threads"),
    ));
    *current = Some((generation, runtime));
    runtime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_per_fork_generation_with_io_and_timers() {
        let first = runtime();
        assert!(std::ptr::eq(first, runtime()));
        // Both drivers answer: a timer fires and a socket binds on the runtime.
        first.block_on(async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        });
    }
}
