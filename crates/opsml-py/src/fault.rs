//! Fault injection for the test suite: proves that a Rust panic on the logging fast path
//! reaches Python as an `OpsmlError` and leaves the interpreter and the logged data intact.
//!
//! `OPSML_FAULT_PANIC_ON_METRIC=<name>` (read once per process) makes logging a metric of that
//! name panic inside the extension. Unset, it costs one check of an initialised value; built
//! without the `fault-injection` feature (release wheels), it does not exist.

use std::sync::OnceLock;

/// Environment variable naming the metric whose logging panics.
const PANIC_ON_METRIC_ENV: &str = "OPSML_FAULT_PANIC_ON_METRIC";

fn panic_on_metric() -> Option<&'static str> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var(PANIC_ON_METRIC_ENV)
            .ok()
            .filter(|n| !n.is_empty())
    })
    .as_deref()
}

/// Panics when `name` is the metric named by `OPSML_FAULT_PANIC_ON_METRIC`.
#[inline]
pub(crate) fn panic_if_injected(name: &str) {
    assert!(
        panic_on_metric() != Some(name),
        "injected fault: logging metric {name:?} panics ({PANIC_ON_METRIC_ENV})"
    );
}
