//! `compare`, `search`, `plot`, `report`, `show`'s metric summaries and the point
//! selection of `metrics`, against what was logged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{
    csv, fixture, micros, param, piped, run, same, stored_points, terminal, tsv, value, Fixture,
};
use opsml_experiment::{MetricPoint, ParameterValue, Status};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// compare

/// What a comparison should say about one metric of one experiment, worked out from the
/// stored points (not from the store's summaries).
#[derive(Debug)]
struct Expected {
    count: u64,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    last: f64,
}

fn expected_metrics(fx: &Fixture, uid: &str) -> BTreeMap<String, Expected> {
    let mut by_name: BTreeMap<String, Vec<MetricPoint>> = BTreeMap::new();
    // Read-back order: by name, then step (points without one first), then as logged.
    for (name, point) in stored_points(fx, uid) {
        by_name.entry(name).or_default().push(point);
    }
    by_name
        .into_iter()
        .map(|(name, points)| {
            let values: Vec<f64> = points
                .iter()
                .map(|p| p.value)
                .filter(|v| !v.is_nan())
                .collect();
            let expected = Expected {
                count: points.len() as u64,
                min: values.iter().copied().reduce(f64::min),
                max: values.iter().copied().reduce(f64::max),
                mean: (!values.is_empty())
                    .then(|| values.iter().sum::<f64>() / values.len() as f64),
                last: points.last().unwrap().value,
            };
            (name, expected)
        })
        .collect()
}

/// The statistic `stat` of `expected`, as a JSON value of the comparison would hold it.
fn expected_json(expected: &Expected, stat: &str) -> Value {
    let number = |v: Option<f64>| match v {
        None => Value::Null,
        Some(v) if v.is_nan() => Value::from("NaN"),
        Some(v) if v == f64::INFINITY => Value::from("Infinity"),
        Some(v) if v == f64::NEG_INFINITY => Value::from("-Infinity"),
        Some(v) => Value::from(v),
    };
    match stat {
        "count" => Value::from(expected.count),
        "min" => number(expected.min),
        "max" => number(expected.max),
        "mean" => number(expected.mean),
        "last" => number(Some(expected.last)),
        other => panic!("unexpected statistic {other}"),
    }
}

fn parameter_json(value: &ParameterValue) -> Value {
    match value {
        ParameterValue::Int(v) => Value::from(*v),
        ParameterValue::Float(v) if v.is_nan() => Value::from("NaN"),
        ParameterValue::Float(v) => Value::from(*v),
        ParameterValue::Str(v) => Value::from(v.as_str()),
        ParameterValue::Bool(v) => Value::from(*v),
        ParameterValue::Null => Value::Null,
    }
}

/// Two JSON values of a comparison are the same value (a mean within rounding).
fn same_json(key: &str, got: &Value, want: &Value) -> bool {
    let is_mean = key.rsplit_once('.').is_some_and(|(_, stat)| stat == "mean");
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) if is_mean => (g - w).abs() <= 1e-12 * w.abs(),
        (Some(g), Some(w)) => g.to_bits() == w.to_bits(),
        _ => got == want,
    }
}

/// A third experiment like `first` (same space and name, so a later version), with one
/// parameter changed, one added, and metrics of its own.
fn rerun(fx: &Fixture) -> String {
    let exp = fx.start("vision", "resnet");
    exp.log_parameters(vec![
        param("lr", ParameterValue::Float(1e-3)),
        param("epochs", ParameterValue::Int(20)),
        param("optimizer", ParameterValue::Str("adam, \"fused\"".into())),
        param("nesterov", ParameterValue::Bool(true)),
        param("clip", ParameterValue::Float(f64::NAN)),
        param("seed", ParameterValue::Int(7)),
    ])
    .unwrap();
    for step in 0..4 {
        exp.log_metric("loss", 1.0 / f64::from(step + 1), Some(i64::from(step)))
            .unwrap();
    }
    exp.log_metric("val_loss", 0.25, Some(3)).unwrap();
    exp.end(Status::Completed).unwrap();
    exp.uid().to_owned()
}

