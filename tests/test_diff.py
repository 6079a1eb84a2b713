"""`opsml.diff(a, b)` and `opsml experiments diff A B`: why is run B worse than run A?

Two real runs of a training script in a git checkout: the second after the script was
edited (uncommitted) and with other packages on the path, as happens between a good run and
a regression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import opsml
import pytest

SCRIPT = """\
import opsml

lr = {lr}
with opsml.start_experiment(space="diffs", name="train") as exp:
    exp.log_parameters({{"lr": lr, "optimizer": "adam", "epochs": 3}})
    for step in range(3):
        exp.log_metric("loss", {loss} / (step + 1), step=step)
    exp.log_eval_metrics({{"test.accuracy": {accuracy}}})
    print(exp.uid)
"""


OPSML = Path(sys.executable).parent / "opsml"


def opsml_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OPSML), *args], capture_output=True, text=True, env=os.environ.copy(), check=False
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@opsml.test", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def run(script: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def installed(site: Path, name: str, version: str) -> None:
    """A distribution as pip leaves it: its metadata in a `.dist-info` folder."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.fixture
def regression(tmp_path: Path) -> tuple[str, str]:
    """A good run, then the script edited without a commit and run with other packages."""
    repo = tmp_path / "project"
    repo.mkdir()
    script = repo / "train.py"
    script.write_text(SCRIPT.format(lr=0.01, loss=1.0, accuracy=0.93))
    git(repo, "init", "-q")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "baseline")
    good = run(script)

    script.write_text(SCRIPT.format(lr=0.3, loss=2.0, accuracy=0.71))
    site = tmp_path / "site"
    installed(site, "extra-package", "1.0")
    import numpy

    installed(site, "numpy", "0.0.1")  # found before the real numpy: another version
    env = os.environ.copy()
    env["PYTHONPATH"] = str(site)
    bad = run(script, env)
    assert numpy.__version__ != "0.0.1"
    return good, bad


def test_the_diff_names_what_changed(regression: tuple[str, str]) -> None:
    good, bad = regression
    diff = opsml.diff(good, bad)
    assert diff.uids == (good, bad)
    assert diff.parameters == {"lr": (0.01, 0.3)}
    assert diff.metrics["loss.last"] == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert diff.metrics["loss.max"] == (1.0, 2.0)
    assert diff.eval_metrics == {"test.accuracy": (0.93, 0.71)}
    packages = diff.packages
    assert packages is not None
    assert packages["added"] == {"extra-package": "1.0"}
    assert packages["removed"] == {}
    assert packages["changed"]["numpy"][1] == "0.0.1"
    (commit_a, dirty_a), (commit_b, dirty_b) = (g for g in diff.git if g is not None)
    assert commit_a == commit_b
    assert not dirty_a
    assert dirty_b
    assert list(diff.code) == ["train.py"]
    unified = diff.code["train.py"]
    assert "--- a/train.py\n+++ b/train.py\n" in unified
    assert "-lr = 0.01\n+lr = 0.3\n" in unified
    text = str(diff)
    for expected in (
        "Parameters that differ",
        "lr",
        "0.3",
        "test.accuracy",
        "with uncommitted changes",
    ):
        assert expected in text, text
    assert "+ extra-package 1.0" in text
    assert "~ numpy" in text
    assert "-lr = 0.01" in text
    assert diff._repr_html_().startswith("<pre")


def test_the_command_line_diff_as_text_and_json(regression: tuple[str, str]) -> None:
    good, bad = regression
    shown = opsml_command("experiments", "diff", good, bad)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "Parameters that differ" in text
    assert "-lr = 0.01" in text
    assert "+ extra-package 1.0" in text
    answer = json.loads(opsml_command("experiments", "diff", good, bad, "--json").stdout)
    assert (answer["first"], answer["second"]) == (good, bad)
    assert answer["parameters"] == [{"key": "lr", "first": 0.01, "second": 0.3}]
    assert answer["eval_metrics"] == [{"key": "test.accuracy", "first": 0.93, "second": 0.71}]
    assert answer["packages"]["added"] == [{"name": "extra-package", "version": "1.0"}]
    assert answer["git"][0]["dirty"] is False
    assert answer["git"][1]["dirty"] is True
    (change,) = answer["code"]
    assert change["path"] == "train.py"
    assert change["change"] == "changed"
    assert "+lr = 0.3" in change["diff"]


def test_the_same_run_twice_or_an_unknown_run_is_refused(regression: tuple[str, str]) -> None:
    good, _ = regression
    same = opsml_command("experiments", "diff", good, good)
    assert same.returncode == 2
    assert "given twice" in same.stderr
    unknown = opsml_command("experiments", "diff", good, "no-such-run")
    assert unknown.returncode == 1
    assert "no-such-run" in unknown.stderr
    with pytest.raises(opsml.CardNotFoundError, match="no-such-run"):
        opsml.diff(good, "no-such-run")


def test_runs_without_captured_code_differ_in_what_they_have() -> None:
    with opsml.start_experiment(name="a") as a:
        a.log_parameter("seed", 1)
    with opsml.start_experiment(name="b") as b:
        b.log_parameter("seed", 1)
        b.log_parameter("extra", "yes")
    diff = opsml.diff(a.uid, b.uid)
    assert diff.parameters == {"extra": (None, "yes")}
    assert diff.metrics == {}
    assert "seed" not in str(diff)


def test_code_that_would_act_on_a_terminal_is_shown_escaped(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    body = "import opsml\nwith opsml.start_experiment(name='job') as exp:\n    print(exp.uid)\n"
    script.write_text(body + "# \x1b]0;owned\x07 \x1b[2J\n")
    first = run(script)
    script.write_text(body + "# \x1b[31m red \x1b[0m\n")
    second = run(script)
    text = str(opsml.diff(first, second))
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\u001b[31m red" in text


def test_large_files_are_listed_as_not_compared_and_a_running_run_is_diffed_whole(
    tmp_path: Path,
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("lr = 0.1\n")
    (code / "weights.txt").write_text("a" * (1 << 20) + "a\n")
    with opsml.start_experiment(name="big", code_dir=code) as first:
        pass
    (code / "train.py").write_text("lr = 0.2\n")
    # The same size, other bytes: over 1 MiB, so not read, and never reported "the same".
    (code / "weights.txt").write_text("b" * (1 << 20) + "b\n")
    with opsml.start_experiment(name="big", code_dir=code) as second:
        # Right after the start: the diff waits for this run's code to be stored.
        diff = opsml.diff(first.uid, second.uid)
    assert diff.code["weights.txt"] == "not compared"
    assert "+lr = 0.2" in diff.code["train.py"]
    assert "? weights.txt (1048578 and 1048578 bytes: not compared" in str(diff)
