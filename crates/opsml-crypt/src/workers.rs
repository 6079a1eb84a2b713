//! A few worker threads per stream, started only when a stream turns out to be large.

use std::num::NonZeroUsize;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;

/// The error message when a worker thread died with a task.
pub(crate) const WORKER_LOST: &str = "an opsml-crypt worker thread stopped unexpectedly";

/// Most worker threads one stream uses.
const MAX_WORKERS: usize = 4;

type Task = Box<dyn FnOnce() + Send>;

/// The worker threads of one stream. They stop once the stream is dropped and their queue is
/// empty.
pub(crate) struct Workers {
    /// The task queue and the number of threads serving it.
    queue: OnceLock<Option<(Sender<Task>, usize)>>,
}

impl Workers {
    pub(crate) fn new() -> Self {
        Self {
            queue: OnceLock::new(),
        }
    }

    /// The queue of the worker threads, started on first use; `None` on a single core or
    /// where threads cannot be started.
    fn queue(&self) -> Option<&Sender<Task>> {
        self.queue
            .get_or_init(start)
            .as_ref()
            .map(|(queue, _)| queue)
    }

    /// The number of threads work is spread over (1 when everything runs on the caller's).
    pub(crate) fn threads(&self) -> usize {
        self.queue
            .get_or_init(start)
            .as_ref()
            .map_or(1, |&(_, threads)| threads)
    }

    /// Runs `task` on a worker thread, or right here when there are none.
    pub(crate) fn run<T, F>(&self, task: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Some(queue) = self.queue() else {
            return Pending::Done(task());
        };
        let (reply, result) = mpsc::sync_channel(1);
        let job: Task = Box::new(move || {
            // Nobody waits for the result any more once the stream is dropped.
            let _ = reply.send(task());
        });
        match queue.send(job) {
            Ok(()) => Pending::Working(result),
            Err(mpsc::SendError(job)) => {
                job();
                Pending::Working(result)
            }
        }
    }
}

/// The result of a task given to [`Workers::run`].
pub(crate) enum Pending<T> {
    Done(T),
    Working(Receiver<T>),
}

impl<T> Pending<T> {
    /// Waits for the result; `None` when the worker thread died.
    pub(crate) fn wait(self) -> Option<T> {
        match self {
            Pending::Done(value) => Some(value),
            Pending::Working(result) => result.recv().ok(),
        }
    }
}

/// The number of threads worth using for one stream.
fn parallelism() -> usize {
    thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(MAX_WORKERS)
}

fn start() -> Option<(Sender<Task>, usize)> {
    let threads = parallelism();
    if threads < 2 {
        return None;
    }
    let (queue, tasks) = mpsc::channel::<Task>();
    let tasks = Arc::new(Mutex::new(tasks));
    let mut started = 0;
    for _ in 0..threads {
        let tasks = Arc::clone(&tasks);
        let spawned = thread::Builder::new()
            .name("opsml-crypt".to_owned())
            .spawn(move || work(&tasks));
        if spawned.is_ok() {
            started += 1;
        }
    }
    (started > 0).then_some((queue, started))
}

/// A worker: runs tasks until the queue is closed.
fn work(tasks: &Mutex<Receiver<Task>>) {
    loop {
        let task = {
            let tasks = tasks.lock().unwrap_or_else(PoisonError::into_inner);
            match tasks.recv() {
                Ok(task) => task,
                Err(_) => return,
            }
        };
        task();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_order_asked_for() {
        let workers = Workers::new();
        let pending: Vec<_> = (0..64u64)
            .map(|i| workers.run(move || (0..(64 - i) * 1000).sum::<u64>() + i))
            .collect();
        for (i, pending) in (0..64u64).zip(pending) {
            assert_eq!(
                pending.wait().unwrap(),
                (0..(64 - i) * 1000).sum::<u64>() + i
            );
        }
        assert!(workers.threads() >= 1);
    }
}
