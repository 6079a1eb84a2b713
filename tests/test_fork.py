"""Forked children (data-loader workers, multiprocessing with fork) neither
deadlock nor duplicate data, and may log through their own writer."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from opsml import (
    CardRegistry,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


def _idle_child() -> None:
    """A child that never logs; it exits normally, running exit handlers."""


def _child_logging_through_its_own_writer(uid: str, start: int) -> None:
    with start_experiment(experiment_uid=uid) as exp:
        for step in range(start, start + 100):
            exp.log_metric("loss", 2.0, step=step)


def _child_logging_through_the_inherited_object(exp, first: int) -> None:  # type: ignore[no-untyped-def]
    # No flush and no end: multiprocessing leaves through os._exit, and what the
    # child logged must still be stored.
    for step in range(first, first + 1000):
        exp.log_metric("loss", 3.0, step=step)
    exp.log_parameter(f"child_{first}", first)


def _child_logging_an_artifact_through_the_inherited_object(exp, path: str) -> None:  # type: ignore[no-untyped-def]
    exp.log_artifact(path, "from_child/notes.txt")


@pytest.fixture
def fork() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("fork")


def run(fork: multiprocessing.context.BaseContext, target, *args) -> None:  # type: ignore[no-untyped-def]
    process = fork.Process(target=target, args=args)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0


def test_children_that_never_log_change_nothing(fork) -> None:  # type: ignore[no-untyped-def]
    with start_experiment(name="parent") as exp:
        for step in range(500):
            exp.log_metric("loss", 1.0, step=step)
        for _ in range(4):
            run(fork, _idle_child)
        for step in range(500, 1000):
            exp.log_metric("loss", 1.0, step=step)
    assert CardRegistry("experiment").load_card(uid=exp.uid).status == "completed"
    assert [m.step for m in get_experiment_metrics(exp.uid)] == list(range(1000))


def test_a_child_logs_to_the_same_experiment_through_its_own_writer(fork) -> None:  # type: ignore[no-untyped-def]
    with start_experiment(name="shared") as exp:
        for step in range(100):
            exp.log_metric("loss", 1.0, step=step)
        exp.flush()
        run(fork, _child_logging_through_its_own_writer, exp.uid, 100)
        run(fork, _child_logging_through_its_own_writer, exp.uid, 200)
        for step in range(300, 400):
            exp.log_metric("loss", 1.0, step=step)
    steps = [m.step for m in get_experiment_metrics(exp.uid)]
    assert steps == list(range(400))


def test_children_log_through_the_inherited_object_without_duplicates(fork) -> None:  # type: ignore[no-untyped-def]
    with start_experiment(name="inherited") as exp:
        # Queued but not yet written when the children are forked: the parent
        # writes these, the children must not write them again.
        for step in range(100):
            exp.log_metric("loss", 1.0, step=step)
        processes = [
            fork.Process(target=_child_logging_through_the_inherited_object, args=(exp, first))
            for first in (1000, 2000, 3000)
        ]
        for process in processes:
            process.start()
        for step in range(100, 200):
            exp.log_metric("loss", 1.0, step=step)
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        # The children's exits do not end the parent's experiment.
        assert CardRegistry("experiment").load_card(uid=exp.uid).status == "running"
    steps = [m.step for m in get_experiment_metrics(exp.uid)]
    expected = list(range(200)) + [s for f in (1000, 2000, 3000) for s in range(f, f + 1000)]
    assert steps == expected
    parameters = get_experiment_parameters(exp.uid).to_dict()
    assert parameters == {"child_1000": 1000, "child_2000": 2000, "child_3000": 3000}
    assert CardRegistry("experiment").load_card(uid=exp.uid).status == "completed"


def test_a_child_stores_an_artifact_through_the_inherited_object(fork, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.txt"
    notes.write_text("written by a data-loader worker")
    with start_experiment(name="inherited-artifact") as exp:
        run(fork, _child_logging_an_artifact_through_the_inherited_object, exp, str(notes))
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    assert "from_child/notes.txt" in card.list_artifacts()
    restored = card.download_artifact("from_child/notes.txt", str(tmp_path / "restored.txt"))
    assert Path(restored).read_text() == "written by a data-loader worker"


def test_a_raw_fork_child_that_exits_normally_stores_its_points(run_python) -> None:  # type: ignore[no-untyped-def]
    proc = run_python(
        """
        import os, sys
        from opsml import get_experiment_metrics, start_experiment

        with start_experiment(name="raw-fork") as exp:
            exp.log_metric("loss", 1.0, step=0)
            pid = os.fork()
            if pid == 0:
                for step in range(1, 501):
                    exp.log_metric("loss", 2.0, step=step)
                sys.exit(0)  # runs atexit, which stores what the child logged
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0, status
        steps = [m.step for m in get_experiment_metrics(exp.uid)]
        assert steps == list(range(501)), steps[:5]
        print("ok")
        """
    )
    assert proc.stdout.strip() == "ok"
