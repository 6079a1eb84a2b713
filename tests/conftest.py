"""Shared fixtures: every test gets its own SQLite store and working directory."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from services import psql

RunPython = Callable[..., subprocess.CompletedProcess[str]]
SpawnPython = Callable[..., "subprocess.Popen[str]"]


def _postgres_store() -> str:
    """The test schema of the database at OPSML_TEST_POSTGRES_URI, emptied, as a tracking URI.

    One schema for the whole run: a process keeps one store (and its connections) per URI,
    so a schema per test would hold a connection pool per test.
    """
    admin = os.environ["OPSML_TEST_POSTGRES_URI"]
    empty = (
        "CREATE SCHEMA IF NOT EXISTS py_tests;"
        " DO $$ BEGIN IF to_regclass('py_tests.experiments') IS NOT NULL"
        " THEN TRUNCATE py_tests.experiments CASCADE; END IF; END $$;"
    )
    subprocess.run([psql(), admin, "-qc", empty], check=True, capture_output=True)
    separator = "&" if "?" in admin else "?"
    return f"{admin}{separator}options=-c%20search_path%3Dpy_tests"


@pytest.fixture(autouse=True)
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points OPSML_TRACKING_URI at a fresh database and runs the test in tmp_path.

    Artifacts go to tmp_path/storage (OPSML_STORAGE_URI) and the master key file
    is created beside the database, so nothing is written outside tmp_path. A
    master secret inherited from the caller's environment is removed so that the
    key file is used unless a test sets one.
    """
    db = tmp_path / "opsml.db"
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{db}")
    monkeypatch.setenv("OPSML_STORAGE_URI", str(tmp_path / "storage"))
    monkeypatch.delenv("OPSML_ENCRYPT_SECRET", raising=False)
    if os.environ.get("OPSML_TEST_STORE") == "postgres":
        monkeypatch.setenv("OPSML_TRACKING_URI", _postgres_store())
        monkeypatch.setenv("OPSML_ENCRYPT_SECRET", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.delenv("OPSML_CODE_MAX_FILE_BYTES", raising=False)
    monkeypatch.chdir(tmp_path)
    return db


@pytest.fixture
def storage_dir(store_path: Path) -> Path:
    """The artifact storage directory of the test (OPSML_STORAGE_URI)."""
    return store_path.parent / "storage"


def _command(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.fixture
def run_python(tmp_path: Path) -> RunPython:
    """Runs a Python snippet in a fresh interpreter with the test's environment.

    Fails the test (showing stdout and stderr) unless the snippet exits with 0,
    or `check=False` is passed.
    """

    def run(
        code: str, *, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            _command(code),
            env=os.environ.copy(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert proc.returncode == 0, (
                f"subprocess exited with {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
            )
        return proc

    return run


@pytest.fixture
def spawn_python(tmp_path: Path) -> Iterator[SpawnPython]:
    """Starts a Python snippet in the background; the caller must `communicate()`.

    Processes still running when the test ends are killed and reaped.
    """
    started: list[subprocess.Popen[str]] = []

    def spawn(code: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*_command(code), *args],
            env=os.environ.copy(),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test checks something only a SQLite store has"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On PostgreSQL (OPSML_TEST_STORE=postgres), skips the tests marked sqlite_only."""
    if os.environ.get("OPSML_TEST_STORE") != "postgres":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "SQLite only"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
