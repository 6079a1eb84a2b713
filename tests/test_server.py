"""Runs on real `opsml server` processes that the tests start, kill and restart themselves:
logging through a server outage, `opsml sync`, and two servers on one database."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import openapi_spec_validator
import pytest
from conftest import SpawnPython
from opsml import CardRegistry, get_experiment_metrics, start_experiment
from services import free_port, psql, start_server

ADMIN = "admin"
PASSWORD = "a long admin password"


class Servers:
    """`opsml server` processes sharing one database (the test PostgreSQL database when
    OPSML_TEST_POSTGRES_URI is set, else a SQLite file) and one object directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.running: dict[int, subprocess.Popen[bytes]] = {}
        postgres = os.environ.get("OPSML_TEST_POSTGRES_URI")
        if postgres:
            reset = "DROP SCHEMA IF EXISTS py_servers CASCADE; CREATE SCHEMA py_servers"
            subprocess.run([psql(), postgres, "-qc", reset], check=True, capture_output=True)
            separator = "&" if "?" in postgres else "?"
            store = f"{postgres}{separator}options=-c%20search_path%3Dpy_servers"
        else:
            store = f"sqlite://{home / 'server.db'}"
        self.env = {
            "OPSML_TRACKING_URI": store,
            "OPSML_STORAGE_URI": str(home / "objects"),
            "OPSML_ADMIN_USERNAME": ADMIN,
            "OPSML_ADMIN_PASSWORD": PASSWORD,
        }

    def start(self, port: int | None = None) -> int:
        """Starts a server (on `port`, or a free one) and returns its port."""
        port = port or free_port()
        self.running[port] = start_server(self.home, port, self.env)
        return port

    def kill(self, port: int) -> None:
        """Kills a server at once (SIGKILL): no request under way is finished."""
        server = self.running.pop(port)
        server.kill()
        server.wait(timeout=30)

    def stop_all(self) -> None:
        for server in self.running.values():
            server.terminate()
            server.wait(timeout=30)
        self.running.clear()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    started = Servers(tmp_path / "servers")
    started.home.mkdir()
    yield started
    started.stop_all()


@pytest.fixture
def client_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Points this process (and the subprocesses it starts) at the server on a port."""
    monkeypatch.setenv("OPSML_USERNAME", ADMIN)
    monkeypatch.setenv("OPSML_PASSWORD", PASSWORD)
    monkeypatch.setenv("OPSML_ENCRYPT_SECRET", base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("OPSML_SPOOL_DIR", str(tmp_path / "spool"))

    def point(port: int) -> None:
        monkeypatch.setenv("OPSML_TRACKING_URI", f"http://127.0.0.1:{port}")

    return point


def steps(uid: str) -> list[int]:
    return sorted(m.step for m in get_experiment_metrics(uid) if m.step is not None)


def opsml_sync() -> subprocess.CompletedProcess[str]:
    """`opsml sync` of this environment's spool, as a user runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "opsml"), "sync"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_killing_the_server_mid_run_loses_nothing(
    servers: Servers, client_of: Callable[[int], None], tmp_path: Path
) -> None:
    port = servers.start()
    client_of(port)
    notes = tmp_path / "notes.txt"
    notes.write_text("kept")
    with start_experiment(name="outage") as exp:
        for step in range(5_000):
            exp.log_metric("loss", 1.0 / (step + 1), step=step)
        exp.flush()
        servers.kill(port)
        # The server is gone: logging goes on, into the write-ahead file.
        for step in range(5_000, 10_000):
            exp.log_metric("loss", 1.0 / (step + 1), step=step)
        exp.log_parameter("lr", 0.01)
        exp.flush()
        spooled = list((tmp_path / "spool").rglob("*.batches"))
        assert spooled
        assert sum(p.stat().st_size for p in spooled) > 0
        servers.start(port)
        for step in range(10_000, 15_000):
            exp.log_metric("loss", 1.0 / (step + 1), step=step)
        exp.log_artifact(str(notes))
    assert steps(exp.uid) == list(range(15_000))
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    assert card.status == "completed"
    assert card.download_artifact("notes.txt", tmp_path / "back.txt").read_text() == "kept"
    assert not list((tmp_path / "spool").rglob("*.batches")), "the spool is emptied"


def run_ending_in_an_outage(
    servers: Servers, port: int, spawn_python: SpawnPython, code: str
) -> str:
    """Runs `code` in a process whose server is killed when it reads a line from stdin (after
    printing its experiment's uid); returns the uid once the process ended."""
    os.environ["OPSML_SHIP_TIMEOUT"] = "1"
    try:
        run = spawn_python(code)
    finally:
        del os.environ["OPSML_SHIP_TIMEOUT"]
    assert run.stdout is not None
    uid = run.stdout.readline().strip()
    servers.kill(port)
    _out, err = run.communicate("go\n", timeout=120)
    assert run.returncode == 0, err
    assert "opsml sync" in err, err
    return uid