#[test]
fn compare_json_matches_the_logged_parameters_and_metrics_value_for_value() {
    let fx = fixture();
    let third = rerun(&fx);
    let uids = [fx.first.as_str(), fx.second.as_str(), third.as_str()];
    let mut args = vec!["experiments", "compare"];
    args.extend(uids);
    args.extend(["--format", "json"]);
    let output = run(&fx, &args, piped());
    assert_eq!(output.code, 0, "{output:?}");
    let rows: Vec<Value> = serde_json::from_str(&output.out).unwrap();
    // One object a line, its fields in order: section, key, differs, then the uids.
    let lines: Vec<&str> = output.out.lines().collect();
    assert_eq!((lines[0], lines[lines.len() - 1]), ("[", "]"));
    assert_eq!(lines.len(), rows.len() + 2);
    for line in &lines[1..lines.len() - 1] {
        let mut fields = vec![
            "\"section\":".to_owned(),
            "\"key\":".into(),
            "\"differs\":".into(),
        ];
        fields.extend(uids.iter().map(|uid| format!("\"{uid}\":")));
        let at: Vec<usize> = fields
            .iter()
            .map(|f| line.find(f.as_str()).unwrap())
            .collect();
        assert_eq!(at[0], 1, "{line}");
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    let parameters: Vec<BTreeMap<String, ParameterValue>> = uids
        .iter()
        .map(|uid| {
            fx.store
                .read_parameters(uid, None)
                .unwrap()
                .into_iter()
                .map(|p| (p.name, p.value))
                .collect()
        })
        .collect();
    let metrics: Vec<BTreeMap<String, Expected>> =
        uids.iter().map(|uid| expected_metrics(&fx, uid)).collect();

    let mut expected_keys = Vec::new();
    let parameter_names: BTreeSet<&String> = parameters.iter().flat_map(|p| p.keys()).collect();
    let metric_names: BTreeSet<&String> = metrics.iter().flat_map(|m| m.keys()).collect();
    for name in &metric_names {
        for stat in ["last", "min", "max", "mean", "count"] {
            expected_keys.push(format!("{name}.{stat}"));
        }
    }
    assert_eq!(rows.len(), parameter_names.len() + expected_keys.len());

    let mut seen_shared_parameter = false;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.as_object().unwrap().len(), 3 + uids.len(), "{row}");
        let key = row["key"].as_str().unwrap();
        let cells: Vec<Value> = if i < parameter_names.len() {
            assert_eq!(row["section"], "parameter", "{row}");
            parameters
                .iter()
                .map(|p| p.get(key).map_or(Value::Null, parameter_json))
                .collect()
        } else {
            assert_eq!(row["section"], "metric", "{row}");
            assert_eq!(key, expected_keys[i - parameter_names.len()]);
            let (name, stat) = key.rsplit_once('.').unwrap();
            metrics
                .iter()
                .map(|m| m.get(name).map_or(Value::Null, |e| expected_json(e, stat)))
                .collect()
        };
        for (uid, want) in uids.iter().zip(&cells) {
            assert!(
                same_json(key, &row[*uid], want),
                "{key} of {uid}: {} vs {want}",
                row[*uid]
            );
        }
        // Missing differs from anything; NaN equals NaN.
        let differs = cells.windows(2).any(|w| !same_json(key, &w[0], &w[1]));
        assert_eq!(row["differs"], differs, "{row}");
        if row["section"] == "parameter" {
            // Parameters that differ come before those all share.
            assert!(
                !(differs && seen_shared_parameter),
                "differing first: {rows:?}"
            );
            seen_shared_parameter |= !differs;
        }
    }
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"seed") && keys.contains(&"val_loss.count"));
    // clip is NaN in two experiments and missing in one: it differs.
    let clip = rows.iter().find(|r| r["key"] == "clip").unwrap();
    assert_eq!(clip[fx.first.as_str()], "NaN");
    assert_eq!(clip[fx.second.as_str()], Value::Null);
    assert_eq!(clip["differs"], true);
}

