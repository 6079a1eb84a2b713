//! The `opsml` command: [`opsml_cli::main_with_args`] on the process's arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = opsml_cli::main_with_args(std::env::args_os().collect());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
