"""Programs that behave like real training scripts: late first logs, idle epochs, runs of over
a minute, threads, fork and spawn workers, Ctrl-C, resumed runs, a store that refuses a batch,
and (through a server) a run that starts while its server is down and one that ends while it is.

Each program in tests/scenarios runs in a process of its own, all of them at once (most of
their time is spent waiting, as training scripts wait for data), on a store of the kind the
suite runs on: a SQLite file each, a schema of the test PostgreSQL, or a server of their own.
Each test waits for its program and checks that every point, parameter and artifact it logged
is there and that the run's status is right. `late_first_log` and `long_sparse` run with the
real default intervals; the others with intervals shortened through the environment, so that
their pauses outlast many heartbeats and flushes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opsml import CardRegistry, download_artifact, get_experiment_metrics
from services import SERVER_ADMIN, ServerProcess, postgres_store, psql, serve

STORE = os.environ.get("OPSML_TEST_STORE", "sqlite")
PROGRAMS = Path(__file__).parent / "scenarios"
SHORT_INTERVALS = {"OPSML_HEARTBEAT_INTERVAL": "0.2", "OPSML_FLUSH_INTERVAL": "0.05"}
REAL_INTERVALS = {"late_first_log", "long_sparse"}
SCENARIOS = [
    "late_first_log",
    "idle_epochs",
    "long_sparse",
    "threads",
    "fork_workers",
    "spawn_workers",
    "interrupted",
    "resumed",
    "child_in_worker",
    "refused_batch",
]
# Through a server: each program has a server of its own that its test starts or kills in
# the middle of the run, when the program says it reached that point.
OUTAGES = {
    "server_down_at_start": ("started", "server-up"),
    "server_down_at_end": ("logged", "server-down"),
}
POSTGRES_SCHEMA = "py_scenarios"
SERVER_SCHEMA = "py_scenarios_server"
POISON_TRIGGER_SQLITE = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON parameters WHEN NEW.name = 'poison'
BEGIN SELECT RAISE(ABORT, 'the parameter poison is refused'); END;
"""
POISON_TRIGGER_POSTGRES = """
CREATE OR REPLACE FUNCTION {schema}.refuse_poison() RETURNS trigger AS $$
BEGIN
  IF NEW.name = 'poison' THEN
    RAISE EXCEPTION 'the parameter poison is refused' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS refuse_poison ON {schema}.parameters;
CREATE TRIGGER refuse_poison BEFORE INSERT ON {schema}.parameters
FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_poison();
"""


@dataclass
class Run:
    """A scenario program started in the background."""

    env: dict[str, str]
    cwd: Path
    process: subprocess.Popen[str]
    server: ServerProcess | None = None

    def facts(self) -> dict[str, Any]:
        """Waits for the program and returns what it reported; fails with its output
        unless it exited with 0 and reported."""
        out, err = self.process.communicate(timeout=240)
        lines = [line for line in out.splitlines() if line.startswith("SCENARIO ")]
        output = f"--- stdout ---\n{out}\n--- stderr ---\n{err}"
        assert self.process.returncode == 0, f"exit code {self.process.returncode}\n{output}"
        assert lines, f"the program reported nothing\n{output}"
        facts: dict[str, Any] = json.loads(lines[-1].removeprefix("SCENARIO "))
        facts["stderr"] = err
        return facts


def store_env(home: Path, store: dict[str, str]) -> dict[str, str]:
    """The environment of a program running in `home` on `store`."""
    env = {**os.environ, **store}
    env.setdefault("OPSML_TRACKING_URI", f"sqlite://{home / 'opsml.db'}")
    env["OPSML_STORAGE_URI"] = str(home / "storage")
    env["OPSML_SPOOL_DIR"] = str(home / "spool")
    # A short wait for a server at the end of a run whose batches it refuses.
    env["OPSML_SHIP_TIMEOUT"] = "3"
    for name in ("OPSML_FLUSH_INTERVAL", "OPSML_HEARTBEAT_INTERVAL", "OPSML_ENCRYPT_SECRET"):
        if name not in store:
            env.pop(name, None)
    return env


