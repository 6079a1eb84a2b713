//! Starting the `opsml-server` binary with a bad configuration: it refuses, naming what to
//! fix, and never shows a password.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

use std::process::{Command, Stdio};

/// What `opsml-server` says on standard error when it stops at once, with a fresh SQLite
/// store and these admin variables.
fn refusal(username: &str, password: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_opsml-server"))
        .args(["--port", "0"])
        .env(
            "OPSML_TRACKING_URI",
            format!("sqlite:///{}", dir.path().join("opsml.db").display()),
        )
        .env("OPSML_STORAGE_URI", dir.path().join("objects"))
        .env(opsml_server::ADMIN_USERNAME_ENV, username)
        .env(opsml_server::ADMIN_PASSWORD_ENV, password)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "started with {password:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_short_admin_password_is_refused_naming_the_variable_and_the_minimum() {
    let message = refusal("root", "hunter2");
    assert!(message.contains("OPSML_ADMIN_PASSWORD"), "{message}");
    let minimum = opsml_server::MIN_PASSWORD_CHARS.to_string();
    assert!(
        message.contains(&format!("at least {minimum}")),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn an_admin_name_that_is_not_a_name_is_refused_naming_its_variable() {
    let message = refusal("ro\tot", "long enough password");
    assert!(message.contains("OPSML_ADMIN_USERNAME"), "{message}");
}
