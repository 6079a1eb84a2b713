"""Many processes and threads writing to one store at the same time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from opsml import CardRegistry, get_experiment_metrics, start_experiment

# Imports opsml, reports ready, then waits for the "go" file so that every
# process starts its experiment at the same moment.
BARRIER = """
import pathlib, sys, time
from opsml import start_experiment
index = sys.argv[1]
pathlib.Path(f"ready-{index}").touch()
deadline = time.monotonic() + 60
while not pathlib.Path("go").exists():
    if time.monotonic() > deadline:
        sys.exit("never released")
    time.sleep(0.001)
"""


def release_when_ready(tmp_path: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while sum(1 for _ in tmp_path.glob("ready-*")) < count:
        assert time.monotonic() < deadline, "processes did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()


def finish(procs: list) -> list[str]:
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"exit {proc.returncode}\n{stdout}\n{stderr}"
        outputs.append(stdout.strip())
    return outputs


def test_simultaneous_starts_get_distinct_versions(tmp_path: Path, spawn_python) -> None:
    CardRegistry("experiment")  # the store exists; a brand-new one is tested below
    code = (
        BARRIER
        + """
with start_experiment(space="race", name="same") as exp:
    exp.log_metric("m", 1.0)
print(exp.card.version, exp.uid)
"""
    )
    procs = [spawn_python(code, str(i)) for i in range(8)]
    release_when_ready(tmp_path, 8)
    lines = finish(procs)

    versions = sorted((line.split()[0] for line in lines), key=lambda v: int(v.split(".")[1]))
    assert versions == [f"0.{i}.0" for i in range(1, 9)]
    listed = CardRegistry("experiment").list_cards(space="race", name="same")
    assert sorted(r.version for r in listed) == sorted(versions)
    assert {r.status for r in listed} == {"completed"}
    for line in lines:
        uid = line.split()[1]
        assert len(get_experiment_metrics(uid)) == 1


def test_processes_logging_at_once_store_every_point(tmp_path: Path, spawn_python) -> None:
    CardRegistry("experiment")  # the store exists; a brand-new one is tested below
    code = (
        BARRIER
        + """
with start_experiment(space="load", name=f"proc-{index}") as exp:
    for step in range(20_000):
        exp.log_metric("loss", step * 0.5, step=step)
print(exp.uid)
"""
    )
    procs = [spawn_python(code, str(i)) for i in range(4)]
    release_when_ready(tmp_path, 4)
    uids = finish(procs)

    assert len(set(uids)) == 4
    for uid in uids:
        metrics = get_experiment_metrics(uid)
        assert len(metrics) == 20_000
        assert metrics[0].step == 0
        assert metrics[-1].step == 19_999
        assert sum(m.value for m in metrics) == sum(range(20_000)) * 0.5
    assert {r.status for r in CardRegistry("experiment").list_cards(space="load")} == {"completed"}


def test_new_store_opened_by_many_processes_at_once(
    tmp_path: Path, spawn_python, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processes that open a store that does not exist yet all succeed.

    Each round uses a new database file; one round loses the race only now
    and then, so several rounds are run.
    """
    code = """
import pathlib, sys, time
from opsml import start_experiment
pathlib.Path(f"ready-{sys.argv[1]}").touch()
while not pathlib.Path("go").exists():
    time.sleep(0.0005)
with start_experiment(space="fresh", name="n") as exp:
    exp.log_metric("m", 1.0)
print(exp.card.version)
"""
    for round_ in range(15):
        directory = tmp_path / f"round-{round_}"
        directory.mkdir()
        monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{directory / 'opsml.db'}")
        (tmp_path / "go").unlink(missing_ok=True)
        for ready in tmp_path.glob("ready-*"):
            ready.unlink()
        procs = [spawn_python(code, str(i)) for i in range(8)]
        release_when_ready(tmp_path, 8)
        versions = finish(procs)
        assert sorted(versions) == sorted(f"0.{i}.0" for i in range(1, 9)), f"round {round_}"
        assert len(CardRegistry("experiment").list_cards()) == 8


def test_threads_logging_into_one_experiment() -> None:
    per_thread = 10_000
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(exp: object, index: int) -> None:
        try:
            start.wait()
            for step in range(per_thread):
                exp.log_metric(f"thread-{index}", float(index), step=step)  # type: ignore[attr-defined]
                if step % 1000 == 0:
                    exp.log_parameter(f"p{index}", step)  # type: ignore[attr-defined]
        except BaseException as err:
            errors.append(err)

    with start_experiment(name="threads") as exp:
        threads = [threading.Thread(target=work, args=(exp, i)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []

    metrics = get_experiment_metrics(exp.uid)
    assert len(metrics) == 4 * per_thread
    assert metrics.names == [f"thread-{i}" for i in range(4)]
    for i in range(4):
        points = get_experiment_metrics(exp.uid, names=f"thread-{i}")
        assert [m.step for m in points] == list(range(per_thread))
        assert {m.value for m in points} == {float(i)}
    params = exp.card.get_parameters().to_dict()
    assert params == {f"p{i}": 9000 for i in range(4)}


def test_reading_while_another_thread_logs() -> None:
    done = threading.Event()
    counts: list[int] = []

    with start_experiment(name="read-while-write") as exp:

        def reader() -> None:
            while not done.is_set():
                counts.append(len(get_experiment_metrics(exp.uid)))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for step in range(20_000):
                exp.log_metric("m", 1.0, step=step)
        finally:
            done.set()
            thread.join()
    assert counts == sorted(counts)
    assert len(get_experiment_metrics(exp.uid)) == 20_000


def test_two_experiments_in_one_process_at_once() -> None:
    with start_experiment(name="first") as a, start_experiment(name="second") as b:
        for step in range(1000):
            a.log_metric("m", 1.0, step=step)
            b.log_metric("m", 2.0, step=step)
    assert {m.value for m in get_experiment_metrics(a.uid)} == {1.0}
    assert {m.value for m in get_experiment_metrics(b.uid)} == {2.0}
    assert len(get_experiment_metrics(a.uid)) == len(get_experiment_metrics(b.uid)) == 1000
