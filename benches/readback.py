"""Benchmarks of read-back at scale: columnar export, search and compare.

    python benches/readback.py            # 10,000,000 points, 10,000 experiments
    python benches/readback.py --quick    # 1,000,000 points, 1,000 experiments

Each figure is the median of several repetitions (min-max); the Arrow export is
compared with building Python Metric objects for the same points in the same run.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from opsml import (
    CardRegistry,
    Metric,
    compare_experiments,
    get_experiment_metrics,
    search_experiments,
    start_experiment,
    write_report,
)


def _timed(action: Callable[[], object], reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _summary(samples: list[float], scale: float = 1.0, unit: str = "s") -> str:
    median = statistics.median(samples) * scale
    return f"{median:.3f} {unit} ({min(samples) * scale:.3f}-{max(samples) * scale:.3f})"


def bench_export(points: int, reps: int) -> None:
    with start_experiment(name="export", log_hardware=False) as exp:
        batch = 1_000_000
        for first in range(0, points, batch):
            exp.log_metrics(
                [Metric("loss", float(i % 1000), step=i) for i in range(first, first + batch)]
            )
    metrics = get_experiment_metrics(exp.uid)
    assert len(metrics) == points
    arrow = _timed(lambda: get_experiment_metrics(exp.uid).to_arrow(), reps)
    table = get_experiment_metrics(exp.uid).to_arrow()
    assert table.num_rows == points
    objects = _timed(lambda: list(get_experiment_metrics(exp.uid)), max(1, reps // 2))
    ratio = statistics.median(objects) / statistics.median(arrow)
    print(
        f"  {points:,} points to a pyarrow Table (read included): {_summary(arrow)}"
        f"   [target <= 1 s]"
    )
    print(
        f"  the same as Python Metric objects: {_summary(objects)}; "
        f"Arrow is {ratio:.1f}x faster   [target >= 20x]"
    )


def bench_search_and_compare(experiments: int, reps: int) -> None:
    uids = []
    for i in range(experiments):
        with start_experiment(
            space=f"space{i % 10}", name=f"run{i % 100}", log_hardware=False
        ) as exp:
            exp.log_parameters({"lr": 10 ** -(i % 5), "optimizer": ["adam", "sgd"][i % 2]})
            exp.log_metric("loss", 1.0 / (i + 1), step=0)
            exp.log_metric("accuracy", (i % 100) / 100, step=0)
        uids.append(exp.uid)
    registry = CardRegistry("experiment")
    listing = _timed(lambda: registry.list_cards(limit=experiments), reps)
    assert len(registry.list_cards(limit=experiments)) == experiments
    filter_text = "params.optimizer = 'adam' and metrics.accuracy.last > 0.5"
    searching = _timed(lambda: search_experiments(filter_text, limit=experiments), reps)
    found = search_experiments(filter_text, limit=experiments)
    expected = sum(1 for i in range(experiments) if i % 2 == 0 and (i % 100) / 100 > 0.5)
    assert len(found) == expected, (len(found), expected)
    ordered = _timed(
        lambda: search_experiments(order_by="metrics.loss.last asc", limit=experiments), reps
    )
    comparing = _timed(lambda: compare_experiments(uids[:100]), reps)
    print(f"  list_cards of {experiments:,} experiments: {_summary(listing, 1e3, 'ms')}")
    print(
        f"  search_experiments over {experiments:,} ({len(found):,} match): "
        f"{_summary(searching, 1e3, 'ms')}   [target <= 100 ms]"
    )
    print(
        f"  search_experiments ordered by metrics.loss.last, all {experiments:,}: "
        f"{_summary(ordered, 1e3, 'ms')}   [target <= 100 ms]"
    )
    print(
        f"  compare_experiments of 100 experiments: {_summary(comparing, 1e3, 'ms')}"
        "   [target <= 200 ms]"
    )


def bench_report(metrics: int, points: int, reps: int, work: str) -> None:
    with start_experiment(name="report", log_hardware=False) as exp:
        for m in range(metrics):
            exp.log_metrics(
                [Metric(f"metric{m:02d}", math.sin(i / 1000) + m, step=i) for i in range(points)]
            )
    path = os.path.join(work, "report.html")
    timing = _timed(lambda: write_report([exp.uid], path), reps)
    size = os.path.getsize(path)
    print(
        f"  write_report, {metrics} metrics x {points:,} points: {_summary(timing)}, "
        f"{size / 1e6:.1f} MB of HTML   [target <= 2 s]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    points = 1_000_000 if args.quick else 10_000_000
    experiments = 1_000 if args.quick else 10_000
    reps = 3 if args.quick else 5
    print(f"opsml read-back benchmarks: median of {reps} (min-max)")
    with tempfile.TemporaryDirectory(prefix="opsml-bench-") as tmp:
        os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{tmp}/opsml.db"
        os.environ["OPSML_STORAGE_URI"] = f"{tmp}/storage"
        bench_export(points, reps)
    with tempfile.TemporaryDirectory(prefix="opsml-bench-") as tmp:
        os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{tmp}/opsml.db"
        os.environ["OPSML_STORAGE_URI"] = f"{tmp}/storage"
        bench_search_and_compare(experiments, reps)
    with tempfile.TemporaryDirectory(prefix="opsml-bench-") as tmp:
        os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{tmp}/opsml.db"
        os.environ["OPSML_STORAGE_URI"] = f"{tmp}/storage"
        bench_report(20, 10_000 if args.quick else 100_000, reps, tmp)


if __name__ == "__main__":
    main()
