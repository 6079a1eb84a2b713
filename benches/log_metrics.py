"""Benchmarks of the logging path against the targets of the foundation.

Each figure is the median of several runs in a fresh store, reported with
its min-max and, where the target is relative, as a ratio to a baseline
measured in the same run (this matters on a shared, noisy machine).

    python benches/log_metrics.py            # full sizes (1,000,000 points)
    python benches/log_metrics.py --quick    # small sizes, one repetition
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path


class _Plain:
    """The baseline: an empty method on a plain Python object."""

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        pass


def _fresh_store() -> tempfile.TemporaryDirectory[str]:
    tmp = tempfile.TemporaryDirectory(prefix="opsml-bench-")
    os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{tmp.name}/opsml.db"
    return tmp


def _median(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def bench_log_metric(n: int) -> tuple[float, float]:
    """Seconds for n log_metric calls including the final drain, and for n empty calls."""
    from opsml import get_experiment_metrics, start_experiment

    plain = _Plain()
    start = time.perf_counter()
    for i in range(n):
        plain.log_metric("loss", 0.5, step=i)
    baseline = time.perf_counter() - start

    with _fresh_store():
        start = time.perf_counter()
        with start_experiment(space="bench", name="log-metric") as exp:
            for i in range(n):
                exp.log_metric("loss", 0.5, step=i)
        elapsed = time.perf_counter() - start
        stored = len(get_experiment_metrics(exp.card.uid))
    assert stored == n, f"stored {stored} of {n} points"
    return elapsed, baseline


def bench_log_metrics_batch(n: int) -> tuple[float, float]:
    """Seconds for one log_metrics call of n Metrics plus the drain, and to build the Metrics."""
    from opsml import Metric, get_experiment_metrics, start_experiment

    start = time.perf_counter()
    metrics = [Metric("loss", 0.5, step=i) for i in range(n)]
    build = time.perf_counter() - start
    with _fresh_store():
        start = time.perf_counter()
        with start_experiment(space="bench", name="log-metrics") as exp:
            exp.log_metrics(metrics)
        elapsed = time.perf_counter() - start
        stored = len(get_experiment_metrics(exp.card.uid))
    assert stored == n, f"stored {stored} of {n} points"
    return elapsed, build


def bench_start_exit(runs: int) -> float:
    """Median seconds of start_experiment + exit on a store already in use."""
    from opsml import CardRegistry, start_experiment

    with _fresh_store():
        with start_experiment(space="bench", name="warm-up"):
            pass
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            with start_experiment(space="bench", name="start-exit"):
                pass
            samples.append(time.perf_counter() - start)
        listed = len(CardRegistry("experiment").list_cards(name="start-exit", limit=runs + 1))
    assert listed == runs, f"{listed} of {runs} experiments stored"
    return statistics.median(samples)


def bench_read(n: int) -> float:
    """Seconds for get_experiment_metrics of n points."""
    from opsml import get_experiment_metrics, start_experiment

    with _fresh_store():
        with start_experiment(space="bench", name="read") as exp:
            for i in range(n):
                exp.log_metric("loss", float(i), step=i)
        start = time.perf_counter()
        metrics = get_experiment_metrics(exp.card.uid)
        elapsed = time.perf_counter() - start
    assert len(metrics) == n, f"read {len(metrics)} of {n} points"
    assert metrics[-1].value == float(n - 1)
    return elapsed


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return result.stdout


def bench_import(runs: int) -> tuple[float, float]:
    """Median seconds of a fresh interpreter importing opsml, and of one importing nothing."""

    def timed(code: str) -> float:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            _run_python(code)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    return timed("import opsml"), timed("pass")


def bench_memory(n: int) -> float:
    """Peak resident memory above the idle process during n log_metric calls, in MB."""
    code = textwrap.dedent(
        f"""
        import os, tempfile
        tmp = tempfile.mkdtemp()
        os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{{tmp}}/opsml.db"
        from opsml import start_experiment

        def status(field):
            for line in open("/proc/self/status"):
                if line.startswith(field):
                    return int(line.split()[1])

        with start_experiment(space="bench", name="warm-up"):
            pass
        idle = status("VmRSS:")
        with start_experiment(space="bench", name="memory") as exp:
            for i in range({n}):
                exp.log_metric("loss", 0.5, step=i)
        print((status("VmHWM:") - idle) / 1024)
        """
    )
    return float(_run_python(code))


def repeat(times: int, fn: Callable[[], float | tuple[float, float]]) -> list[tuple[float, ...]]:
    out = []
    for _ in range(times):
        value = fn()
        out.append(value if isinstance(value, tuple) else (value,))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    n = 20_000 if args.quick else 1_000_000
    reps = 1 if args.quick else 3
    results: dict[str, object] = {"points": n, "repetitions": reps}
    rows: list[tuple[str, str, str]] = []

    runs = repeat(reps, lambda: bench_log_metric(n))
    per_call = _median([r[0] / n * 1e6 for r in runs])
    ratio = _median([r[0] / r[1] for r in runs])
    results["log_metric_us_per_call"] = per_call
    results["log_metric_ratio_to_empty_method"] = ratio
    rows.append(
        (
            f"{n:,} log_metric calls incl. drain",
            f"{per_call['median']:.3f} us/call ({per_call['min']:.3f}-{per_call['max']:.3f}); "
            f"{ratio['median']:.1f}x an empty method",
            "<= 1 us/call and <= 10x",
        )
    )

    runs = repeat(reps, lambda: bench_log_metrics_batch(n))
    rate = _median([n / r[0] for r in runs])
    build_rate = _median([n / r[1] for r in runs])
    results["log_metrics_points_per_second"] = rate
    results["metric_objects_built_per_second"] = build_rate
    rows.append(
        (
            f"log_metrics of {n:,} Metrics incl. drain",
            f"{rate['median'] / 1e6:.2f} M points/s "
            f"({rate['min'] / 1e6:.2f}-{rate['max'] / 1e6:.2f}); "
            f"building the Metric list: {build_rate['median'] / 1e6:.2f} M/s",
            ">= 2 M points/s",
        )
    )

    start_runs = 10 if args.quick else 200
    runs = repeat(reps, lambda: bench_start_exit(start_runs))
    start_ms = _median([r[0] * 1e3 for r in runs])
    results["start_exit_ms"] = start_ms
    rows.append(
        (
            "start_experiment + exit, warm store",
            f"{start_ms['median']:.2f} ms ({start_ms['min']:.2f}-{start_ms['max']:.2f})",
            "<= 5 ms",
        )
    )

    runs = repeat(reps, lambda: bench_import(3 if args.quick else 15))
    import_ms = _median([(r[0] - r[1]) * 1e3 for r in runs])
    results["import_ms_above_bare_interpreter"] = import_ms
    rows.append(
        (
            "import opsml (above a bare interpreter)",
            f"{import_ms['median']:.1f} ms ({import_ms['min']:.1f}-{import_ms['max']:.1f})",
            "<= 20 ms",
        )
    )

    runs = repeat(reps, lambda: bench_read(n))
    read_s = _median([r[0] for r in runs])
    results["get_experiment_metrics_seconds"] = read_s
    rows.append(
        (
            f"get_experiment_metrics of {n:,} points",
            f"{read_s['median'] * 1e3:.0f} ms "
            f"({read_s['min'] * 1e3:.0f}-{read_s['max'] * 1e3:.0f})",
            "<= 1 s",
        )
    )

    runs = repeat(reps, lambda: bench_memory(n))
    memory = _median([r[0] for r in runs])
    results["peak_memory_mb_above_idle"] = memory
    rows.append(
        (
            f"peak memory above idle, {n:,} log_metric calls",
            f"{memory['median']:.1f} MB ({memory['min']:.1f}-{memory['max']:.1f})",
            "<= 100 MB",
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"opsml logging benchmarks: {n:,} points, median of {reps} (min-max)")
    for name, value, target in rows:
        print(f"  {name:<{width}}  {value}   [target {target}]")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
