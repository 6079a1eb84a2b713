"""What every tracker adapter shares: the workload configuration, the outcome
of a workload, timers, file comparison and process-tree CPU accounting.

This module runs inside each tracker's own virtual environment, so it uses the
standard library only and never imports a tracker.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SPACE = "bench"


class Unsupported(Exception):
    """The tracker cannot do this workload; the message says why."""


@dataclass
class Config:
    """Sizes and inputs of one workload run (the same for every tracker)."""

    store: Path
    n: int = 10_000
    n_params: int = 1_000
    warm_runs: int = 20
    large: Path | None = None
    small: Path | None = None
    hw_seconds: float = 10.0
    hw_interval: float = 1.0
    import_samples: int = 5


@dataclass
class Outcome:
    """What a workload measured and what it read back.

    `values` holds the measurements (seconds unless the key says otherwise);
    `expected` is how many items were logged and `verified` how many were read
    back intact through the tracker; `expected` is None where the tracker
    decides the count itself (hardware samples), and then any sample counts.
    """

    values: dict[str, float]
    expected: int | None
    verified: int
    verify: str
    notes: list[str] = field(default_factory=list)


class Timer:
    seconds: float = 0.0


@contextmanager
def timer() -> Iterator[Timer]:
    t = Timer()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def points(n: int) -> list[tuple[int, float]]:
    """The (step, value) pairs every metric workload logs."""
    return [(i, float(i)) for i in range(n)]


def params(n: int) -> dict[str, int]:
    """The parameters every parameter workload logs."""
    return {f"p{i:05d}": i for i in range(n)}


def count_points(expected: list[tuple[int, float]], got: list[tuple[int, float]]) -> int:
    """How many of the expected (step, value) pairs were read back (each at most once)."""
    want: dict[tuple[int, float], int] = {}
    for pair in expected:
        want[pair] = want.get(pair, 0) + 1
    found = 0
    for step, value in got:
        key = (int(step), float(value))
        if want.get(key, 0) > 0:
            want[key] -= 1
            found += 1
    return found


def count_params(expected: dict[str, int], got: dict[str, object]) -> int:
    """How many expected parameters were read back with their value (as a number or text)."""
    found = 0
    for name, value in expected.items():
        if name not in got:
            continue
        stored = got[name]
        try:
            same = float(stored) == float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            same = False
        found += same
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (sizes first, then a hash)."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
    except OSError:
        return False
    return sha256(a) == sha256(b)


def count_same_files(source: Path, restored: Path) -> int:
    """How many files of the `source` tree exist under `restored` with the same bytes."""
    found = 0
    for path in source.rglob("*"):
        if path.is_file():
            found += same_bytes(path, restored / path.relative_to(source))
    return found


def count_files(tree: Path) -> int:
    return sum(1 for p in tree.rglob("*") if p.is_file())


def bench_import(statement: str, cfg: Config) -> Outcome:
    """Seconds `statement` takes in a fresh interpreter (median of several)."""
    code = (
        "import time\n"
        "start = time.perf_counter()\n"
        f"{statement}\n"
        "print('imported', time.perf_counter() - start)\n"
    )
    samples = []
    for _ in range(cfg.import_samples):
        out = subprocess.run(
            [sys.executable, "-I", "-c", code], cwd=cfg.store, capture_output=True, text=True
        )
        words = out.stdout.split()
        if out.returncode != 0 or len(words) < 2 or words[-2] != "imported":
            raise RuntimeError(f"`{statement}` failed: {out.stderr.strip()[-500:]}")
        samples.append(float(words[-1]))
    return Outcome(
        {"seconds": statistics.median(samples)},
        expected=1,
        verified=1,
        verify=f"`{statement}` completes in a fresh interpreter",
        notes=["timed inside the fresh interpreter, around the import statement only"],
    )


def _proc_times() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds) of every visible process (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return out


def tree_cpu() -> dict[int, float]:
    """CPU seconds so far of this process and all its descendants (helpers, services)."""
    procs = _proc_times()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in procs and pid not in out:
            out[pid] = procs[pid][1]
            todo.extend(children.get(pid, []))
    return out


def cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the process tree used since `before` (processes gone since are lost)."""
    now = tree_cpu()
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in now.items())


def idle_run_cpu(seconds: float) -> float:
    """Sleeps `seconds` and returns the CPU seconds the process tree used meanwhile."""
    before = tree_cpu()
    time.sleep(seconds)
    return cpu_since(before)


def hardware_outcome(
    cpu_on: float, cpu_off: float, seconds: float, samples: int, verify: str
) -> Outcome:
    """The hardware workload's outcome: samples stored and CPU % of one core spent on them."""

    def pct(cpu: float) -> float:
        return round(cpu / seconds * 100, 3)

    return Outcome(
        {
            "samples": float(samples),
            "cpu_overhead_pct": round(pct(cpu_on) - pct(cpu_off), 3),
            "cpu_on_pct": pct(cpu_on),
            "cpu_off_pct": pct(cpu_off),
        },
        expected=None,
        verified=samples,
        verify=verify,
    )
