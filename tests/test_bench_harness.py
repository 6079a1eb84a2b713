"""Smoke test of the cross-tracker benchmark harness (benches/compare.py --quick).

The quick mode runs every workload once, with small sizes, through this
project's opsml only (the interpreter running the tests): no environment is
created, nothing is built or downloaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPARE = REPO / "benches" / "compare.py"
WORKLOADS = {
    "import",
    "start_end_fresh",
    "start_end_warm",
    "log_metric",
    "log_metrics_batch",
    "log_param",
    "log_params_batch",
    "large_artifact",
    "small_files",
    "read_points",
    "hardware",
}


def test_quick_mode_runs_every_workload_and_verifies_what_it_stored(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(COMPARE), "--quick", "--out", str(out), "--work-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=55,
        check=False,
    )
    assert proc.returncode == 0, f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"

    records = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    meta, runs = records[0], [r for r in records if r["kind"] == "run"]
    assert meta["kind"] == "meta"
    assert records[-1]["kind"] == "end"
    assert meta["trackers"] == ["opsml"]
    for fact in ("cpu", "cores", "python"):
        assert meta["machine"][fact]
    assert meta["environments"]["opsml"]["version"]

    assert {r["workload"] for r in runs} == WORKLOADS
    assert all(r["tracker"] == "opsml" for r in runs)
    for run in runs:
        name = run["workload"]
        if name == "hardware" and run["status"] == "unsupported":
            # A build without hardware monitoring says so instead of failing.
            assert run["reason"]
            continue
        assert run["status"] == "ok", run
        if run["expected"] is None:  # hardware samples: the tracker decides how many
            assert run["verified"] > 0, run
        else:
            assert run["expected"] > 0, run
            assert run["verified"] == run["expected"], run
        assert all(isinstance(v, float | int) for v in run["values"].values()), run
        assert run["values"]["samples" if name == "hardware" else "seconds"] >= 0, run

    table = (out / "table.md").read_text()
    assert "| workload |" in table
    assert meta["machine"]["cpu"] in table
    assert "single `log_metric` calls" in table
    assert "failed [" not in table
    assert "timeout [" not in table
    assert not (tmp_path / "results" / "ratios.png").exists()  # no chart in quick mode
    # Stores and fixtures are removed after the run.
    assert [p.name for p in tmp_path.iterdir()] == ["results"]
