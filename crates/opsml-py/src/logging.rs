//! Rust log lines of the module reach Python's `logging`: warnings and errors go to the loggers
//! `opsml.*` (`opsml_client::writer` becomes `opsml.client.writer`) through pyo3-log, so they
//! show in a notebook's cell and in the program's own handlers, without colour codes. With
//! `OPSML_LOG` set, lines go to standard error instead, filtered by it, as from the `opsml`
//! command (see `opsml_log`).
//!
//! A line never waits for Python on the thread that logs it: that thread may hold a lock that
//! a Python thread holding the GIL is waiting for. Lines are queued and handed to `logging` by
//! a thread of their own, which holds nothing while it waits for the GIL. When the interpreter
//! exits, that thread hands over what is queued while the exiting thread waits for it, and
//! later lines go to standard error: a thread that attaches to a finalizing interpreter can
//! crash it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use log::{Level, LevelFilter, Log, Metadata, Record};
use parking_lot::Mutex;
use pyo3::prelude::*;

/// Lines queued for Python at most; more (Python busy for long) go to standard error.
const MAX_QUEUED: usize = 1024;

/// A line waiting for Python.
struct Line {
    level: Level,
    /// The Rust target, with the crates' `opsml_` turned into an `opsml::` parent.
    target: String,
    message: String,
}

impl Line {
    /// The line on standard error, as the `opsml` command writes it without colours.
    fn write_to_stderr(&self) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{:>5} {}: {}",
            self.level,
            self.target.replace("::", "."),
            self.message
        );
    }
}

/// The forwarding thread of this process and the queue it takes lines from. A channel of
/// its own, not a condition variable: a forked child must not wake (or wait on) what a
/// thread of its parent was parked on.
struct Forwarder {
    queue: SyncSender<Line>,
    thread: JoinHandle<()>,
}

static FORWARDER: Mutex<Option<Forwarder>> = Mutex::new(None);

/// The interpreter is exiting: lines go to standard error.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Python's side, made on the first line handed over (importing `logging` costs more than
/// importing opsml).
static PYTHON: OnceLock<pyo3_log::Logger> = OnceLock::new();

/// The `log` logger of the module.
struct Bridge;

static BRIDGE: Bridge = Bridge;

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = Line {
            level: record.level(),
            target: python_target(record.target()),
            message: record.args().to_string(),
        };
        if CLOSED.load(Ordering::Acquire) {
            return line.write_to_stderr();
        }
        let mut forwarder = FORWARDER.lock();
        if forwarder.is_none() {
            *forwarder = start_forwarding();
        }
        let Some(running) = forwarder.as_ref() else {
            return line.write_to_stderr();
        };
        match running.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(line) | TrySendError::Disconnected(line)) => {
                line.write_to_stderr();
            }
        }
    }

    fn flush(&self) {}
}

/// `target` under one `opsml` parent: `opsml_client::writer` is `opsml::client::writer`.
fn python_target(target: &str) -> String {
    match target.strip_prefix("opsml_") {
        Some(rest) => format!("opsml::{rest}"),
        None => target.to_owned(),
    }
}

/// Starts the forwarding thread; `None` (lines go to standard error) if it cannot start.
fn start_forwarding() -> Option<Forwarder> {
    let (queue, lines) = mpsc::sync_channel(MAX_QUEUED);
    let thread = std::thread::Builder::new()
        .name("opsml-logging".into())
        .spawn(move || forward_lines(&lines))
        .ok()?;
    Some(Forwarder { queue, thread })
}

/// Hands lines to Python until the queue is closed and empty.
fn forward_lines(lines: &Receiver<Line>) {
    for line in lines {
        if Python::try_attach(|py| hand_over(py, &line)).is_none() {
            line.write_to_stderr();
        }
    }
}

/// Gives `line` to Python's `logging`.
fn hand_over(py: Python<'_>, line: &Line) {
    let logger = match PYTHON.get() {
        Some(logger) => logger,
        None => match pyo3_log::Logger::new(py, pyo3_log::Caching::LoggersAndLevels) {
            // Python's levels decide what is shown of what reaches it.
            Ok(logger) => PYTHON.get_or_init(|| logger.filter(LevelFilter::Trace)),
            Err(_) => return line.write_to_stderr(),
        },
    };
    logger.log(
        &Record::builder()
            .level(line.level)
            .target(&line.target)
            .args(format_args!("{}", line.message))
            .build(),
    );
}

/// Installs the module's logging: Python's `logging`, or standard error where `OPSML_LOG`
/// asks for it (or where another library of the process installed a `log` logger already).
pub(crate) fn init() {
    let to_python =
        std::env::var_os(opsml_experiment::LOG_ENV).is_none() && log::set_logger(&BRIDGE).is_ok();
    if to_python {
        // What Python shows by default; finer lines are asked for with OPSML_LOG.
        log::set_max_level(LevelFilter::Warn);
    } else {
        opsml_experiment::init_logging("warn");
    }
}

/// Called by the module's exit hook, after experiments were ended: the forwarding thread
/// hands over every queued line (this thread lets go of the GIL meanwhile) and ends, and
/// later lines go to standard error.
#[pyfunction]
pub(crate) fn _close_logging(py: Python<'_>) {
    CLOSED.store(true, Ordering::Release);
    let forwarder = FORWARDER.lock().take();
    if let Some(Forwarder { queue, thread }) = forwarder {
        // The queue ends once the forwarder has taken what it holds.
        drop(queue);
        py.detach(|| {
            let _ = thread.join();
        });
    }
}

/// Called in a forked child: it has no forwarding thread, and the lines queued are the
/// parent's to hand over. The parent's queue is left untouched (a thread of the parent may
/// have been inside it).
pub(crate) fn after_fork_in_child() {
    opsml_experiment::reset_after_fork(&FORWARDER);
}
