//! Rust log lines of the module go through the `opsml` command's policy (see
//! `opsml_cli::logging`): stderr, `OPSML_LOG`, warnings by default.

pub(crate) fn init() {
    opsml_cli::logging::init("warn");
}
