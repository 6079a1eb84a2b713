"""Shared fixtures: every test gets its own store and working directory.

OPSML_TEST_STORE picks the store: `sqlite` (the default, a file per test), `postgres` (the
database of OPSML_TEST_POSTGRES_URI, emptied per test) or `server` (a real `opsml server`
started for the session on that database, and on the S3 bucket of OPSML_TEST_S3_BUCKET
when set; the tests reach it over HTTP as its admin). Tests that look into the artifact
storage (`storage_dir`) run on a second server that keeps its objects in a directory.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from services import SERVER_ADMIN, postgres_store, serve

STORE = os.environ.get("OPSML_TEST_STORE", "sqlite")

RunPython = Callable[..., subprocess.CompletedProcess[str]]
SpawnPython = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture(scope="session")
def opsml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real `opsml server start` for the session: its URL and the admin's password.

    It keeps records in the `py_server` schema of the test database and artifact objects in
    the S3 bucket of OPSML_TEST_S3_BUCKET (a directory when that is not set).
    """
    home = tmp_path_factory.mktemp("server")
    bucket = os.environ.get("OPSML_TEST_S3_BUCKET")
    storage = f"s3://{bucket}/py-server" if bucket else str(home / "objects")
    yield from serve(home, "py_server", storage)


@pytest.fixture(scope="session")
def opsml_directory_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, Path]]:
    """A second server for the tests that look into the artifact storage: it keeps objects
    in a directory (its third value) and records in the `py_server_dir` schema."""
    home = tmp_path_factory.mktemp("directory-server")
    objects = home / "objects"
    for url, password in serve(home, "py_server_dir", str(objects)):
        yield url, password, objects


@pytest.fixture(autouse=True)
def store_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Path:
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
    if STORE == "postgres":
        monkeypatch.setenv("OPSML_TRACKING_URI", postgres_store())
        monkeypatch.setenv("OPSML_ENCRYPT_SECRET", base64.b64encode(os.urandom(32)).decode())
    if STORE == "server":
        url, password = request.getfixturevalue("opsml_server")
        postgres_store("py_server")
        monkeypatch.setenv("OPSML_TRACKING_URI", url)
        monkeypatch.setenv("OPSML_USERNAME", SERVER_ADMIN)
        monkeypatch.setenv("OPSML_PASSWORD", password)
        monkeypatch.setenv("OPSML_ENCRYPT_SECRET", base64.b64encode(os.urandom(32)).decode())
        monkeypatch.setenv("OPSML_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("OPSML_CODE_MAX_FILE_BYTES", raising=False)
    monkeypatch.chdir(tmp_path)
    return db


@pytest.fixture
def storage_dir(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Path:
    """The artifact storage directory of the test (OPSML_STORAGE_URI).

    On a server, the test runs against a server that keeps its objects in a directory,
    emptied for the test: that directory (and OPSML_TEST_SERVER_DATABASE the server's
    database).
    """
    if STORE != "server":
        return store_path.parent / "storage"
    url, password, objects = request.getfixturevalue("opsml_directory_server")
    monkeypatch.setenv("OPSML_TEST_SERVER_DATABASE", postgres_store("py_server_dir"))
    shutil.rmtree(objects, ignore_errors=True)
    monkeypatch.setenv("OPSML_TRACKING_URI", url)
    monkeypatch.setenv("OPSML_PASSWORD", password)
    return objects


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
            stdin=subprocess.PIPE,
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
    config.addinivalue_line(
        "markers",
        "embedded_only(reason): the test reaches the store or the artifact storage directly,"
        " which a client of a server does not",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skips the tests marked sqlite_only on other stores, and those marked embedded_only on
    a server."""
    skipped = {"sqlite": set(), "postgres": {"sqlite_only"}}.get(
        STORE, {"sqlite_only", "embedded_only"}
    )
    for item in items:
        for name in skipped:
            marker = item.get_closest_marker(name)
            if marker is not None:
                reason = marker.args[0] if marker.args else name
                item.add_marker(pytest.mark.skip(reason=f"{name}: {reason}"))
