//! `metrics`, `params` and `export`: every value written comes back exactly.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use common::{
    csv, fixture, micros, piped, run, same, stored_points, terminal, tsv, value, Fixture,
};
use opsml_experiment::MetricPoint;
use serde_json::Value;

/// Checks text rows (name, step, value, timestamp, created_at) against the stored points.
fn assert_rows(rows: &[Vec<String>], expected: &[(String, MetricPoint)]) {
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (row, (name, point)) in rows.iter().zip(expected) {
        assert_eq!(&row[0], name);
        let step = (!row[1].is_empty()).then(|| row[1].parse::<i64>().unwrap());
        assert_eq!(step, point.step, "{row:?}");
        assert!(same(value(&row[2]), point.value), "{row:?} vs {point:?}");
        let timestamp = (!row[3].is_empty()).then(|| row[3].parse::<i64>().unwrap());
        assert_eq!(timestamp, point.timestamp, "{row:?}");
        assert_eq!(micros(&row[4]), point.created_at, "{row:?}");
    }
}

/// The stored points are the logged ones, in (name, step, insertion) order.
fn assert_stored_as_logged(fx: &Fixture) {
    let stored = stored_points(fx, &fx.first);
    assert_eq!(stored.len(), fx.logged.len());
    for (name, point) in &fx.logged {
        assert!(
            stored.iter().any(|(n, p)| n == name
                && p.step == point.step
                && same(p.value, point.value)
                && p.timestamp == point.timestamp
                && p.created_at == point.created_at),
            "{name} {point:?} not stored"
        );
    }
}