#[test]
fn compare_of_two_runs_marks_only_what_differs() {
    let fx = fixture();
    let third = rerun(&fx);
    let output = run(
        &fx,
        &[
            "experiments",
            "compare",
            &fx.first,
            &third,
            "--format",
            "csv",
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let records = csv(&output.out);
    assert_eq!(
        records[0],
        [
            "section",
            "key",
            "differs",
            fx.first.as_str(),
            third.as_str()
        ]
    );
    let row = |key: &str| -> Vec<String> {
        records
            .iter()
            .find(|r| r[1] == key)
            .unwrap_or_else(|| panic!("no row {key}"))
            .clone()
    };
    // Differing parameters first, by name; then those both share, NaN included.
    let parameter_keys: Vec<&str> = records[1..]
        .iter()
        .filter(|r| r[0] == "parameter")
        .map(|r| r[1].as_str())
        .collect();
    assert_eq!(
        parameter_keys,
        ["epochs", "seed", "clip", "lr", "nesterov", "optimizer"]
    );
    assert_eq!(row("epochs")[2..], ["true", "10", "20"]);
    assert_eq!(row("seed")[2..], ["true", "", "7"]);
    assert_eq!(row("clip")[2..], ["false", "nan", "nan"]);
    assert_eq!(row("lr")[2..], ["false", "0.001", "0.001"]);
    assert_eq!(
        row("optimizer")[2..],
        ["false", "adam, \"fused\"", "adam, \"fused\""]
    );
    assert_eq!(row("nesterov")[2..], ["false", "true", "true"]);
    // Metric statistics, value for value.
    assert_eq!(row("loss.count")[2..], ["false", "4", "4"]);
    assert_eq!(row("loss.last")[2..], ["true", "0.5", "0.25"]);
    assert_eq!(row("loss.min")[2..], ["true", "0.1", "0.25"]);
    assert_eq!(row("loss.max")[2..], ["true", "0.75", "1.0"]);
    let mean = value(&row("loss.mean")[3]);
    assert!((mean - (0.75 + 0.1 + 0.5) / 3.0).abs() < 1e-12, "{mean}");
    assert_eq!(row("accuracy.max")[2..], ["true", "inf", ""]);
    assert_eq!(row("accuracy.min")[3], "1e-300");
    assert_eq!(row("reward.last")[2..], ["true", "-inf", ""]);
    assert_eq!(row("val_loss.last")[2..], ["true", "", "0.25"]);
}

#[test]
fn compare_table_has_headings_on_a_terminal_and_prefixed_keys_when_piped() {
    let fx = fixture();
    let third = rerun(&fx);
    let version = fx.store.get_experiment(&third).unwrap().unwrap().version;
    let heading = format!("resnet:{version}");
    assert_ne!(heading, "resnet:0.1.0");

    let output = run(&fx, &["experiments", "compare", &fx.first, &third], piped());
    assert_eq!(output.code, 0, "{output:?}");
    let rows = tsv(&output.out);
    assert_eq!(
        rows[0],
        ["differs", "key", "resnet:0.1.0", heading.as_str()]
    );
    assert!(rows.iter().all(|r| r.len() == 4), "{rows:?}");
    assert_eq!(rows[1], ["*", "param.epochs", "10", "20"]);
    assert_eq!(rows[2], ["*", "param.seed", "", "7"]);
    assert!(rows.contains(&vec![
        String::new(),
        "param.lr".into(),
        "0.001".into(),
        "0.001".into()
    ]));
    assert!(rows.contains(&vec![
        "*".into(),
        "metric.loss.last".into(),
        "0.5".into(),
        "0.25".into()
    ]));
    assert!(rows.contains(&vec![
        String::new(),
        "metric.loss.count".into(),
        "4".into(),
        "4".into()
    ]));

    let shown = run(
        &fx,
        &["experiments", "compare", &fx.first, &third],
        terminal(),
    );
    assert_eq!(shown.code, 0, "{shown:?}");
    let text = &shown.out;
    assert!(!text.contains('\t'), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("key") && lines[0].contains(&heading),
        "{text}"
    );
    assert!(lines[1].chars().all(|c| c == '─'), "{text}");
    assert_eq!(lines[2], "PARAMETERS", "{text}");
    let metrics_at = lines.iter().position(|l| *l == "METRICS").unwrap();
    assert_eq!(lines[metrics_at - 1], "", "{text}");
    let find = |key: &str| {
        *lines
            .iter()
            .find(|l| l.split_whitespace().any(|w| w == key))
            .unwrap_or_else(|| panic!("{key} missing in\n{text}"))
    };
    assert!(find("epochs").trim_start().starts_with('*'), "{text}");
    assert!(!find("lr").contains('*'), "{text}");
    // A missing value is a dash; values are right-aligned under their experiment.
    assert!(find("seed").trim_end().ends_with('7'), "{text}");
    assert_eq!(
        find("seed").split_whitespace().collect::<Vec<_>>(),
        ["*", "seed", "-", "7"]
    );
    assert_eq!(find("loss.last").len(), find("epochs").len(), "{text}");
    assert!(find("val_loss.last").contains(" - "), "{text}");
}

#[test]
fn compare_refuses_unknown_and_repeated_uids() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "compare", &fx.first, "nope"], piped());
    assert_eq!(output.code, 1, "{output:?}");
    assert_eq!(output.err, "opsml: no experiment with uid \"nope\"\n");
    let output = run(
        &fx,
        &["experiments", "compare", &fx.first, &fx.second, &fx.first],
        piped(),
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert_eq!(
        output.err,
        format!(
            "opsml: experiment {} is given twice; give each uid once\n",
            fx.first
        )
    );
    let output = run(&fx, &["experiments", "compare"], piped());
    assert_eq!(output.code, 2, "{output:?}");
}

