"""What the recovery file of a local store does at the edges: a batch that can be neither
stored nor kept, and a run resumed before `opsml sync`."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import RunPython
from opsml import CardRegistry, get_experiment_metrics, get_experiment_parameters

REFUSE_POISON = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON parameters WHEN NEW.name = 'poison'
BEGIN SELECT RAISE(ABORT, 'the parameter poison is refused'); END;
"""

POISONED_RUN = """
import sys
import opsml
from opsml import start_experiment, StoreError
try:
    with start_experiment(name="poisoned") as exp:
        print(exp.uid, flush=True)
        for step in range(10):
            exp.log_metric("loss", float(step), step=step)
        exp.log_parameter("poison", "refused")
except StoreError as error:
    print(error)
"""


def make_store(run_python: RunPython, store_path: Path) -> None:
    run_python("import opsml; opsml.CardRegistry('experiment').list_cards()")
    with sqlite3.connect(store_path) as conn:
        conn.executescript(REFUSE_POISON)


@pytest.mark.sqlite_only("the test installs a SQLite trigger")
def test_a_batch_that_can_be_neither_stored_nor_kept_ends_the_run_without_hanging(
    store_path: Path, run_python: RunPython
) -> None:
    make_store(run_python, store_path)
    # The recovery directory cannot be made: a file stands in its way.
    Path(f"{store_path}.recovery").write_text("in the way")
    out = run_python(POISONED_RUN, timeout=60).stdout.splitlines()
    uid, message = out[0], out[-1]
    assert "it is lost" in message, message
    assert "the parameter poison is refused" in message
    assert CardRegistry("experiment").load_card(uid=uid).status == "failed"


@pytest.mark.sqlite_only("the test installs a SQLite trigger")
def test_a_run_resumed_before_sync_keeps_its_own_end(
    store_path: Path, run_python: RunPython
) -> None:
    make_store(run_python, store_path)
    out = run_python(POISONED_RUN).stdout.splitlines()
    uid, message = out[0], out[-1]
    assert "opsml sync" in message, message
    run_python(
        f"""
        from opsml import start_experiment
        with start_experiment(experiment_uid={uid!r}) as exp:
            exp.log_metric("loss", 10.0, step=10)
            raise SystemExit(3)
        """,
        check=False,
    )
    assert CardRegistry("experiment").load_card(uid=uid).status == "failed"
    with sqlite3.connect(store_path) as conn:
        conn.execute("DROP TRIGGER refuse_poison")
    opsml = Path(__import__("sys").executable).parent / "opsml"
    synced = subprocess.run([str(opsml), "sync"], capture_output=True, text=True, check=False)
    assert synced.returncode == 0, synced.stderr
    # The kept batch is stored; the status is the resumed run's end, not the first run's.
    assert {p.name for p in get_experiment_parameters(uid)} == {"poison"}
    assert [m.step for m in get_experiment_metrics(uid)] == list(range(11))
    card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "failed"
