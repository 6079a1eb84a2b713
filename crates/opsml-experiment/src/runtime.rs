use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process-wide runtime that runs every background task (writers, and
/// later samplers and uploads), created on first use.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .thread_name("opsml-runtime")
            .enable_time()
            .build()
            .expect("the opsml runtime could not start its threads")
    })
}