// ---------------------------------------------------------------------------------------
// search

fn search(fx: &Fixture, args: &[&str]) -> Vec<String> {
    let mut full = vec!["experiments", "search"];
    full.extend_from_slice(args);
    let output = run(fx, &full, piped());
    assert_eq!(output.code, 0, "{args:?}: {output:?}");
    assert_eq!(output.err, "", "{args:?}");
    let rows = tsv(&output.out);
    assert_eq!(
        rows[0],
        ["uid", "space", "name", "version", "status", "created", "duration"]
    );
    rows[1..].iter().map(|r| r[0].clone()).collect()
}

#[test]
fn search_filters_on_fields_parameters_metrics_and_tags() {
    let fx = fixture();
    let (first, child, second) = (fx.first.as_str(), fx.child.as_str(), fx.second.as_str());
    assert_eq!(search(&fx, &["status = 'failed'"]), [second]);
    assert_eq!(search(&fx, &["status = 'completed'"]), [child, first]);
    // loss.min: first 0.1, child 2.0, second 2.5.
    assert_eq!(search(&fx, &["metrics.loss.min < 1"]), [first]);
    assert_eq!(search(&fx, &["metrics.loss.last >= 2"]), [second, child]);
    assert_eq!(search(&fx, &["metrics.loss.count = 4"]), [first]);
    assert_eq!(
        search(&fx, &["params.epochs = 10 and params.lr < 0.01"]),
        [first]
    );
    assert_eq!(search(&fx, &["params.lr is null"]), [second, child]);
    assert_eq!(
        search(&fx, &["tags = 'baseline'", "--order-by", "name asc"]),
        [second, first]
    );
    assert_eq!(
        search(&fx, &["", "--order-by", "metrics.loss.min desc"]),
        [second, child, first]
    );
    assert_eq!(search(&fx, &["", "--space", "vision"]), [child, first]);
    assert_eq!(
        search(&fx, &["name like 'res%'", "--space", "nlp"]),
        [] as [&str; 0]
    );
    assert_eq!(search(&fx, &["", "--limit", "1"]), [second]);
    assert_eq!(search(&fx, &["", "--limit", "0"]).len(), 3);
    assert_eq!(search(&fx, &[&format!("parent_uid = '{first}'")]), [child]);
}