def open_store(env: dict[str, str], cwd: Path) -> None:
    """Creates the store's tables, as the first program to use it would."""
    subprocess.run(
        [sys.executable, "-c", "from opsml import CardRegistry; CardRegistry('experiment')"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )


def install_poison_trigger(env: dict[str, str], cwd: Path, postgres_uri: str | None) -> None:
    """Makes the store refuse a parameter named "poison", as a store refuses what breaks one
    of its rules."""
    open_store(env, cwd)
    if postgres_uri is None:
        db = env["OPSML_TRACKING_URI"].removeprefix("sqlite://")
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.executescript(POISON_TRIGGER_SQLITE)
        return
    schema = SERVER_SCHEMA if STORE == "server" else POSTGRES_SCHEMA
    sql = POISON_TRIGGER_POSTGRES.format(schema=schema)
    subprocess.run([psql(), postgres_uri, "-qc", sql], check=True, capture_output=True)


def drop_poison_trigger(env: dict[str, str], postgres_uri: str | None) -> None:
    if postgres_uri is None:
        import sqlite3

        db = env["OPSML_TRACKING_URI"].removeprefix("sqlite://")
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TRIGGER refuse_poison")
        return
    schema = SERVER_SCHEMA if STORE == "server" else POSTGRES_SCHEMA
    sql = f"DROP TRIGGER refuse_poison ON {schema}.parameters"
    subprocess.run([psql(), postgres_uri, "-qc", sql], check=True, capture_output=True)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Settings that every program's store shares: none for SQLite (a file each), a schema of
    the test database, or a server of the scenarios' own."""
    if STORE == "sqlite":
        yield {}
        return
    secret = base64.b64encode(os.urandom(32)).decode()
    if STORE == "postgres":
        yield {
            "OPSML_TRACKING_URI": postgres_store(POSTGRES_SCHEMA),
            "OPSML_ENCRYPT_SECRET": secret,
        }
        return
    home = tmp_path_factory.mktemp("scenario-server")
    for url, password in serve(home, SERVER_SCHEMA, str(home / "objects")):
        yield {
            "OPSML_TRACKING_URI": url,
            "OPSML_USERNAME": SERVER_ADMIN,
            "OPSML_PASSWORD": password,
            "OPSML_ENCRYPT_SECRET": secret,
        }


def start_program(name: str, env: dict[str, str], home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROGRAMS / f"{name}.py")],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A group of its own: its workers go with it when the test ends.
        start_new_session=True,
    )


def conduct_outage(run: Run) -> None:
    """Starts or kills the program's server when the program reaches the point of its
    outage, then tells it so."""
    name = Path(run.process.args[1]).stem  # type: ignore[index]
    reached, changed = OUTAGES[name]
    deadline = time.monotonic() + 180
    while not (run.cwd / reached).exists():
        if run.process.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(0.05)
    assert run.server is not None
    if name == "server_down_at_start":
        run.server.start()
    else:
        run.server.kill()
    (run.cwd / changed).touch()


@pytest.fixture(scope="module")
def runs(
    shared_store: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """Every scenario program, started at once."""
    postgres_uri = os.environ.get("OPSML_TEST_POSTGRES_URI") if STORE != "sqlite" else None
    started: dict[str, Run] = {}
    for name in SCENARIOS:
        home = tmp_path_factory.mktemp(name)
        intervals = {} if name in REAL_INTERVALS else SHORT_INTERVALS
        env = store_env(home, {**shared_store, **intervals})
        if name == "refused_batch":
            install_poison_trigger(env, home, postgres_uri)
        started[name] = Run(env, home, start_program(name, env, home))
    outages = []
    if STORE == "server":
        for name in OUTAGES:
            home = tmp_path_factory.mktemp(name)
            server = ServerProcess(home, f"py_scenarios_{name}", str(home / "objects"))
            if name == "server_down_at_end":
                server.start()
            env = store_env(
                home,
                {
                    **shared_store,
                    **SHORT_INTERVALS,
                    "OPSML_TRACKING_URI": server.url,
                    "OPSML_PASSWORD": server.password,
                },
            )
            started[name] = Run(env, home, start_program(name, env, home), server)
            outage = threading.Thread(target=conduct_outage, args=(started[name],), daemon=True)
            outage.start()
            outages.append(outage)
    yield started
    for outage in outages:
        outage.join(timeout=60)
    for run in started.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.process.pid, signal.SIGKILL)
        run.process.communicate(timeout=60)
        if run.server is not None:
            run.server.stop()


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Points this process at a scenario's store, to read back what its program logged."""

    def use(run: Run) -> None:
        for name in (
            "OPSML_TRACKING_URI",
            "OPSML_STORAGE_URI",
            "OPSML_ENCRYPT_SECRET",
            "OPSML_USERNAME",
            "OPSML_PASSWORD",
            "OPSML_SPOOL_DIR",
        ):
            if name in run.env:
                monkeypatch.setenv(name, run.env[name])
            else:
                monkeypatch.delenv(name, raising=False)
        monkeypatch.chdir(run.cwd)

    return use


def counts(uid: str) -> Counter[str]:
    return Counter(m.name for m in get_experiment_metrics(uid))


def steps(uid: str, name: str) -> list[int | None]:
    return [m.step for m in get_experiment_metrics(uid, names=name)]