def test_a_run_that_ends_during_an_outage_is_completed_by_opsml_sync(
    servers: Servers, client_of: Callable[[int], None], spawn_python: SpawnPython
) -> None:
    port = servers.start()
    client_of(port)
    uid = run_ending_in_an_outage(
        servers,
        port,
        spawn_python,
        """
        import sys
        from opsml import start_experiment
        with start_experiment(name="left-behind") as exp:
            for step in range(1_000):
                exp.log_metric("loss", float(step), step=step)
            exp.flush()
            print(exp.uid, flush=True)
            sys.stdin.readline()  # the server is killed meanwhile
            for step in range(1_000, 3_000):
                exp.log_metric("loss", float(step), step=step)
        """,
    )
    servers.start(port)
    assert steps(uid) == list(range(1_000)), "the rest is still on the client's disk"
    synced = opsml_sync()
    assert synced.returncode == 0, synced.stderr
    assert "1 status(es)" in synced.stdout, synced.stdout
    assert steps(uid) == list(range(3_000))
    assert CardRegistry("experiment").load_card(uid=uid).status == "completed"
    again = opsml_sync()
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("sent 0 batch(es) and 0 status(es)"), again.stdout
    assert steps(uid) == list(range(3_000)), "nothing is stored twice"


def test_two_servers_on_one_database_behave_as_one(
    servers: Servers, client_of: Callable[[int], None], spawn_python
) -> None:  # type: ignore[no-untyped-def]
    ports = [servers.start(), servers.start()]
    clients = []
    for k in range(4):
        client_of(ports[k % 2])
        clients.append(
            spawn_python(
                """
                from opsml import start_experiment
                with start_experiment(space="team", name="shared") as exp:
                    for step in range(2_000):
                        exp.log_metric("loss", float(step), step=step)
                    exp.log_parameter("client", exp.uid)
                print(exp.uid, exp.card.version)
                """
            )
        )
    runs = []
    for proc in clients:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        runs.append(out.split())
    versions = sorted(version for _, version in runs)
    assert versions == ["0.1.0", "0.2.0", "0.3.0", "0.4.0"], "one version each, none twice"
    # Each server answers for what went through the other.
    for port in ports:
        client_of(port)
        for uid, _ in runs:
            assert steps(uid) == list(range(2_000))
        cards = CardRegistry("experiment").list_cards(space="team", name="shared")
        assert len(cards) == 4


def test_a_damaged_batch_in_the_spool_is_refused_by_sync_not_stored(
    servers: Servers, client_of: Callable[[int], None], spawn_python: SpawnPython, tmp_path: Path
) -> None:
    port = servers.start()
    client_of(port)
    uid = run_ending_in_an_outage(
        servers,
        port,
        spawn_python,
        """
        import sys
        from opsml import start_experiment
        with start_experiment(name="damaged") as exp:
            exp.log_metric("loss", 0.5, step=0)
            exp.flush()
            print(exp.uid, flush=True)
            sys.stdin.readline()  # the server is killed meanwhile
            for step in range(1, 100):
                exp.log_metric("loss", step + 0.25, step=step)
        """,
    )
    (spooled,) = (tmp_path / "spool").rglob("*.batches")
    assert spooled.stat().st_mode & 0o777 == 0o600
    data = spooled.read_bytes()
    assert b"42.25" in data
    spooled.write_bytes(data.replace(b"42.25", b"49.25", 1))

    servers.start(port)
    synced = opsml_sync()
    assert synced.returncode != 0
    assert "does not match its checksum" in synced.stderr, synced.stderr
    assert str(spooled) in synced.stderr
    assert spooled.exists(), "the damaged file is kept"
    values = {m.value for m in get_experiment_metrics(uid)}
    assert 49.25 not in values


def test_the_api_document_is_valid_openapi(servers: Servers) -> None:
    """Client generators and API browsers read the document: it must be valid OpenAPI by the
    specification's own schema (unique operation ids, every reference resolved)."""
    port = servers.start()
    url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
    with urllib.request.urlopen(url, timeout=30) as answer:
        document = json.load(answer)
    openapi_spec_validator.validate(document)
    assert "/api/v1/experiments/{uid}/batches" in document["paths"]
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]


def test_a_wrong_password_is_said_once_and_names_the_server(
    servers: Servers, client_of: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = servers.start()
    client_of(port)
    monkeypatch.setenv("OPSML_PASSWORD", "not the password")
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "opsml"), "experiments", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode != 0
    assert listed.stderr.splitlines() == [
        f"opsml: opsml server http://127.0.0.1:{port}: wrong username or password "
        "(401 unauthorized)"
    ], listed.stderr
