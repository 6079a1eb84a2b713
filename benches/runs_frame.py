"""Benchmark of `opsml.runs()`, the runs of a sweep as one data frame, against its target
(10,000 runs with 10 parameters and 10 metrics each in at most 200 ms), next to the plain
card listing of the same runs (`search_experiments`) as the baseline of the same run.

    python benches/runs_frame.py            # 10,000 runs
    python benches/runs_frame.py --quick    # 1,000 runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_MS = 200.0


def log_sweep(runs: int) -> None:
    from opsml import Metric, start_experiment

    for i in range(runs):
        with start_experiment(space="bench", name=f"sweep-{i % 50}") as exp:
            exp.log_parameters({f"p{k}": (i * 7 + k) % 13 * 0.1 for k in range(10)})
            exp.log_metrics([Metric(f"m{k}", (i + k) % 17 * 0.5, step=0) for k in range(10)])


def median_ms(call: Callable[[], object], repeats: int = 5) -> float:
    call()  # a first call opens the store and warms its caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 runs instead of 10,000")
    args = parser.parse_args()
    runs_count = 1_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as home:
        os.environ["OPSML_TRACKING_URI"] = f"sqlite://{Path(home) / 'opsml.db'}"
        os.environ["OPSML_STORAGE_URI"] = str(Path(home) / "storage")
        import opsml

        started = time.perf_counter()
        log_sweep(runs_count)
        print(f"logged {runs_count} runs in {time.perf_counter() - started:.0f} s", flush=True)
        frame = opsml.runs(limit=runs_count)
        assert len(frame) == runs_count, len(frame)
        assert frame.shape[1] == 10 + 10 + 10 * 6, frame.shape
        listing = median_ms(lambda: opsml.search_experiments(limit=runs_count))
        arrow = median_ms(lambda: opsml.runs(limit=runs_count, output="arrow"))
        pandas = median_ms(lambda: opsml.runs(limit=runs_count))
        polars = median_ms(lambda: opsml.runs(limit=runs_count, output="polars"))
    print(f"{runs_count} runs x (10 card fields, 10 parameters, 10 metrics x 6 statistics):")
    print(f"  card listing (search_experiments), baseline: {listing:7.1f} ms")
    for name, ms in [("arrow", arrow), ("polars", polars), ("pandas", pandas)]:
        verdict = "meets" if ms <= TARGET_MS else "misses"
        print(
            f"  runs(output={name!r}): {ms:7.1f} ms  ({ms / listing:.1f}x the listing; "
            f"{verdict} the {TARGET_MS:.0f} ms target)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
