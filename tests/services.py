"""The services the tests run on besides SQLite: the PostgreSQL client (OPSML_TEST_STORE=
postgres or server) and an opsml server process (OPSML_TEST_STORE=server)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


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