#[test]
fn metrics_csv_parses_back_value_for_value() {
    let fx = fixture();
    assert_stored_as_logged(&fx);
    let output = run(
        &fx,
        &["experiments", "metrics", &fx.first, "--format", "csv"],
        terminal(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let records = csv(&output.out);
    assert_eq!(
        records[0],
        ["name", "step", "value", "timestamp", "created_at"]
    );
    assert_rows(&records[1..], &stored_points(&fx, &fx.first));
    // Non-finite values are written as nan, inf and -inf.
    let values: Vec<&str> = records[1..].iter().map(|r| r[2].as_str()).collect();
    for special in ["nan", "inf", "-inf"] {
        assert!(values.contains(&special), "{values:?}");
    }
    // Out-of-order steps come back sorted by step within a name; a repeated step keeps
    // the order it was logged in.
    let loss: Vec<(&str, &str)> = records[1..]
        .iter()
        .filter(|r| r[0] == "loss")
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        loss,
        [("0", "0.75"), ("1", "nan"), ("1", "0.1"), ("2", "0.5")]
    );
}

#[test]
fn metrics_json_parses_back_with_non_finite_values_as_strings() {
    let fx = fixture();
    let output = run(
        &fx,
        &["experiments", "metrics", &fx.first, "--format", "json"],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let parsed: Value = serde_json::from_str(&output.out).unwrap();
    let objects = parsed.as_array().unwrap();
    let expected = stored_points(&fx, &fx.first);
    assert_eq!(objects.len(), expected.len());
    for (object, (name, point)) in objects.iter().zip(&expected) {
        assert_eq!(object["name"], name.as_str());
        assert_eq!(object["step"].as_i64(), point.step);
        assert_eq!(object["timestamp"].as_i64(), point.timestamp);
        assert_eq!(
            micros(object["created_at"].as_str().unwrap()),
            point.created_at
        );
        let v = &object["value"];
        if point.value.is_nan() {
            assert_eq!(v, "NaN");
        } else if point.value == f64::INFINITY {
            assert_eq!(v, "Infinity");
        } else if point.value == f64::NEG_INFINITY {
            assert_eq!(v, "-Infinity");
        } else {
            assert_eq!(
                v.as_f64().unwrap().to_bits(),
                point.value.to_bits(),
                "{object}"
            );
        }
    }
    assert!(objects.iter().any(|o| o["step"].is_null()));
    let keys: Vec<&str> = objects[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
}

#[test]
fn metrics_table_is_tab_separated_when_piped_and_aligned_on_a_terminal() {
    let fx = fixture();
    let piped_out = run(&fx, &["experiments", "metrics", &fx.first], piped());
    assert_eq!(piped_out.code, 0, "{piped_out:?}");
    let rows = tsv(&piped_out.out);
    assert_eq!(
        rows[0],
        ["name", "step", "value", "timestamp", "created_at"]
    );
    assert_rows(&rows[1..], &stored_points(&fx, &fx.first));

    let shown = run(&fx, &["experiments", "metrics", &fx.first], terminal());
    assert!(!shown.out.contains('\t'));
    let lines: Vec<&str> = shown.out.lines().collect();
    assert_eq!(lines.len(), 2 + fx.logged.len(), "{}", shown.out);
    // Numbers are right-aligned: every value ends where the header "value" ends.
    let end = lines[0].find("value").unwrap() + "value".len();
    for line in &lines[2..] {
        assert!(
            line.as_bytes()[end - 1] != b' ' && line.as_bytes()[end] == b' ',
            "{}",
            shown.out
        );
    }
}

#[test]
fn metrics_can_be_picked_by_name_and_a_wrong_name_is_an_error() {
    let fx = fixture();
    let output = run(
        &fx,
        &[
            "experiments",
            "metrics",
            &fx.first,
            "--name",
            "accuracy",
            "--format",
            "csv",
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let records = csv(&output.out);
    assert_eq!(records.len(), 3);
    assert!(records[1..].iter().all(|r| r[0] == "accuracy"));

    let output = run(
        &fx,
        &["experiments", "metrics", &fx.first, "--name", "acc"],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert_eq!(
        output.err,
        format!(
            "opsml: experiment {} has no metric \"acc\" (it has: accuracy, loss, reward)\n",
            fx.first
        )
    );
}

#[test]
fn params_keep_their_types_in_every_format() {
    let fx = fixture();
    let csv_out = run(
        &fx,
        &["experiments", "params", &fx.first, "--format", "csv"],
        piped(),
    );
    assert_eq!(csv_out.code, 0, "{csv_out:?}");
    assert_eq!(
        csv(&csv_out.out),
        [
            ["name", "type", "value"],
            ["lr", "float", "0.001"],
            ["epochs", "int", "10"],
            ["optimizer", "str", "adam, \"fused\""],
            ["nesterov", "bool", "true"],
            ["clip", "float", "nan"],
        ]
    );

    let json_out = run(
        &fx,
        &["experiments", "params", &fx.first, "--format", "json"],
        piped(),
    );
    let parsed: Value = serde_json::from_str(&json_out.out).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!([
            {"name": "lr", "type": "float", "value": 0.001},
            {"name": "epochs", "type": "int", "value": 10},
            {"name": "optimizer", "type": "str", "value": "adam, \"fused\""},
            {"name": "nesterov", "type": "bool", "value": true},
            {"name": "clip", "type": "float", "value": "NaN"},
        ])
    );

    let table = run(&fx, &["experiments", "params", &fx.first], piped());
    assert_eq!(tsv(&table.out)[3], ["optimizer", "str", "adam, \"fused\""]);
    let empty = run(
        &fx,
        &["experiments", "params", &fx.second, "--format", "json"],
        piped(),
    );
    assert_eq!(empty.out, "[]\n");
}

#[test]
fn export_writes_csv_of_several_experiments_with_a_uid_column() {
    let fx = fixture();
    let path = fx.dir.path().join("out").join("points.csv");
    std::fs::create_dir(path.parent().unwrap()).unwrap();
    let output = run(
        &fx,
        &[
            "experiments",
            "export",
            &fx.first,
            &fx.second,
            "--format",
            "csv",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert!(
        output
            .out
            .starts_with("wrote 9 points of 2 experiments to "),
        "{output:?}"
    );
    let records = csv(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(
        records[0],
        ["uid", "name", "step", "value", "timestamp", "created_at"]
    );
    let first_rows: Vec<Vec<String>> = records[1..8].iter().map(|r| r[1..].to_vec()).collect();
    assert!(records[1..8].iter().all(|r| r[0] == fx.first));
    assert_rows(&first_rows, &stored_points(&fx, &fx.first));
    let second_rows: Vec<Vec<String>> = records[8..].iter().map(|r| r[1..].to_vec()).collect();
    assert!(records[8..].iter().all(|r| r[0] == fx.second));
    assert_rows(&second_rows, &stored_points(&fx, &fx.second));
    // Only the finished file is left in the directory.
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn export_writes_jsonl_to_standard_output() {
    let fx = fixture();
    let output = run(
        &fx,
        &[
            "experiments",
            "export",
            &fx.second,
            &fx.first,
            "--format",
            "jsonl",
            "-o",
            "-",
        ],
        piped(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    let objects: Vec<Value> = output
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 9);
    assert_eq!(objects[0]["uid"], fx.second.as_str());
    assert_eq!(objects[0]["value"], 3.5);
    assert_eq!(objects[2]["uid"], fx.first.as_str());
    let nan = objects
        .iter()
        .filter(|o| o["value"] == "NaN")
        .collect::<Vec<_>>();
    assert_eq!(nan.len(), 1);
    assert_eq!(nan[0]["name"], "loss");
    assert_eq!(nan[0]["step"], 1);
}

#[test]
fn export_refuses_parquet_to_standard_output_and_unknown_uids_before_writing() {
    let fx = fixture();
    let output = run(
        &fx,
        &[
            "experiments",
            "export",
            &fx.first,
            "--format",
            "parquet",
            "-o",
            "-",
        ],
        piped(),
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert_eq!(output.out, "");
    assert!(
        output.err.starts_with("opsml: parquet is a binary format"),
        "{output:?}"
    );
    let path = fx.dir.path().join("points.csv");
    let output = run(
        &fx,
        &[
            "experiments",
            "export",
            &fx.first,
            "nope",
            "-o",
            path.to_str().unwrap(),
        ],
        piped(),
    );
    assert_eq!(output.code, 1);
    assert!(output.err.contains("\"nope\""), "{output:?}");
    assert!(!path.exists());
}
