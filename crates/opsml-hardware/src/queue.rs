//! The background sampling task of one experiment.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use opsml_types::{HardwareSample, HardwareSummary, HardwareSummaryBuilder};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::Sampler;

/// Shortest sampling interval accepted.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Samples hardware on a runtime task: once at start, every interval, and once
/// more at stop, so that every run has at least two samples.
pub struct HardwareQueue {
    stop: Arc<Notify>,
    summary: mpsc::Receiver<HardwareSummary>,
}

impl HardwareQueue {
    /// Starts sampling on `runtime`, handing each sample to `sink`.
    /// Intervals below [`MIN_INTERVAL`] are raised to it.
    pub fn start(
        runtime: &Handle,
        interval: Duration,
        mut sink: impl FnMut(HardwareSample) + Send + 'static,
    ) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        let stop = Arc::new(Notify::new());
        let (done, summary) = mpsc::channel();
        let stopped = Arc::clone(&stop);
        runtime.spawn(async move {
            // Opening the sources (NVML above all) happens here, not in the caller.
            let mut sampler = Sampler::new();
            let mut builder = HardwareSummaryBuilder::default();
            let mut take = |sampler: &mut Sampler| {
                let sample = sampler.sample();
                builder.add(&sample);
                sink(sample);
            };
            take(&mut sampler);
            let mut ticks = interval_at(Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => take(&mut sampler),
                    () = stopped.notified() => break,
                }
            }
            take(&mut sampler);
            let _ = done.send(builder.finish());
        });
        Self { stop, summary }
    }

    /// Takes the final sample, ends the task and returns the run's summary.
    pub fn stop(self) -> HardwareSummary {
        self.stop.notify_one();
        self.summary.recv().unwrap_or_default()
    }
}

impl Drop for HardwareQueue {
    fn drop(&mut self) {
        // A queue dropped without `stop` still ends its task.
        self.stop.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_short_run_has_a_first_and_a_last_sample() {
        let runtime = runtime();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let queue = HardwareQueue::start(runtime.handle(), Duration::from_mins(1), move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        let summary = queue.stop();
        assert_eq!(summary.samples, 2);
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert!(summary.process_rss_bytes.peak > 0.0);
    }

    #[test]
    fn the_interval_is_honoured_and_stop_is_prompt() {
        let runtime = runtime();
        let queue = HardwareQueue::start(runtime.handle(), Duration::from_millis(100), |_| {});
        std::thread::sleep(Duration::from_millis(1050));
        let started = std::time::Instant::now();
        let summary = queue.stop();
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
        // One at start, about ten ticks, one at stop.
        assert!((9..=14).contains(&summary.samples), "{}", summary.samples);
    }

    #[test]
    fn dropped_queues_leave_no_task_behind() {
        let runtime = runtime();
        for _ in 0..50 {
            drop(HardwareQueue::start(
                runtime.handle(),
                Duration::from_secs(1),
                |_| {},
            ));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while runtime.metrics().num_alive_tasks() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(runtime.metrics().num_alive_tasks(), 0);
    }
}
