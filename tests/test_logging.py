"""What opsml says: from the Python module, warnings through Python's `logging` (loggers
`opsml.*`, shown by Python's own default on standard error, or by the program's handlers);
with OPSML_LOG, lines on standard error filtered by it, as from the `opsml` command; plain
text (no colour codes) when standard error is a file or a pipe."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

OFFLINE_RUN = """
from opsml import start_experiment
with start_experiment(space="logs", name="offline") as exp:
    exp.log_metric("loss", 1.0, step=0)
"""


def offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A server that does not answer: starting a run there warns and carries on."""
    env = {
        **os.environ,
        "OPSML_TRACKING_URI": "http://127.0.0.1:9",
        "OPSML_USERNAME": "ann",
        "OPSML_PASSWORD": "secret",
        "OPSML_ENCRYPT_SECRET": base64.b64encode(os.urandom(32)).decode(),
        "OPSML_SPOOL_DIR": str(tmp_path / "spool"),
        "OPSML_SHIP_TIMEOUT": "0",
    }
    env.pop("OPSML_LOG", None)
    env.update(extra)
    return env


def run(
    env: dict[str, str], cwd: Path, script: str = OFFLINE_RUN
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_warnings_show_by_default_as_plain_text_in_a_pipe(tmp_path: Path) -> None:
    stderr = run(offline_env(tmp_path), tmp_path).stderr
    assert "the server could not be reached" in stderr, stderr
    assert "\x1b[" not in stderr, "colour codes in a pipe: " + repr(stderr[:200])


LOGGED_RUN = """
import logging, sys, threading, time
logging.basicConfig(stream=sys.stdout, level=logging.WARNING,
                    format="%(name)s|%(levelname)s|%(message)s")
from opsml import start_experiment
exp = start_experiment(space="logs", name="offline")
# The main thread keeps the GIL busy in Python while lines wait to be handed over.
deadline = time.monotonic() + 0.5
while time.monotonic() < deadline:
    pass
exp.log_metric("loss", 1.0, step=0)
print("threads", sorted(t.name for t in threading.enumerate()))
"""


def test_warnings_reach_pythons_logging_under_opsml_loggers(tmp_path: Path) -> None:
    done = run(offline_env(tmp_path), tmp_path, LOGGED_RUN)
    lines = done.stdout.splitlines()
    starting = [line for line in lines if "the server could not be reached" in line]
    assert starting, done.stdout + done.stderr
    name, level, _ = starting[0].split("|", 2)
    assert name == "opsml.client.http_store", starting
    assert level == "WARNING", starting
    # The warning of the exit, when the run could not be delivered, reaches the program's
    # handler too: what is queued is handed over before the interpreter goes.
    ending = [line for line in lines if "the last batches were not delivered yet" in line]
    assert ending, lines
    assert ending[0].startswith("opsml.experiment.pipeline|WARNING|"), ending
    assert "the server could not be reached" not in done.stderr, done.stderr


def test_a_program_that_silences_opsml_sees_nothing_of_it(tmp_path: Path) -> None:
    script = "import logging\nlogging.getLogger('opsml').setLevel(logging.ERROR)\n" + OFFLINE_RUN
    done = run(offline_env(tmp_path), tmp_path, script)
    assert "the server could not be reached" not in done.stderr, done.stderr
    assert "not delivered" not in done.stderr, done.stderr


@pytest.mark.parametrize(("level", "shown"), [("error", False), ("info", True)])
def test_opsml_log_sets_what_shows(tmp_path: Path, level: str, shown: bool) -> None:
    stderr = run(offline_env(tmp_path, OPSML_LOG=level), tmp_path).stderr
    assert ("the server could not be reached" in stderr) is shown, stderr


def test_the_opsml_command_honours_opsml_log(tmp_path: Path) -> None:
    opsml = Path(sys.executable).parent / "opsml"
    env = offline_env(tmp_path, OPSML_LOG="debug")
    env["OPSML_TRACKING_URI"] = str(tmp_path / "opsml.db")
    (tmp_path / "opsml.db").touch()
    listed = subprocess.run(
        [str(opsml), "experiments", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "DEBUG" in listed.stderr, listed.stderr
    assert "\x1b[" not in listed.stderr
    quiet = subprocess.run(
        [str(opsml), "experiments", "list"],
        env={**env, "OPSML_LOG": "error"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "DEBUG" not in quiet.stderr, quiet.stderr


FORKED_RUN = """
import logging, os, sys
logging.basicConfig(stream=sys.stdout, level=logging.WARNING,
                    format="%(process)d|%(name)s|%(message)s")
from opsml import start_experiment
parent = start_experiment(space="logs", name="parent")
pid = os.fork()
if pid == 0:
    print("child", os.getpid(), flush=True)
    with start_experiment(space="logs", name="child") as exp:
        exp.log_metric("loss", 1.0, step=0)
    sys.exit(0)
print("status", os.waitpid(pid, 0)[1], flush=True)
parent.log_metric("loss", 2.0, step=0)
"""


def test_forked_children_hand_their_own_warnings_to_logging(tmp_path: Path) -> None:
    """A child forked just after its parent warned (the parent's lines on their way to
    Python) hands its own lines over, once, and ends normally. A child that reused what the
    parent's forwarding thread was waiting on crashed now and then: many runs are made."""
    for attempt in range(20):
        cwd = tmp_path / str(attempt)
        cwd.mkdir()
        done = run(offline_env(cwd), cwd, FORKED_RUN)
        lines = done.stdout.splitlines()
        assert "status 0" in lines, (attempt, lines)
        child = next(line.split()[1] for line in lines if line.startswith("child "))
        assert any(
            line.startswith(f"{child}|opsml.client.http_store|the server could not be reached")
            for line in lines
        ), (attempt, lines)
        # The parent's lines are its own: none of them is handed over twice.
        unreachable = [line for line in lines if "the server could not be reached" in line]
        assert len(unreachable) == len({line.split("|")[0] for line in unreachable}), unreachable
