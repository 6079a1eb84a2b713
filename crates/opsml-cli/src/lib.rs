//! The `opsml` command line, as a library.
//!
//! [`run_with`] parses the arguments, runs the command and returns the exit code;
//! [`main_with_args`] does so on the process's own standard streams, and is what the
//! `opsml` binary runs and what the Python package's console script calls. The store
//! is the one the Python API uses: `OPSML_TRACKING_URI` (default
//! `sqlite:///<cwd>/opsml.db`), overridden by `--tracking-uri`; artifacts live in
//! `OPSML_STORAGE_URI` (default `<cwd>/opsml_registries`), overridden by
//! `--storage-uri`, and are opened with `OPSML_ENCRYPT_SECRET` or the key file beside
//! the store.
//!
//! Commands (`opsml experiments …`, alias `opsml exp …`):
//!
//! | command | does |
//! |---|---|
//! | `list [--space S] [--name N] [--tag T]… [--limit N]` (alias `ls`) | experiments, newest first (limit 50; 0 = all) |
//! | `search FILTER [--space S] [--order-by ITEM]… [--limit N]` | experiments matching a filter (`opsml_query`'s language), as `list` prints them |
//! | `show UID` | the card, environment, git, parameters, metric summaries, artifacts |
//! | `compare UID… [--format table\|csv\|json]` | parameters (differing first) and metric statistics side by side, `*` where they differ |
//! | `metrics UID [--name N]… [--steps START:STOP] [--max-points N] [--format table\|csv\|json]` | metric points: all, a half-open step range, and/or at most N per metric (LTTB) |
//! | `params UID [--format table\|csv\|json]` | the parameters |
//! | `plot UID… [--name N]… -o PATH` | a chart of the metrics, PNG or SVG by `PATH`'s extension |
//! | `report UID… [-o PATH]` | a self-contained HTML report (default `report.html`) |
//! | `export UID… [--format csv\|jsonl\|parquet] -o PATH` | points of several experiments, leading `uid` column; `-o -` is stdout (not for parquet) |
//! | `download UID [PATH] [-o DIR]` | artifacts into `DIR` (default `./artifacts`) |
//! | `delete UID [--yes]` (alias `rm`) | the card, its data and its artifact files |
//!
//! Output: on a terminal, aligned tables and local times; otherwise tab-separated
//! lines with a header (tabs, line breaks and backslashes in values escaped as
//! `\t`, `\n`, `\\`), ISO-8601 UTC times and durations in seconds. Values: floats
//! in their shortest round-tripping form, non-finite ones as `nan`/`inf`/`-inf`
//! in tables and CSV and as the strings `"NaN"`/`"Infinity"`/`"-Infinity"` in JSON.
//! A Parquet export (zstd-compressed) has typed columns: `uid` and `name`
//! (`Dictionary<UInt32, Utf8>`), `step` and `timestamp` (nullable `Int64`), `value`
//! (`Float64`, non-finite values as they are) and `created_at`
//! (`Timestamp(Microsecond, "UTC")`); it is written one experiment at a time, in record
//! batches of at most 65,536 points.
//!
//! There are no top-level shortcuts (`opsml show UID`): the top level is kept for
//! other nouns (a server, reports); `exp`, `ls` and `rm` are the short forms.
//!
//! Files (`export`, `plot`, `report`) are written beside their final path and
//! renamed into place once complete, so a failure leaves no partial file.
//!
//! Errors print one line `opsml: <message>` on standard error and exit with 1
//! (an unknown uid names it; a deletion answered with anything but `y` is "not
//! deleted"; a search filter that does not parse adds a second line with a caret
//! under the mistake); usage errors (clap's, a Parquet export to `-o -`, an unsupported
//! chart extension, a uid given twice, a deletion that cannot be confirmed because
//! standard input is not a terminal) exit with 2.
//! Standard output closed early (`| head`) exits quietly with 0.
//!
//! ```no_run
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let code = opsml_cli::run_with(
//!     ["opsml", "experiments", "list", "--tracking-uri", "sqlite:///tmp/opsml.db"],
//!     &mut out,
//!     &mut err,
//!     opsml_cli::Console::plain(),
//! );
//! assert_eq!(code, 0);
//! ```

mod args;
mod commands;
mod context;
mod error;
mod escape;
mod format;
mod output;
mod points;
mod table;

#[cfg(feature = "server")]
pub use commands::serve_ui;
#[cfg(feature = "server")]
pub use opsml_server::UiLaunch;

use std::ffi::OsString;
use std::io::{self, BufRead, BufWriter, IsTerminal, Write};

use clap::Parser;

use args::Cli;
use context::Context;

/// What the command line talks to besides its output streams: whether standard
/// output and standard error are terminals, and where answers to questions come from.
pub struct Console<'a> {
    /// Aligned tables and local times when `true`; tab-separated lines otherwise.
    pub stdout_is_terminal: bool,
    /// Draw progress bars (on the process's standard error) when `true`.
    pub stderr_is_terminal: bool,
    /// Where an answer to a confirmation question is read from: the terminal, or
    /// `None` when there is none (standard input is not a terminal).
    pub input: Option<Box<dyn BufRead + 'a>>,
}

