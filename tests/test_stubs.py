"""The type stubs of the extension module match what it really exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import opsml

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "tests" / "stubtest_allowlist.txt"


def test_stubs_match_the_extension_module(tmp_path: Path) -> None:
    stub = Path(opsml.__file__).parent / "_opsml.pyi"
    assert stub.exists(), f"missing stub file {stub}"
    command = [sys.executable, "-m", "mypy.stubtest", "opsml._opsml"]
    if ALLOWLIST.exists():
        command += ["--allowlist", str(ALLOWLIST)]
    command += ["--mypy-config-file", str(ROOT / "pyproject.toml")]
    env = os.environ.copy()
    env["MYPY_CACHE_DIR"] = str(tmp_path / "mypy-cache")
    proc = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"stubtest failed:\n{proc.stdout}\n{proc.stderr}"
