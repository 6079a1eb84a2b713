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


def test_the_readme_examples_type_check(tmp_path: Path) -> None:
    """The README's first example, and parameters as people have them, pass plain mypy
    --strict against the stubs, as they would in a user's project."""
    readme = (ROOT / "README.md").read_text()
    first_example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    configs = """
import argparse
import dataclasses
from pathlib import Path

from opsml import start_experiment


@dataclasses.dataclass
class Config:
    lr: float
    layers: list[int]


with start_experiment(name="typed") as exp:
    exp.log_parameters({"optimizer": {"lr": 1e-3, "betas": [0.9, 0.999]}, "seed": None})
    exp.log_parameters(Config(lr=0.1, layers=[64, 32]))
    exp.log_parameters(argparse.Namespace(epochs=3))
    exp.log_parameter("output", Path("out"))
"""
    for name, source in [("readme.py", first_example), ("configs.py", configs)]:
        (tmp_path / name).write_text(source)
    env = os.environ.copy()
    env["MYPY_CACHE_DIR"] = str(tmp_path / "mypy-cache")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "readme.py", "configs.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"mypy failed:\n{proc.stdout}\n{proc.stderr}"
