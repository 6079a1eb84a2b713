use std::sync::{mpsc, Arc};

use parking_lot::Mutex;

pub use opsml_registry::runtime;

/// Runs `work` on each item on the runtime's blocking pool, at most `limit` at
/// a time, and returns the results in the order of `items`. Callable from any
/// thread, including one that is not part of the runtime.
#[allow(
    clippy::expect_used,
    reason = "every worker finishes its items, or its panic goes on in this thread"
)]
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
