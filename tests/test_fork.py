"""Forked children (data-loader workers, multiprocessing with fork) neither
deadlock nor duplicate data, and may log through their own writer."""

from __future__ import annotations

import multiprocessing

import pytest
from opsml import (
    CardRegistry,
    OpsmlError,
    get_experiment_metrics,
    start_experiment,
)


def _idle_child() -> None:
    """A child that never logs; it exits normally, running exit handlers."""


def _child_logging_through_its_own_writer(uid: str, start: int) -> None:
    with start_experiment(experiment_uid=uid) as exp:
        for step in range(start, start + 100):
            exp.log_metric("loss", 2.0, step=step)


def _child_using_the_parents_object(exp, queue) -> None:  # type: ignore[no-untyped-def]
    try:
        exp.log_metric("loss", 3.0, step=-1)
    except OpsmlError as error:
        queue.put(str(error))
    else:
        queue.put("no error")


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


def test_the_parents_experiment_object_refuses_clearly_in_a_child(fork) -> None:  # type: ignore[no-untyped-def]
    queue = fork.SimpleQueue()
    with start_experiment(name="inherited") as exp:
        exp.log_metric("loss", 1.0, step=0)
        run(fork, _child_using_the_parents_object, exp, queue)
    message = queue.get()
    assert exp.uid in message
    assert "experiment_uid" in message
    assert [m.step for m in get_experiment_metrics(exp.uid)] == [0]
