"""Every script in examples/ runs as a new user would run it: in a fresh directory on the
default store, to the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The examples run on the default store whatever store the suite is given: once is enough.
pytestmark = pytest.mark.sqlite_only("the examples run on their own default SQLite store")


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_the_example_runs(script: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSML_")}
    # Keras keeps its settings file here rather than in the home directory.
    env["KERAS_HOME"] = str(tmp_path / ".keras")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    assert (tmp_path / "opsml.db").exists(), "the example did not use the default store"


def test_the_sweep_picks_its_best_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSML_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sweep.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "8 runs in the sweep" in done.stdout
    # The fastest learner with the smallest network has the lowest loss.
    assert "best: adam at lr 0.03 with hidden sizes of 64," in done.stdout, done.stdout