#[test]
fn search_syntax_errors_exit_1_with_a_caret_under_the_mistake() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "search", "status > "], piped());
    assert_eq!(output.code, 1, "{output:?}");
    assert_eq!(output.out, "");
    let lines: Vec<&str> = output.err.lines().collect();
    assert_eq!(lines.len(), 2, "{output:?}");
    assert_eq!(
        lines[0],
        "opsml: expected a value after '>' at position 9: status > "
    );
    // The caret sits under position 9 of the filter as printed on the line above.
    let filter_at = lines[0].find("status > ").unwrap();
    assert_eq!(lines[1].find('^'), Some(filter_at + 9), "{}", output.err);
    assert!(lines[1][..filter_at + 9].chars().all(|c| c == ' '));

    let output = run(
        &fx,
        &[
            "experiments",
            "search",
            "status = 'failed' and metrics.loss >> 1",
        ],
        piped(),
    );
    assert_eq!(output.code, 1, "{output:?}");
    let lines: Vec<&str> = output.err.lines().collect();
    let filter = "status = 'failed' and metrics.loss >> 1";
    let caret = lines[1].find('^').unwrap() - lines[0].find(filter).unwrap();
    assert!(filter[caret..].starts_with('>'), "{}", output.err);

    let output = run(&fx, &["experiments", "search", "colour = 'red'"], piped());
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.err.starts_with("opsml: unknown field"), "{output:?}");

    let output = run(
        &fx,
        &[
            "experiments",
            "search",
            "",
            "--order-by",
            "name",
            "--order-by",
            "tags",
        ],
        piped(),
    );
    assert_eq!(output.code, 1, "{output:?}");
    assert!(
        output.err.contains("of order_by item 1: tags\n"),
        "{output:?}"
    );
}

#[test]
fn terminal_search_of_nothing_says_so() {
    let fx = fixture();
    let output = run(
        &fx,
        &["experiments", "search", "status = 'killed'"],
        terminal(),
    );
    assert_eq!((output.code, output.out.as_str()), (0, ""), "{output:?}");
    assert!(output.err.starts_with("no experiments match"), "{output:?}");
}

// ---------------------------------------------------------------------------------------
// plot

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Width and height from the IHDR chunk, which must come first.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(bytes[..8], PNG_SIGNATURE, "not a PNG");
    assert_eq!(&bytes[8..12], &13u32.to_be_bytes(), "IHDR length");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// Files in `dir` whose name starts with `.opsml-` (temporary files left behind).
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".opsml-"))
        .collect()
}

#[test]
fn plot_writes_a_png_of_every_metric() {
    let fx = fixture();
    let path = fx.dir.path().join("chart.png");
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            &fx.second,
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.out, format!("{}\n", path.display()));
    let bytes = fs::read(&path).unwrap();
    let (width, height) = png_size(&bytes);
    // Three panels (accuracy, loss, reward): wider or taller than one panel, not huge.
    assert!((600..=8192).contains(&width), "{width}x{height}");
    assert!((360..=8192).contains(&height), "{width}x{height}");
    assert!(width * height > 600 * 360, "{width}x{height}");
    assert!(leftovers(fx.dir.path()).is_empty());
}

#[test]
fn plot_writes_an_svg_of_the_named_metrics_labelled_by_experiment() {
    let fx = fixture();
    let path = fx.dir.path().join("loss.SVG");
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            &fx.second,
            "--name",
            "loss",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.out, format!("{}\n", path.display()));
    let text = fs::read_to_string(&path).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let size = |name: &str| -> f64 { root.attribute(name).unwrap().parse().unwrap() };
    // One panel.
    assert_eq!((size("width"), size("height")), (600.0, 360.0));
    let texts: Vec<&str> = document
        .descendants()
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for label in ["loss", "resnet:0.1.0", "bert:0.1.0"] {
        assert!(texts.contains(&label), "{label} missing in {texts:?}");
    }
    assert!(!texts.contains(&"accuracy"), "{texts:?}");
    assert!(leftovers(fx.dir.path()).is_empty());
}

