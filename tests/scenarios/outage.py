"""How an outage scenario and its test take turns: the program leaves a marker file when it
has reached a point, and waits for the test's marker saying the server changed."""

from __future__ import annotations

import time
from pathlib import Path


def reached(name: str) -> None:
    """Tells the test that the program reached `name`."""
    Path(name).touch()


def wait_for(name: str, timeout: float = 180) -> None:
    """Waits until the test leaves marker `name` (it started or stopped the server)."""
    deadline = time.monotonic() + timeout
    while not Path(name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the test never left {name!r}")
        time.sleep(0.05)
