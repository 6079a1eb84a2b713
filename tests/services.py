"""The PostgreSQL client of the tests that run on PostgreSQL (OPSML_TEST_STORE=postgres)."""

from __future__ import annotations

import glob
import shutil


def psql() -> str:
    """The psql program: on PATH, else from the Debian package's versioned directory."""
    found = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None
    )
    assert found, "psql not found: install the postgresql package (scripts/start-postgres.sh)"
    return found
