//! The one policy for turning the crates' `tracing` events into output, for the `opsml`
//! command, the `opsml-server` binary and the Python module alike: lines on standard error, filtered by `OPSML_LOG`
//! (e.g. `OPSML_LOG=info` or `OPSML_LOG=opsml_registry=debug`), coloured only on a terminal.
//! Without `OPSML_LOG` warnings show, and a server also says what it serves.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// Environment variable with the log filter.
pub const LOG_ENV: &str = "OPSML_LOG";

/// Changes the filter installed by [`init`] (none when another library installed its own).
static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Installs the subscriber, with `default` as the filter unless `OPSML_LOG` gives one. A
/// subscriber installed already (by another library of the process) is kept.
pub fn init(default: &str) {
    let (filter, handle) = reload::Layer::new(filter_or(default));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false),
        )
        .try_init();
    if installed.is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// Makes `default` the filter where `OPSML_LOG` does not say otherwise (a server logs what
/// it serves, where other commands only warn).
pub fn set_default(default: &str) {
    if std::env::var_os(LOG_ENV).is_some() {
        return;
    }
    match FILTER.get() {
        Some(handle) => {
            let _ = handle.reload(EnvFilter::new(default));
        }
        None => init(default),
    }
}

fn filter_or(default: &str) -> EnvFilter {
    EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default))
}