impl std::fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("stdout_is_terminal", &self.stdout_is_terminal)
            .field("stderr_is_terminal", &self.stderr_is_terminal)
            .field("input", &self.input.is_some())
            .finish()
    }
}

impl Console<'static> {
    /// The process's own standard streams, each checked with [`IsTerminal`].
    pub fn detect() -> Self {
        let stdin = io::stdin();
        Self {
            stdout_is_terminal: io::stdout().is_terminal(),
            stderr_is_terminal: io::stderr().is_terminal(),
            input: if stdin.is_terminal() {
                Some(Box::new(stdin.lock()))
            } else {
                None
            },
        }
    }

    /// No terminal at all: plain output, no progress bars, no questions.
    pub fn plain() -> Self {
        Self {
            stdout_is_terminal: false,
            stderr_is_terminal: false,
            input: None,
        }
    }
}

/// Runs the command line as the `opsml` program: on `args` (the program name first),
/// writing to the process's standard output and standard error, asking questions on
/// its standard input when that is a terminal ([`Console::detect`]). Returns the exit
/// code: 0, 1 for a failure, 2 for a usage error.
///
/// The `opsml` binary is this function; the Python package's console script calls it
/// with `sys.argv` (after flushing Python's own buffered output).
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let console = Console::detect();
    // Standard error stays unlocked: the progress bar draws on it from download threads.
    let mut out = BufWriter::new(io::stdout().lock());
    let code = run_with(args, &mut out, &mut io::stderr(), console);
    // `run_with` flushed already; a pipe closed since then is not worth a message.
    let _ = out.flush();
    code
}

/// Runs the command line on `args` (the program name first) with the process's
/// own terminals ([`Console::detect`]), writing to `out` and `err`; returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    run_with(args, out, err, Console::detect())
}

/// Runs the command line on `args` (the program name first) with `console`
/// deciding how output looks and whether questions can be asked; returns the exit code.
pub fn run_with(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    console: Console<'_>,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_parse_error(&e, out, err, &console),
    };
    opsml_log::set_default(if cli.command.serves() { "info" } else { "warn" });
    let verbatim = std::rc::Rc::default();
    let mut out = escape::Printable::new(out, std::rc::Rc::clone(&verbatim));
    let mut err = escape::Printable::new(err, std::rc::Rc::default());
    let mut context = Context::new(
        &mut out,
        &mut err,
        console,
        cli.tracking_uri,
        cli.storage_uri,
    )
    .with_verbatim_switch(verbatim);
    let result = commands::run(&mut context, cli.command).and_then(|()| {
        context.out.flush()?;
        Ok(())
    });
    match result {
        Ok(()) => 0,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            let _ = context.out.flush();
            let _ = writeln!(context.err, "{}", error_message(&e));
            e.exit_code()
        }
    }
}

/// `opsml: <error>`, later lines of the message indented by as much as the prefix, so
/// that a caret under a filter still points at its mistake.
fn error_message(error: &error::CliError) -> String {
    const PREFIX: &str = "opsml: ";
    let indent = format!("\n{:width$}", "", width = PREFIX.len());
    format!("{PREFIX}{}", error.to_string().replace('\n', &indent))
}

/// Help and version go to standard output with exit code 0; usage errors to
/// standard error with exit code 2. Styled only for a terminal.
fn report_parse_error(
    error: &clap::Error,
    out: &mut dyn Write,
    err: &mut dyn Write,
    console: &Console<'_>,
) -> i32 {
    let render = |terminal: bool| {
        let rendered = error.render();
        if terminal {
            rendered.ansi().to_string()
        } else {
            rendered.to_string()
        }
    };
    let write = |stream: &mut dyn Write, text: String| {
        let _ = stream.write_all(text.as_bytes());
        let _ = stream.flush();
    };
    if error.use_stderr() {
        write(err, render(console.stderr_is_terminal));
    } else {
        write(out, render(console.stdout_is_terminal));
    }
    error.exit_code()
}
