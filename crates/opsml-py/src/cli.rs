//! The `opsml` command line, run inside the Python process for the wheel's console script.

use std::ffi::OsString;

use pyo3::prelude::*;

/// Runs the `opsml` command line with `argv` (program name first) on this process's standard
/// streams; returns the exit status.
#[pyfunction]
pub(crate) fn _cli_main(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    py.detach(|| opsml_cli::main_with_args(argv))
}
