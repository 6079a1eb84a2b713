"""How a scenario program tells its test what it logged: one JSON line on stdout."""

from __future__ import annotations

import json
from typing import Any

PREFIX = "SCENARIO "


def report(**facts: Any) -> None:
    """Prints what the program logged (uids, counts, messages) for the test to check."""
    print(PREFIX + json.dumps(facts), flush=True)
