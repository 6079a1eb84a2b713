//! The `opsml` command: a thin wrapper around [`opsml_cli::run_with`].

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let console = opsml_cli::Console::detect();
    // Standard error stays unlocked: the progress bar draws on it from download threads.
    let mut out = BufWriter::new(io::stdout().lock());
    let code = opsml_cli::run_with(std::env::args_os(), &mut out, &mut io::stderr(), console);
    // `run_with` flushed already; a pipe closed since then is not worth a message.
    let _ = out.flush();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
