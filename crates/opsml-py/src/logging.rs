//! The one place that turns the core crates' `tracing` events into output:
//! lines on stderr, filtered by `OPSML_LOG` (default `warn`, e.g.
//! `OPSML_LOG=info` or `OPSML_LOG=opsml_registry=debug`).

use tracing_subscriber::EnvFilter;

/// Environment variable with the log filter.
const LOG_ENV: &str = "OPSML_LOG";

pub(crate) fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("warn"));
    // Another library of the process may have installed a subscriber already: keep it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
