"""The services the tests run on besides SQLite: the PostgreSQL client (OPSML_TEST_STORE=
postgres or server) and an opsml server process (OPSML_TEST_STORE=server)."""

from __future__ import annotations

import base64
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

SERVER_ADMIN = "admin"


def psql() -> str:
    """The psql program: on PATH, else from the Debian package's versioned directory."""
    found = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None
    )
    assert found, "psql not found: install the postgresql package (scripts/start-postgres.sh)"
    return found


def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Waits until the server at `url` answers /readyz; fails with its log if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not get ready in {timeout} s:\n{log.read_text()}")


def start_server(home: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`opsml server start` on loopback `port` with `env`, logging to home/server-<port>.log;
    returns once it answers /readyz."""
    log_path = home / f"server-{port}.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "opsml"), "server", "start", "--port", str(port)],
            env={**os.environ, "OPSML_LOG": "warn", **env},
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_ready(f"http://127.0.0.1:{port}", server, log_path)
    return server


def postgres_store(schema: str = "py_tests") -> str:
    """A schema of the database at OPSML_TEST_POSTGRES_URI, emptied, as a tracking URI.

    One schema for the whole run: a process keeps one store (and its connections) per URI,
    so a schema per test would hold a connection pool per test.
    """
    admin = os.environ["OPSML_TEST_POSTGRES_URI"]
    empty = (
        f"CREATE SCHEMA IF NOT EXISTS {schema};"
        f" DO $$ BEGIN IF to_regclass('{schema}.experiments') IS NOT NULL"
        f" THEN TRUNCATE {schema}.experiments CASCADE; END IF; END $$;"
    )
    subprocess.run([psql(), admin, "-qc", empty], check=True, capture_output=True)
    separator = "&" if "?" in admin else "?"
    return f"{admin}{separator}options=-c%20search_path%3D{schema}"


class ServerProcess:
    """A real `opsml server start` on a fresh `schema` of the test database and `storage`,
    on a port of its own that it keeps when a test stops it and starts it again (an outage)."""

    def __init__(self, home: Path, schema: str, storage: str) -> None:
        self.home = home
        self.password = base64.b64encode(os.urandom(18)).decode()
        # A fresh schema: the admin of an earlier run had another password.
        drop = f"DROP SCHEMA IF EXISTS {schema} CASCADE"
        subprocess.run(
            [psql(), os.environ["OPSML_TEST_POSTGRES_URI"], "-qc", drop],
            check=True,
            capture_output=True,
        )
        self.env = {
            "OPSML_TRACKING_URI": postgres_store(schema),
            "OPSML_STORAGE_URI": storage,
            "OPSML_ADMIN_USERNAME": SERVER_ADMIN,
            "OPSML_ADMIN_PASSWORD": self.password,
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts the server; returns once it answers."""
        self.process = start_server(self.home, self.port, self.env)

    def kill(self) -> None:
        """Stops the server as a crash or a lost machine does: at once, mid-request."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """Stops the server as an operator does."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def serve(home: Path, schema: str, storage: str) -> Iterator[tuple[str, str]]:
    """A real `opsml server start` on the `schema` of the test database and `storage`, for
    as long as the generator runs: its URL and the admin's password."""
    server = ServerProcess(home, schema, storage)
    server.start()
    try:
        yield server.url, server.password
    finally:
        server.stop()
