//! `download` and `delete`.

mod common;

use std::fs;

use common::{answering, fixture, piped, run, terminal, tsv};

#[test]
fn download_writes_every_artifact_byte_for_byte() {
    let fx = fixture();
    let dest = fx.dir.path().join("restored");
    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.first,
            "-o",
            dest.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        output.err, "",
        "no progress bar when standard error is not a terminal"
    );
    let weights = dest.join("model").join("weights.bin");
    let notes = dest.join("notes.txt");
    assert_eq!(
        output.out,
        format!("{}\n{}\n", weights.display(), notes.display())
    );
    assert_eq!(fs::read(&weights).unwrap(), fx.weights);
    assert_eq!(fs::read(&notes).unwrap(), b"first run\n");
}

#[test]
fn download_of_a_path_takes_only_what_is_at_or_under_it() {
    let fx = fixture();
    let dest = fx.dir.path().join("restored");
    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.first,
            "model",
            "-o",
            dest.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let weights = dest.join("model/weights.bin");
    assert_eq!(output.out, format!("{}\n", weights.display()));
    assert_eq!(fs::read(&weights).unwrap(), fx.weights);
    assert!(!dest.join("notes.txt").exists());

    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.first,
            "nothing/here",
            "-o",
            dest.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert_eq!(
        output.err,
        format!(
            "opsml: experiment {} has no artifact \"nothing/here\"\n",
            fx.first
        )
    );
    let output = run(
        &fx,
        &["experiments", "download", &fx.first, "../escape"],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert!(output.err.contains("\"../escape\""), "{output:?}");
}

#[test]
fn download_of_an_experiment_without_artifacts_says_so() {
    let fx = fixture();
    let dest = fx.dir.path().join("restored");
    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.second,
            "-o",
            dest.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!((output.code, output.out.as_str()), (0, ""));
    assert_eq!(
        output.err,
        format!("experiment {} has no artifacts\n", fx.second)
    );
    assert!(!dest.exists());
}

fn listed(fx: &common::Fixture) -> Vec<String> {
    let output = run(fx, &["experiments", "list"], piped());
    tsv(&output.out)[1..].iter().map(|r| r[0].clone()).collect()
}

#[test]
fn delete_without_a_terminal_needs_yes() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "delete", &fx.first], piped());
    assert_eq!(output.code, 2, "{output:?}");
    assert!(output.err.starts_with("opsml: "), "{output:?}");
    assert!(output.err.contains("pass --yes"), "{output:?}");
    assert_eq!(output.err.lines().count(), 1);
    assert!(listed(&fx).contains(&fx.first));
}

#[test]
fn delete_asks_on_a_terminal_and_keeps_the_experiment_unless_told_yes() {
    let fx = fixture();
    let question = format!(
        "Delete experiment resnet v0.1.0 ({}) and its artifacts? [y/N] ",
        fx.first
    );
    for answer in ["n\n", "\n", "", "maybe\n"] {
        let output = run(
            &fx,
            &["experiments", "delete", &fx.first],
            answering(answer),
        );
        assert_eq!(output.code, 1, "{answer:?}: {output:?}");
        assert_eq!(output.err, format!("{question}opsml: not deleted\n"));
        assert!(listed(&fx).contains(&fx.first));
    }
    let objects = fx.storage.join("experiment").join(&fx.first);
    assert!(objects.is_dir());

    let output = run(&fx, &["experiments", "delete", &fx.first], answering("y\n"));
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.err, question);
    assert_eq!(
        output.out,
        format!("deleted experiment resnet v0.1.0 ({})\n", fx.first)
    );
    assert_eq!(listed(&fx), [fx.second.clone(), fx.child.clone()]);
    assert!(!objects.exists(), "artifact objects are removed");
    let shown = run(&fx, &["experiments", "show", &fx.first], piped());
    assert_eq!(shown.code, 1);
    assert!(shown.err.contains(&fx.first));
    // The child stays, without a parent.
    let child = run(&fx, &["experiments", "show", &fx.child], piped());
    assert!(child.out.contains("\nparent\t\n"), "{child:?}");
}

#[test]
fn delete_with_yes_does_not_ask() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "rm", &fx.second, "--yes"], terminal());
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.err, "");
    assert_eq!(listed(&fx), [fx.child.clone(), fx.first.clone()]);
    // The other experiment's artifacts are untouched.
    let dest = fx.dir.path().join("restored");
    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.first,
            "-o",
            dest.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        fs::read(dest.join("model/weights.bin")).unwrap(),
        fx.weights
    );
}

#[test]
fn download_with_a_terminal_still_writes_only_file_names_to_stdout() {
    let fx = fixture();
    let dest = fx.dir.path().join("restored");
    let console = opsml_cli::Console {
        stdout_is_terminal: true,
        stderr_is_terminal: true,
        input: None,
    };
    let output = run(
        &fx,
        &[
            "experiments",
            "download",
            &fx.first,
            "-o",
            dest.to_str().unwrap(),
        ],
        console,
    );
    assert_eq!(output.code, 0, "{output:?}");
    // The bar draws on the process's own standard error, never into the output.
    assert_eq!(output.err, "");
    assert_eq!(output.out.lines().count(), 2, "{output:?}");
    assert_eq!(
        fs::read(dest.join("model/weights.bin")).unwrap(),
        fx.weights
    );
}
