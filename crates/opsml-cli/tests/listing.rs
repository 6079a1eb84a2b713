//! `list` and `show`, piped and on a terminal, and the errors every command shares.

mod common;

use common::{fixture, piped, run, run_raw, terminal, tsv};

#[test]
fn piped_list_is_tab_separated_newest_first() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "list"], piped());
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.err, "");
    let rows = tsv(&output.out);
    assert_eq!(
        rows[0],
        ["uid", "space", "name", "version", "status", "created", "duration"]
    );
    let uids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(uids, [&fx.second, &fx.child, &fx.first]);
    let second = &rows[1];
    assert_eq!(second[1..5], ["nlp", "bert", "0.1.0", "failed"]);
    assert_eq!(rows[3][1..5], ["vision", "resnet", "0.1.0", "completed"]);
    for row in &rows[1..] {
        chrono::DateTime::parse_from_rfc3339(&row[5]).unwrap();
        assert!(row[5].ends_with('Z'), "{row:?}");
        let seconds: f64 = row[6].parse().unwrap();
        assert!((0.0..60.0).contains(&seconds), "{row:?}");
    }
}

#[test]
fn list_filters_by_space_name_tags_and_limit() {
    let fx = fixture();
    let uids = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["experiments", "list"];
        full.extend_from_slice(args);
        let output = run(&fx, &full, piped());
        assert_eq!(output.code, 0, "{output:?}");
        tsv(&output.out)[1..].iter().map(|r| r[0].clone()).collect()
    };
    assert_eq!(
        uids(&["--space", "vision"]),
        [fx.child.as_str(), fx.first.as_str()]
    );
    assert_eq!(uids(&["--name", "bert"]), [fx.second.as_str()]);
    assert_eq!(
        uids(&["--tag", "baseline"]),
        [fx.second.as_str(), fx.first.as_str()]
    );
    assert_eq!(
        uids(&["--tag", "baseline", "--tag", "gpu"]),
        [fx.first.as_str()]
    );
    assert_eq!(uids(&["--limit", "1"]), [fx.second.as_str()]);
    assert_eq!(uids(&["--limit", "0"]).len(), 3);
    assert!(uids(&["--space", "audio"]).is_empty());
    // The short alias.
    let output = run(&fx, &["exp", "ls", "--name", "resnet"], piped());
    assert_eq!(tsv(&output.out)[1][0], fx.first);
}

#[test]
fn terminal_list_is_aligned_with_local_times() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "list"], terminal());
    assert_eq!(output.code, 0, "{output:?}");
    let text = &output.out;
    assert!(!text.contains('\t'), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[1].chars().all(|c| c == '─'), "{text}");
    // Every column starts at the same place on every line.
    let column = |line: &str, value: &str| line.find(value).unwrap();
    let name_at = column(lines[0], "name");
    assert_eq!(column(lines[2], "bert"), name_at, "{text}");
    assert_eq!(column(lines[4], "resnet"), name_at, "{text}");
    let created_at = column(lines[0], "created");
    let created = &lines[4][created_at..created_at + 19];
    chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("{created:?}: {e}"));
    assert!(
        lines[4].trim_end().ends_with('s'),
        "readable duration: {text}"
    );
}

#[test]
fn terminal_list_of_nothing_says_so() {
    let fx = fixture();
    let output = run(
        &fx,
        &["experiments", "list", "--space", "audio"],
        terminal(),
    );
    assert_eq!((output.code, output.out.as_str()), (0, ""));
    assert!(output.err.contains("no experiments found"), "{output:?}");
}

