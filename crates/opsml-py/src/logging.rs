//! Rust log lines of the module go through the `opsml` command's policy (see
//! `opsml_log`): stderr, `OPSML_LOG`, warnings by default.

pub(crate) fn init() {
    opsml_experiment::init_logging("warn");
}
