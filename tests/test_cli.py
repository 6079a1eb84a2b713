"""The `opsml` command installed with the wheel runs the Rust command line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from opsml import start_experiment

OPSML = Path(sys.executable).parent / "opsml"


def opsml(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OPSML), *args], capture_output=True, text=True, env=os.environ.copy(), check=False
    )


def test_the_console_script_lists_searches_and_exports() -> None:
    with start_experiment(space="cli", name="run") as exp:
        exp.log_parameter("lr", 0.5)
        for step in range(3):
            exp.log_metric("loss", 1.0 / (step + 1), step=step)
    listed = opsml("experiments", "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split("\t")[:4] == ["uid", "space", "name", "version"]
    assert row.split("\t")[:4] == [exp.uid, "cli", "run", "0.1.0"]
    found = opsml("experiments", "search", "params.lr > 0.1 and metrics.loss.min < 0.5")
    assert found.stdout.splitlines()[1].startswith(exp.uid)
    points = opsml("experiments", "metrics", exp.uid, "--format", "json")
    assert [(p["step"], p["value"]) for p in json.loads(points.stdout)] == [
        (0, 1.0),
        (1, 0.5),
        (2, 1.0 / 3),
    ]


def test_errors_are_one_line_with_a_non_zero_exit() -> None:
    if os.environ["OPSML_TRACKING_URI"].startswith("sqlite://"):
        # Only a store file can be missing; reading commands never create one.
        no_store = opsml("experiments", "list")
        assert no_store.returncode == 1
        assert no_store.stderr.startswith("opsml: no opsml store at ")
    with start_experiment(name="exists"):
        pass
    missing = opsml("experiments", "show", "no-such-uid")
    assert missing.returncode == 1
    assert missing.stderr.startswith("opsml: ")
    assert "no-such-uid" in missing.stderr
    usage = opsml("experiments", "frobnicate")
    assert usage.returncode == 2


def test_parquet_export_reads_back_in_pyarrow_value_for_value(tmp_path: Path) -> None:
    import math

    import pyarrow.parquet as pq

    logged = [(2, 0.5), (0, math.nan), (1, math.inf), (None, -1.0)]
    uids = []
    for name in ("a", "b"):
        with start_experiment(name=name) as exp:
            for step, value in logged:
                exp.log_metric("loss", value, step=step)
        uids.append(exp.uid)
    out = tmp_path / "points.parquet"
    done = opsml("experiments", "export", *uids, "--format", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    assert table.column_names == ["uid", "name", "step", "value", "timestamp", "created_at"]
    rows = table.to_pylist()
    assert [r["uid"] for r in rows] == [uids[0]] * 4 + [uids[1]] * 4
    expected = sorted(logged, key=lambda p: (p[0] is not None, p[0] or 0))
    for row, (step, value) in zip(rows, expected * 2, strict=True):
        assert row["step"] == step
        assert row["value"] == value or (math.isnan(row["value"]) and math.isnan(value))


ATTACK = "\x1b]0;owned\x07\x1b[2J\r\x9b31m\u202egpj.exe"


def test_text_from_the_store_cannot_drive_the_readers_terminal() -> None:
    with start_experiment(space="cli", name="hostile", tags=["ok"]) as exp:
        exp.log_parameter("note", ATTACK)
        exp.log_metric("loss", 0.5, step=0)
    from opsml import CardRegistry

    card = CardRegistry("experiment").load_card(uid=exp.uid)
    shown = {
        "params": opsml("experiments", "params", exp.uid),
        "show": opsml("experiments", "show", exp.uid),
        "params --json": opsml("experiments", "params", exp.uid, "--format", "json"),
        "compare": opsml("experiments", "compare", exp.uid),
    }
    texts = {name: run.stdout + run.stderr for name, run in shown.items()}
    texts["str(card.get_parameters())"] = str(card.get_parameters())
    texts["str(compare)"] = str(__import__("opsml").compare_experiments([exp.uid]))
    for name, text in texts.items():
        assert not any(c in text for c in "\x1b\x07\r\x9b\u202e"), (name, text)
    assert "\\u001b]0;owned\\u0007\\u001b[2J" in texts["params"]
    assert "\\u009b31m\\u202egpj.exe" in texts["params"]
    # JSON output stays JSON and gives the value back exactly; so does CSV written to a file
    # or a program (a terminal would get it escaped).
    (param,) = json.loads(shown["params --json"].stdout)
    assert param["value"] == ATTACK
    as_csv = subprocess.run(
        [str(OPSML), "experiments", "params", exp.uid, "--format", "csv"],
        capture_output=True,
        env=os.environ.copy(),
        check=True,
    ).stdout.decode()
    rows = list(csv.DictReader(io.StringIO(as_csv, newline="")))
    assert [(r["name"], r["value"]) for r in rows] == [("note", ATTACK)]


def test_list_and_search_show_parameters_and_metric_statistics_as_columns() -> None:
    for lr, losses in ((0.1, [1.0, 0.5]), (0.01, [0.9, 0.2, 0.1])):
        with start_experiment(space="columns", name="run") as exp:
            exp.log_parameters({"optimizer": {"lr": lr}})
            for step, loss in enumerate(losses):
                exp.log_metric("val.loss", loss, step=step)
    listed = opsml(
        "experiments",
        "list",
        "--space",
        "columns",
        "--columns",
        "params.optimizer.lr,metrics.val.loss.min",
        "--columns",
        "metrics.val.loss.count",
    )
    assert listed.returncode == 0, listed.stderr
    header, *rows = (line.split("\t") for line in listed.stdout.splitlines())
    assert header[-3:] == ["params.optimizer.lr", "metrics.val.loss.min", "metrics.val.loss.count"]
    assert [row[-3:] for row in rows] == [["0.01", "0.1", "3"], ["0.1", "0.5", "2"]]
    found = opsml(
        "experiments",
        "search",
        "params.`optimizer.lr` < 0.05",
        "--columns",
        "metrics.val.loss,params.nope",
    )
    header, row = (line.split("\t") for line in found.stdout.splitlines())
    assert header[-2:] == ["metrics.val.loss.last", "params.nope"]
    assert row[-2:] == ["0.1", ""]
    # A mistyped column is named, not silently left empty.
    assert "no listed experiment has a value for params.nope" in found.stderr
    wrong = opsml("experiments", "list", "--columns", "lr")
    assert wrong.returncode == 2
    assert '"lr"' in wrong.stderr
    assert "params.NAME" in wrong.stderr


def test_show_prints_the_description_and_evaluation_metrics() -> None:
    with start_experiment(space="cli", name="noted") as exp:
        exp.set_description("Baseline.\nSecond line.")
        exp.log_eval_metrics({"test.auc": 0.875})
    shown = opsml("experiments", "show", exp.uid)
    assert shown.returncode == 0, shown.stderr
    fields = dict(line.split("\t", 1) for line in shown.stdout.splitlines())
    assert fields["description"] == "Baseline.\\nSecond line."
    assert fields["eval.test.auc"] == "0.875"
