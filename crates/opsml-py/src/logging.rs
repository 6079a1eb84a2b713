//! Rust log lines of the module reach Python's `logging`: warnings and errors go to the loggers
//! `opsml.*` (`opsml_client::writer` becomes `opsml.client.writer`) through pyo3-log, so they
//! show in a notebook's cell and in the program's own handlers, without colour codes. With
//! `OPSML_LOG` set, lines go to standard error instead, filtered by it, as from the `opsml`
//! command (see `opsml_log`).
//!
//! A line never waits for Python on the thread that logs it: that thread may hold a lock that
//! a Python thread holding the GIL is waiting for. Lines are queued and handed to `logging` by
//! a thread of their own, which holds nothing while it waits for the GIL. When the interpreter
//! exits, the exiting thread hands over what is queued and later lines go to standard error:
//! a thread that attaches to a finalizing interpreter can crash it.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};
use parking_lot::{Condvar, Mutex};
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

#[derive(Default)]
struct State {
    queue: VecDeque<Line>,
    /// The forwarding thread runs (in this process).
    forwarding: bool,
    /// The forwarding thread is handing a line to Python.
    busy: bool,
    /// The interpreter is exiting: lines go to standard error.
    closed: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    queue: VecDeque::new(),
    forwarding: false,
    busy: false,
    closed: false,
});

/// Signalled when a line is queued, when the forwarder is done with one, and on closing.
static CHANGED: Condvar = Condvar::new();

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
        let mut state = STATE.lock();
        if state.closed || state.queue.len() >= MAX_QUEUED {
            drop(state);
            line.write_to_stderr();
            return;
        }
        state.queue.push_back(line);
        if !state.forwarding {
            state.forwarding = start_forwarding();
        }
        CHANGED.notify_all();
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

/// Starts the forwarding thread; `false` (lines wait for the next try) if it cannot start.
fn start_forwarding() -> bool {
    std::thread::Builder::new()
        .name("opsml-logging".into())
        .spawn(forward_lines)
        .is_ok()
}

fn forward_lines() {
    loop {
        let line = {
            let mut state = STATE.lock();
            loop {
                if state.closed {
                    state.forwarding = false;
                    return;
                }
                if let Some(line) = state.queue.pop_front() {
                    state.busy = true;
                    break line;
                }
                CHANGED.wait(&mut state);
            }
        };
        if Python::try_attach(|py| hand_over(py, &line)).is_none() {
            line.write_to_stderr();
        }
        STATE.lock().busy = false;
        CHANGED.notify_all();
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

/// Called by the module's exit hook, after experiments were ended: hands every queued line to
/// Python on this thread, which holds the GIL, and sends later lines to standard error.
#[pyfunction]
pub(crate) fn _close_logging(py: Python<'_>) {
    let queued = py.detach(|| {
        let mut state = STATE.lock();
        state.closed = true;
        CHANGED.notify_all();
        // A line being handed over finishes first: the forwarder needs the GIL for it.
        while state.busy {
            CHANGED.wait(&mut state);
        }
        std::mem::take(&mut state.queue)
    });
    for line in &queued {
        hand_over(py, line);
    }
}

/// Called in a forked child: it has no forwarding thread, and the lines queued are the
/// parent's to hand over.
pub(crate) fn after_fork_in_child() {
    opsml_experiment::reset_after_fork(&STATE);
}