def parameters(uid: str) -> dict[str, object]:
    card = CardRegistry("experiment").load_card(uid=uid)
    return {p.name: p.value for p in card.get_parameters()}


def status(uid: str) -> str:
    return str(CardRegistry("experiment").load_card(uid=uid).status)


def test_a_first_log_after_the_heartbeat_stores_everything(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["late_first_log"].facts()
    use_store(runs["late_first_log"])
    uid = facts["uid"]
    assert status(uid) == "completed"
    assert parameters(uid) == {"lr": 0.1, "optimizer": "adam"}
    assert steps(uid, "loss") == list(range(100))
    assert download_artifact(uid, "model.txt").read_text() == "weights after 100 steps"
    assert "UNIQUE" not in facts["stderr"], facts["stderr"]


def test_idle_epochs_lose_nothing(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["idle_epochs"].facts()
    use_store(runs["idle_epochs"])
    uid = facts["uid"]
    assert status(uid) == "completed"
    assert counts(uid) == {"loss": 200, "val_loss": 5}
    assert steps(uid, "loss") == list(range(200))
    assert parameters(uid) == {"epochs": 5}
    assert download_artifact(uid, "checkpoints/epoch-2.txt").read_text() == "epoch 2"


def test_a_run_of_over_a_minute_with_sparse_logging_stays_alive(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["long_sparse"].facts()
    use_store(runs["long_sparse"])
    uid = facts["uid"]
    assert facts["seen_by_others"] == "running", "another process took the live run for dead"
    assert status(uid) == "completed"
    assert facts["points"] >= 10
    assert steps(uid, "reward") == list(range(facts["points"]))


def test_metrics_from_several_threads_all_arrive(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["threads"].facts()
    use_store(runs["threads"])
    uid = facts["uid"]
    assert status(uid) == "completed"
    expected = {f"metric_{i}": facts["points"] for i in range(facts["threads"])}
    assert counts(uid) == expected
    assert parameters(uid) == {f"thread_{i}": i for i in range(facts["threads"])}


def test_fork_workers_log_through_the_inherited_experiment(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["fork_workers"].facts()
    use_store(runs["fork_workers"])
    uid = facts["uid"]
    assert facts["exit_codes"] == [0] * facts["workers"]
    assert status(uid) == "completed"
    expected = {f"worker_{i}_batch_ms": facts["points"] for i in range(facts["workers"])}
    assert counts(uid) == {"loss": 50, **expected}
    for i in range(facts["workers"]):
        assert steps(uid, f"worker_{i}_batch_ms") == list(range(facts["points"]))


def test_spawn_workers_values_logged_by_the_parent_arrive(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["spawn_workers"].facts()
    use_store(runs["spawn_workers"])
    uid = facts["uid"]
    assert status(uid) == "completed"
    expected = {f"worker_{i}_batch_ms": facts["points"] for i in range(facts["workers"])}
    assert counts(uid) == expected


def test_ctrl_c_mid_epoch_keeps_what_was_logged_and_marks_the_run_killed(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["interrupted"].facts()
    use_store(runs["interrupted"])
    uid = facts["uid"]
    assert status(uid) == "killed"
    assert steps(uid, "loss") == list(range(facts["points"]))
    assert parameters(uid) == {"epochs": 10}


def test_a_resumed_run_continues_where_it_stopped(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["resumed"].facts()
    use_store(runs["resumed"])
    uid = facts["uid"]
    card = CardRegistry("experiment").load_card(uid=uid)
    assert str(card.status) == "completed"
    assert str(card.version) == facts["version"]
    assert steps(uid, "loss") == list(range(100))
    assert parameters(uid) == {"lr": 0.01, "resumed_at": 50}


def test_children_started_in_worker_processes_are_complete_and_listed(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    facts = runs["child_in_worker"].facts()
    use_store(runs["child_in_worker"])
    uid = facts["uid"]
    assert facts["exit_codes"] == [0] * facts["trials"]
    registry = CardRegistry("experiment")
    parent = registry.load_card(uid=uid)
    assert str(parent.status) == "completed"
    assert counts(uid) == {"best_loss": 1}
    children = [registry.load_card(uid=child) for child in parent.uids.experimentcard_uids]
    assert sorted(child.name for child in children) == [
        f"trial-{i}" for i in range(facts["trials"])
    ]
    for child in children:
        assert str(child.status) == "completed"
        assert steps(child.uid, "loss") == list(range(facts["points"]))
        index = int(child.name.removeprefix("trial-"))
        assert parameters(child.uid) == {"lr": 10.0**-index}


def test_a_batch_the_store_refuses_is_kept_and_sync_stores_it(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    run = runs["refused_batch"]
    facts = run.facts()
    use_store(run)
    uid = facts["uid"]
    # What the store took is there; the refused batch is not, and the run says why.
    assert "poison" not in parameters(uid)
    if STORE == "server":
        # The server refused it; the client keeps it in its write-ahead file.
        assert facts["message"] is None
        # Its end waits for the batches; meanwhile a reader that sees its process gone may
        # take it for killed.
        assert status(uid) in ("running", "killed")
        # It and the later batches wait in the client's file.
        assert counts(uid)["loss"] < 200
    else:
        message = facts["message"]
        assert message is not None
        assert "the parameter poison is refused" in message
        # Only what the store refused is kept: the points logged with it are stored.
        assert "0 point(s), 1 parameter(s)" in message
        assert "opsml sync" in message
        recovery = Path(message.split(" are kept in ")[1].split(" and `opsml sync`")[0])
        assert recovery.is_file(), message
        assert status(uid) == "failed"
        assert counts(uid)["loss"] == 200
    # Once the cause is gone, `opsml sync` stores what was kept and ends the run as it ended.
    postgres_uri = os.environ.get("OPSML_TEST_POSTGRES_URI") if STORE != "sqlite" else None
    drop_poison_trigger(run.env, postgres_uri)
    opsml = Path(sys.executable).parent / "opsml"
    synced = subprocess.run(
        [str(opsml), "sync"], env=run.env, cwd=run.cwd, capture_output=True, text=True
    )
    assert synced.returncode == 0, synced.stderr
    assert "poison" in parameters(uid), (synced.stdout, synced.stderr)
    assert parameters(uid)["poison"] == "refused by the store"
    assert steps(uid, "loss") == list(range(200))
    assert status(uid) == "completed"
    if STORE != "server":
        again = subprocess.run(
            [str(opsml), "sync"], env=run.env, cwd=run.cwd, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert "sent 0 batch(es) and 0 status(es)" in again.stdout
        assert steps(uid, "loss") == list(range(200))


def outage_run(runs: dict[str, Run], name: str) -> Run:
    if STORE != "server":
        pytest.skip("an outage of a server")
    return runs[name]


def test_a_run_started_while_its_server_is_down_is_complete_once_up(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    run = outage_run(runs, "server_down_at_start")
    facts = run.facts()
    use_store(run)
    uid = facts["uid"]
    # The run started without its server, and learned its version once the server answered.
    assert facts["version_at_start"] == "0.0.0-pending"
    assert facts["version_at_end"] == "0.1.0"
    card = CardRegistry("experiment").load_card(uid=uid)
    assert (card.version, card.status) == ("0.1.0", "completed")
    assert parameters(uid) == {"lr": 0.1, "epochs": 2}
    assert steps(uid, "loss") == list(range(100))
    # Everything reached the server without `opsml sync`: artifacts logged before it was up
    # (and the captured code), encrypted with the key made while it was down.
    paths = set(card.list_artifacts())
    assert {"config.yaml", "model.txt", "environment/requirements.txt"} <= paths, paths
    # The capture's record of the script reached the card too, from the outbox.
    assert card.code is not None, "the code capture's metadata was lost in the outage"
    assert card.code.files == 1
    download_artifact(uid, "config.yaml", run.cwd / "back.yaml")
    assert (run.cwd / "back.yaml").read_text() == "lr: 0.1\nepochs: 2\n"
    assert not any(Path(run.env["OPSML_SPOOL_DIR"]).rglob("*.*")), "nothing is left to sync"


def test_a_run_that_ends_while_its_server_is_down_is_completed_by_sync(runs, use_store) -> None:  # type: ignore[no-untyped-def]
    run = outage_run(runs, "server_down_at_end")
    facts = run.facts()
    use_store(run)
    uid = facts["uid"]
    assert run.server is not None
    run.server.start()
    # Until `opsml sync`, the server has what came before the outage (and a reader that sees
    # the run's process gone may take it for killed).
    assert status(uid) in ("running", "killed")
    assert steps(uid, "loss") == list(range(50))
    opsml = Path(sys.executable).parent / "opsml"
    synced = subprocess.run(
        [str(opsml), "sync"], env=run.env, cwd=run.cwd, capture_output=True, text=True
    )
    assert synced.returncode == 0, synced.stderr
    assert "1 experiment(s)" in synced.stdout, synced.stdout
    assert steps(uid, "loss") == list(range(100))
    assert parameters(uid) == {"lr": 0.01, "best_epoch": 3}
    assert status(uid) == "completed"
    download_artifact(uid, "model.txt", run.cwd / "back.txt")
    assert (run.cwd / "back.txt").read_text() == "weights logged while the server was down"
    download_artifact(uid, "before.txt", run.cwd / "before-back.txt")
    assert (run.cwd / "before-back.txt").read_text() == "logged while the server was up"