#[test]
fn piped_show_gives_every_field_as_key_value_lines() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "show", &fx.first], piped());
    assert_eq!(output.code, 0, "{output:?}");
    let rows = tsv(&output.out);
    assert!(rows.iter().all(|r| r.len() == 2), "{rows:?}");
    let get = |key: &str| -> Vec<&str> {
        rows.iter()
            .filter(|r| r[0] == key)
            .map(|r| r[1].as_str())
            .collect()
    };
    assert_eq!(get("uid"), [fx.first.as_str()]);
    assert_eq!(get("space"), ["vision"]);
    assert_eq!(get("name"), ["resnet"]);
    assert_eq!(get("version"), ["0.1.0"]);
    assert_eq!(get("status"), ["completed"]);
    assert_eq!(get("tags"), ["baseline, gpu"]);
    assert_eq!(get("parent"), [""]);
    assert_eq!(get("child"), [fx.child.as_str()]);
    assert_eq!(get("param.lr"), ["0.001"]);
    assert_eq!(get("param.epochs"), ["10"]);
    assert_eq!(get("param.optimizer"), ["adam, \"fused\""]);
    assert_eq!(get("param.nesterov"), ["true"]);
    assert_eq!(get("param.clip"), ["nan"]);
    assert_eq!(get("metric.loss.count"), ["4"]);
    assert_eq!(get("metric.loss.last_step"), ["2"]);
    assert_eq!(get("metric.accuracy.count"), ["2"]);
    assert_eq!(get("metric.reward.count"), ["1"]);
    assert_eq!(get("artifacts.files"), ["2"]);
    assert_eq!(
        get("artifacts.size"),
        [(fx.weights.len() + b"first run\n".len())
            .to_string()
            .as_str()]
    );
    let cpus: usize = get("compute.cpus")[0].parse().unwrap();
    assert!(cpus > 0);
    chrono::DateTime::parse_from_rfc3339(get("created")[0]).unwrap();
    chrono::DateTime::parse_from_rfc3339(get("ended")[0]).unwrap();

    let child = run(&fx, &["experiments", "show", &fx.child], piped());
    assert!(
        child.out.contains(&format!("\nparent\t{}\n", fx.first)),
        "{child:?}"
    );
}

#[test]
fn terminal_show_has_titled_aligned_sections() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "show", &fx.first], terminal());
    assert_eq!(output.code, 0, "{output:?}");
    let text = &output.out;
    for title in [
        "Experiment\n",
        "\nCompute environment\n",
        "\nParameters\n",
        "\nMetrics\n",
        "\nArtifacts\n",
    ] {
        assert!(text.contains(title), "{title:?} missing in\n{text}");
    }
    assert!(!text.contains('\t'));
    assert!(text.contains("4 points"), "{text}");
    assert!(
        text.contains(&format!("{} (fold-1 v0.1.0)", fx.child)),
        "{text}"
    );
    // Values start in one column.
    let value_at = |key: &str| {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap();
        line.len() - line[key.len() + 2..].trim_start().len()
    };
    assert_eq!(value_at("uid"), value_at("lr"));
    assert_eq!(value_at("uid"), value_at("accuracy"));
}

#[test]
fn an_unknown_uid_is_named_with_exit_code_1() {
    let fx = fixture();
    for command in [
        vec!["show", "nope"],
        vec!["metrics", "nope"],
        vec!["params", "nope"],
        vec!["export", "nope", "-o", "-"],
        vec!["download", "nope"],
        vec!["delete", "nope", "--yes"],
        vec!["compare", "nope"],
        vec!["plot", "nope", "-o", "chart.svg"],
        vec!["report", "nope", "-o", "report.html"],
    ] {
        let mut args = vec!["experiments"];
        args.extend(&command);
        let output = run(&fx, &args, piped());
        assert_eq!(output.code, 1, "{command:?}: {output:?}");
        assert_eq!(output.out, "", "{command:?}");
        assert_eq!(
            output.err, "opsml: no experiment with uid \"nope\"\n",
            "{command:?}"
        );
    }
}

#[test]
fn a_missing_store_is_an_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    let output = run_raw(
        vec![
            "opsml".into(),
            "--tracking-uri".into(),
            format!("sqlite://{}", db.display()),
            "experiments".into(),
            "list".into(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert!(
        output
            .err
            .starts_with(&format!("opsml: no opsml store at {}", db.display())),
        "{output:?}"
    );
    assert!(!db.exists());
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let output = run_raw(
        vec!["opsml".into(), "experiments".into(), "frobnicate".into()],
        piped(),
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert!(output.err.contains("frobnicate"), "{output:?}");
    assert!(!output.err.contains('\u{1b}'), "no colour when piped");

    let output = run_raw(
        vec!["opsml".into(), "experiments".into(), "--help".into()],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    for command in [
        "list", "search", "show", "compare", "metrics", "params", "plot", "report", "export",
        "download", "delete",
    ] {
        assert!(
            output.out.contains(command),
            "{command} missing: {}",
            output.out
        );
    }
    let output = run_raw(vec!["opsml".into(), "--version".into()], piped());
    assert_eq!((output.code, output.out.trim()), (0, "opsml 0.1.0"));
}
