use std::sync::{mpsc, Arc};

use opsml_registry::fork_generation;

use parking_lot::Mutex;

use tokio::runtime::{Builder, Runtime};

/// The runtime of this process, with the fork generation it belongs to.
static RUNTIME: Mutex<Option<(u64, &'static Runtime)>> = Mutex::new(None);

/// Forgets the parent's runtime in a forked child (it has no threads here).
pub(crate) fn reset_after_fork() {
    opsml_registry::reset_after_fork(&RUNTIME);
}

/// The process-wide runtime that runs every background task (writers,
/// samplers, uploads), created on first use. A forked child, whose copy of the
/// parent's runtime has no threads, gets a new one; the parent's is left
/// untouched, as dropping it would wait for threads that do not exist here.
pub fn runtime() -> &'static Runtime {
    let generation = fork_generation();
    let mut current = RUNTIME.lock();
    if let Some((owner, runtime)) = *current {
        if owner == generation {
            return runtime;
        }
    }
    let runtime: &'static Runtime = Box::leak(Box::new(
        Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .thread_name("opsml-runtime")
            .enable_time()
            .build()
            .expect("the opsml runtime could not start its threads"),
    ));
    *current = Some((generation, runtime));
    runtime
}

/// Runs `work` on each item on the runtime's blocking pool, at most `limit` at
/// a time, and returns the results in the order of `items`. Callable from any
/// thread, including one that is not part of the runtime.
pub(crate) fn parallel_map<T, R, F>(items: Vec<T>, limit: usize, work: F) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    let total = items.len();
    let queue = Arc::new(Mutex::new(items.into_iter().enumerate()));
    let work = Arc::new(work);
    let (done, results) = mpsc::channel();
    for _ in 0..limit.clamp(1, total.max(1)) {
        let (queue, work, done) = (Arc::clone(&queue), Arc::clone(&work), done.clone());
        runtime().spawn_blocking(move || loop {
            let Some((index, item)) = queue.lock().next() else {
                return;
            };
            if done.send((index, work(item))).is_err() {
                return;
            }
        });
    }
    drop(done);
    let mut out: Vec<Option<R>> = (0..total).map(|_| None).collect();
    for (index, result) in results {
        out[index] = Some(result);
    }
    out.into_iter()
        .map(|r| r.expect("a worker stopped before finishing its item"))
        .collect()
}