#[test]
fn plot_refuses_other_extensions_unknown_metrics_and_experiments_without_metrics() {
    let fx = fixture();
    let path = fx.dir.path().join("chart.jpg");
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert_eq!(
        output.err,
        format!(
            "opsml: cannot plot to {}: a chart is written as PNG or SVG, so the path must end \
             in .png or .svg\n",
            path.display()
        )
    );
    assert!(!path.exists());

    let path = fx.dir.path().join("chart.png");
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            &fx.second,
            "--name",
            "loss",
            "--name",
            "acc",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1, "{output:?}");
    assert_eq!(
        output.err,
        "opsml: no experiment to plot has a metric \"acc\" (they have: accuracy, loss, reward)\n"
    );

    let empty = fx.start("vision", "empty");
    empty.end(Status::Completed).unwrap();
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            empty.uid(),
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1, "{output:?}");
    assert_eq!(
        output.err,
        format!(
            "opsml: nothing to plot: experiment {} has no metrics\n",
            empty.uid()
        )
    );
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            "nope",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.err, "opsml: no experiment with uid \"nope\"\n");
    assert!(!path.exists());

    // A directory that does not exist names the path.
    let missing = fx.dir.path().join("no/such/dir/chart.svg");
    let output = run(
        &fx,
        &[
            "experiments",
            "plot",
            &fx.first,
            "-o",
            missing.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1, "{output:?}");
    assert!(
        output
            .err
            .starts_with(&format!("opsml: {}: ", missing.display())),
        "{output:?}"
    );
}

// ---------------------------------------------------------------------------------------
// report

/// The `<svg …>…</svg>` elements of an HTML document, each parsed as XML.
fn svg_charts(html: &str) -> Vec<String> {
    let mut charts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("an svg element ends") + start + 6;
        let svg = &rest[start..end];
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg:.200}"));
        charts.push(svg.to_owned());
        rest = &rest[end..];
    }
    charts
}

#[test]
fn report_has_a_chart_per_metric_hardware_charts_and_every_parameter() {
    let fx = fixture();
    fx.add_hardware(&fx.second, 5);
    let path = fx.dir.path().join("out.html");
    let output = run(
        &fx,
        &[
            "experiments",
            "report",
            &fx.first,
            &fx.second,
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.out, format!("{}\n", path.display()));
    let html = fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html:.100}");
    assert!(html.trim_end().ends_with("</html>"));
    // Nothing is fetched from elsewhere.
    for outside in ["<script src", "<link", "http://", "https://"] {
        assert!(
            !html
                .replace("http://www.w3.org/2000/svg", "")
                .contains(outside),
            "{outside}"
        );
    }

    let charts = svg_charts(&html);
    // accuracy, loss and reward; then CPU, process memory and GPU of `second`'s samples.
    assert_eq!(charts.len(), 3 + 3, "{} charts", charts.len());
    for (chart, metric) in charts.iter().zip(["accuracy", "loss", "reward"]) {
        assert!(
            chart.contains(&format!("aria-label=\"{metric}\"")),
            "{chart:.300}"
        );
    }
    assert!(
        charts[3..].iter().all(|c| c.contains("bert")),
        "hardware of second"
    );
    assert!(html.contains("Hardware (5 samples)"));

    for uid in [&fx.first, &fx.second] {
        assert!(html.contains(uid.as_str()), "{uid}");
    }
    let parameters = fx.store.read_parameters(&fx.first, None).unwrap();
    assert_eq!(parameters.len(), 5);
    for (name, shown) in [
        ("lr", "0.001"),
        ("epochs", "10"),
        ("optimizer", "adam, &quot;fused&quot;"),
        ("nesterov", "true"),
        ("clip", "NaN"),
    ] {
        let cell = format!("<tr><td>{name}</td><td>{shown}</td></tr>");
        assert!(html.contains(&cell), "{cell} missing");
    }
    assert!(leftovers(fx.dir.path()).is_empty());
}

