//! The `opsml` binary as a real process, configured through the environment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::process::{Command, Stdio};

use common::{fixture, tsv, Fixture};

/// `opsml ARGS` in the fixture's directory, with the store and storage from the
/// environment variables (or their defaults, which the fixture's layout matches).
fn opsml(fx: &Fixture, args: &[&str], from_env: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsml"));
    command
        .args(args)
        .current_dir(fx.dir.path())
        .stdin(Stdio::null())
        .env_remove("OPSML_TRACKING_URI")
        .env_remove("OPSML_STORAGE_URI");
    if from_env {
        command
            .env(
                "OPSML_TRACKING_URI",
                format!("sqlite:///{}", fx.db.display()),
            )
            .env("OPSML_STORAGE_URI", &fx.storage);
    }
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn help_describes_the_commands() {
    let fx = fixture();
    let output = opsml(&fx, &["--help"], true).output().unwrap();
    assert!(output.status.success());
    let help = text(&output.stdout);
    assert!(help.contains("experiments"), "{help}");
    assert!(help.contains("--tracking-uri"), "{help}");
    // Every kind of store and storage a user can name.
    for scheme in ["sqlite:///", "postgres://", "http(s)://", "s3://"] {
        assert!(
            help.contains(scheme),
            "{scheme} is not in the help:\n{help}"
        );
    }
    let output = opsml(&fx, &["experiments", "export", "--help"], true)
        .output()
        .unwrap();
    let help = text(&output.stdout);
    assert!(help.contains("leading uid column"), "{help}");
    assert!(help.contains("parquet"), "{help}");
    assert!(help.contains("zstd"), "{help}");
}

#[test]
fn list_reads_the_store_of_the_environment_and_pipes_plain_text() {
    let fx = fixture();
    for from_env in [true, false] {
        let output = opsml(&fx, &["experiments", "list"], from_env)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(text(&output.stderr), "");
        let rows = tsv(&text(&output.stdout));
        assert_eq!(rows[0][0], "uid");
        let uids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            uids,
            [&fx.second, &fx.child, &fx.first],
            "from_env: {from_env}"
        );
    }
}

#[test]
fn tracking_uri_option_overrides_the_environment() {
    let fx = fixture();
    let other = tempfile::tempdir().unwrap();
    let output = opsml(&fx, &["experiments", "list"], false)
        .env(
            "OPSML_TRACKING_URI",
            format!("sqlite:///{}", other.path().join("elsewhere.db").display()),
        )
        .args(["--tracking-uri", &format!("sqlite:///{}", fx.db.display())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(tsv(&text(&output.stdout)).len(), 4);
}

#[test]
fn errors_are_one_line_on_stderr_with_exit_code_1() {
    let fx = fixture();
    let output = opsml(&fx, &["experiments", "show", "0000-nope"], true)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "opsml: no experiment with uid \"0000-nope\"\n"
    );

    let output = opsml(&fx, &["experiments", "show"], true).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "usage error");

    // stdin is not a terminal: deleting needs --yes.
    let output = opsml(&fx, &["experiments", "delete", &fx.first], true)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--yes"));
}

#[test]
fn download_uses_the_storage_of_the_environment() {
    let fx = fixture();
    let output = opsml(&fx, &["experiments", "download", &fx.first, "model"], true)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout), "artifacts/model/weights.bin\n");
    let written = std::fs::read(fx.dir.path().join("artifacts/model/weights.bin")).unwrap();
    assert_eq!(written, fx.weights);
}

#[test]
fn download_without_a_master_key_refuses_and_creates_none() {
    let fx = fixture();
    let key_file = fx.db.with_extension("key");
    if key_file.exists() {
        std::fs::remove_file(&key_file).unwrap();
    }
    let output = opsml(&fx, &["experiments", "download", &fx.first], true)
        .env_remove("OPSML_ENCRYPT_SECRET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).starts_with("opsml: no master key to decrypt artifacts"),
        "{output:?}"
    );
    assert!(!key_file.exists());
}

#[test]
fn search_help_explains_the_filter_language() {
    let fx = fixture();
    let output = opsml(&fx, &["experiments", "search", "--help"], true)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stderr), "");
    let help = text(&output.stdout);
    for expected in [
        "Usage: opsml experiments search [OPTIONS] <FILTER>",
        "--order-by <ITEM>",
        "--space <SPACE>",
        "--limit <LIMIT>",
        "[default: 50]",
        "metrics.NAME.STAT",
        "params.NAME",
        "is null",
        "metrics.loss.min < 0.1",
    ] {
        assert!(help.contains(expected), "{expected:?} missing in\n{help}");
    }
}

#[test]
fn search_and_report_run_as_a_process() {
    let fx = fixture();
    let output = opsml(
        &fx,
        &[
            "experiments",
            "search",
            "metrics.loss.min < 1 and tags = 'gpu'",
        ],
        true,
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let rows = tsv(&text(&output.stdout));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], fx.first);

    let output = opsml(&fx, &["experiments", "search", "status ="], true)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).starts_with("opsml: "), "{output:?}");

    // The default report path is report.html in the working directory.
    let output = opsml(
        &fx,
        &["experiments", "report", &fx.first, &fx.second],
        false,
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout), "report.html\n");
    assert_eq!(text(&output.stderr), "");
    let html = std::fs::read_to_string(fx.dir.path().join("report.html")).unwrap();
    assert!(html.contains(&fx.first) && html.contains(&fx.second));
    assert_eq!(html.matches("<svg").count(), 3, "one chart per metric");
}