#[test]
fn report_without_hardware_samples_has_only_metric_charts() {
    let fx = fixture();
    let path = fx.dir.path().join("child.html");
    let output = run(
        &fx,
        &[
            "experiments",
            "report",
            &fx.child,
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let html = fs::read_to_string(&path).unwrap();
    assert_eq!(svg_charts(&html).len(), 1);
    assert!(!html.contains("Hardware ("));
    assert!(html.contains(&fx.child));

    let output = run(
        &fx,
        &[
            "experiments",
            "report",
            "nope",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert_eq!(output.err, "opsml: no experiment with uid \"nope\"\n");
    // The earlier report is left as it was.
    assert_eq!(fs::read_to_string(&path).unwrap(), html);
}

// ---------------------------------------------------------------------------------------
// show and metrics

#[test]
fn show_gives_each_metric_summary() {
    let fx = fixture();
    let output = run(&fx, &["experiments", "show", &fx.first], piped());
    assert_eq!(output.code, 0, "{output:?}");
    let rows = tsv(&output.out);
    let metric_rows: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r[0].starts_with("metric."))
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        metric_rows,
        [
            ("metric.accuracy.count", "2"),
            ("metric.accuracy.min", "1e-300"),
            ("metric.accuracy.max", "inf"),
            ("metric.accuracy.last", "inf"),
            ("metric.accuracy.last_step", "0"),
            ("metric.loss.count", "4"),
            ("metric.loss.min", "0.1"),
            ("metric.loss.max", "0.75"),
            ("metric.loss.last", "0.5"),
            ("metric.loss.last_step", "2"),
            ("metric.reward.count", "1"),
            ("metric.reward.min", "-inf"),
            ("metric.reward.max", "-inf"),
            ("metric.reward.last", "-inf"),
            ("metric.reward.last_step", "3"),
        ]
    );
    // The same values, worked out from the points.
    let expected = expected_metrics(&fx, &fx.first);
    let loss = &expected["loss"];
    assert_eq!(
        (loss.count, loss.min, loss.max, loss.last),
        (4, Some(0.1), Some(0.75), 0.5)
    );

    let shown = run(&fx, &["experiments", "show", &fx.first], terminal());
    let line = |name: &str| {
        shown
            .out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing in\n{}", shown.out))
            .to_owned()
    };
    assert!(
        line("loss").ends_with("  4 points, min 0.1, max 0.75, last 0.5 at step 2"),
        "{}",
        shown.out
    );
    assert!(
        line("reward").ends_with("  1 point, min -inf, max -inf, last -inf at step 3"),
        "{}",
        shown.out
    );
}

#[test]
fn show_of_a_metric_of_only_nan_has_no_extremes() {
    let fx = fixture();
    let exp = fx.start("vision", "diverged");
    exp.log_metric("loss", f64::NAN, None).unwrap();
    exp.end(Status::Failed).unwrap();
    let output = run(&fx, &["experiments", "show", exp.uid()], piped());
    let rows = tsv(&output.out);
    let get = |key: &str| rows.iter().find(|r| r[0] == key).unwrap()[1].clone();
    assert_eq!(get("metric.loss.count"), "1");
    assert_eq!(
        (get("metric.loss.min"), get("metric.loss.max")),
        (String::new(), String::new())
    );
    assert_eq!(get("metric.loss.last"), "nan");
    assert_eq!(get("metric.loss.last_step"), "");
    let shown = run(&fx, &["experiments", "show", exp.uid()], terminal());
    assert!(
        shown.out.contains("1 point, min -, max -, last nan\n"),
        "{}",
        shown.out
    );
}

fn metric_rows(fx: &Fixture, uid: &str, args: &[&str]) -> Vec<Vec<String>> {
    let mut full = vec!["experiments", "metrics", uid, "--format", "csv"];
    full.extend_from_slice(args);
    let output = run(fx, &full, piped());
    assert_eq!(output.code, 0, "{args:?}: {output:?}");
    let records = csv(&output.out);
    assert_eq!(
        records[0],
        ["name", "step", "value", "timestamp", "created_at"]
    );
    records[1..].to_vec()
}

/// Whether a row is exactly the stored point.
fn is_point(row: &[String], name: &str, point: &MetricPoint) -> bool {
    row[0] == name
        && row[1] == point.step.map(|s| s.to_string()).unwrap_or_default()
        && same(value(&row[2]), point.value)
        && row[3] == point.timestamp.map(|t| t.to_string()).unwrap_or_default()
        && micros(&row[4]) == point.created_at
}

#[test]
fn metrics_step_ranges_are_half_open() {
    let fx = fixture();
    let rows = metric_rows(&fx, &fx.first, &["--steps", "1:3"]);
    let expected: Vec<(String, MetricPoint)> = stored_points(&fx, &fx.first)
        .into_iter()
        .filter(|(_, p)| p.step.is_some_and(|s| (1..3).contains(&s)))
        .collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (row, (name, point)) in rows.iter().zip(&expected) {
        assert!(is_point(row, name, point), "{row:?} vs {point:?}");
    }
    let steps: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(steps, [("loss", "1"), ("loss", "1"), ("loss", "2")]);
    // Negative bounds, and a range that holds nothing.
    assert_eq!(metric_rows(&fx, &fx.first, &["--steps", "-5:0"]).len(), 0);
    assert_eq!(metric_rows(&fx, &fx.first, &["--steps", "-5:1"]).len(), 2);
}

#[test]
fn metrics_max_points_keeps_the_ends_and_the_spike_of_each_metric() {
    let fx = fixture();
    let exp = fx.start("vision", "long");
    for step in 0..1_000 {
        let value = if step == 613 {
            50.0
        } else {
            f64::from(step % 10)
        };
        exp.log_metric("curve", value, Some(i64::from(step)))
            .unwrap();
    }
    exp.log_metric("short", 1.0, Some(0)).unwrap();
    exp.end(Status::Completed).unwrap();
    let uid = exp.uid().to_owned();
    let stored = stored_points(&fx, &uid);

    let rows = metric_rows(&fx, &uid, &["--max-points", "40"]);
    let curve: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "curve").collect();
    assert_eq!(curve.len(), 40);
    assert_eq!((curve[0][1].as_str(), curve[39][1].as_str()), ("0", "999"));
    assert!(
        curve.iter().any(|r| r[1] == "613" && r[2] == "50.0"),
        "{curve:?}"
    );
    assert_eq!(rows.iter().filter(|r| r[0] == "short").count(), 1);
    // Every row is a stored point, value for value, in read-back order.
    let mut last_index = None;
    for row in &rows {
        let index = stored
            .iter()
            .position(|(name, point)| is_point(row, name, point))
            .unwrap_or_else(|| panic!("{row:?} is not a stored point"));
        assert!(last_index < Some(index), "order");
        last_index = Some(index);
    }

    // With a step range and a name: the range first, then at most N of it.
    let rows = metric_rows(
        &fx,
        &fx.first,
        &["--name", "loss", "--steps", "0:2", "--max-points", "2"],
    );
    let kept: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(kept, [("0", "0.75"), ("1", "0.1")]);
}

#[test]
fn metrics_selection_options_are_checked() {
    let fx = fixture();
    for bad in [
        vec!["--max-points", "1"],
        vec!["--max-points", "x"],
        vec!["--steps", "5:5"],
        vec!["--steps", "7"],
        vec!["--steps", "a:b"],
    ] {
        let mut args = vec!["experiments", "metrics", fx.first.as_str()];
        args.extend(&bad);
        let output = run(&fx, &args, piped());
        assert_eq!(output.code, 2, "{bad:?}: {output:?}");
        assert!(output.err.contains(bad[0]), "{bad:?}: {output:?}");
    }
}
