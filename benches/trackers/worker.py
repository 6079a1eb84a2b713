"""Runs one workload of one tracker and prints its result as one JSON line.

    python -I benches/trackers/worker.py --tracker mlflow --workload log_metric \
        --store /tmp/fresh-dir --n 10000

It is started by `benches/compare.py` with the tracker's own interpreter, in a
fresh store directory that is also its working directory; the tracker is
pointed at that directory before it is imported. The result line starts with
`BENCH-RESULT ` so that whatever the tracker prints cannot be mistaken for it.
A workload the tracker cannot do, or one that fails, is a result too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from pathlib import Path

MARKER = "BENCH-RESULT "
WORKLOADS = (
    "import",
    "start_end_fresh",
    "start_end_warm",
    "log_metric",
    "log_metrics_batch",
    "log_param",
    "log_params_batch",
    "large_artifact",
    "small_files",
    "read_points",
    "hardware",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracker", required=True)
    parser.add_argument("--workload", required=True, choices=WORKLOADS)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--n-params", type=int, default=1_000)
    parser.add_argument("--warm-runs", type=int, default=20)
    parser.add_argument("--large", type=Path)
    parser.add_argument("--small", type=Path)
    parser.add_argument("--hw-seconds", type=float, default=10.0)
    parser.add_argument("--hw-interval", type=float, default=1.0)
    parser.add_argument("--import-samples", type=int, default=5)
    args = parser.parse_args()

    # Appended, not prepended: the tracker's own packages must win any name clash.
    sys.path.append(str(Path(__file__).resolve().parent))
    from bench_common import Config, Unsupported

    adapter = importlib.import_module(f"{args.tracker}_adapter")
    for name, value in adapter.store_env(args.store).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    cfg = Config(
        store=args.store,
        n=args.n,
        n_params=args.n_params,
        warm_runs=args.warm_runs,
        large=args.large,
        small=args.small,
        hw_seconds=args.hw_seconds,
        hw_interval=args.hw_interval,
        import_samples=args.import_samples,
    )
    result: dict[str, object] = {"tracker": args.tracker, "workload": args.workload}
    try:
        if args.workload == "import":
            from bench_common import bench_import

            outcome = bench_import(adapter.IMPORT, cfg)
        else:
            outcome = getattr(adapter, args.workload)(cfg)
    except Unsupported as exc:
        result.update(status="unsupported", reason=str(exc))
    except BaseException as exc:
        tb = traceback.format_exc()
        result.update(
            status="failed", error=f"{type(exc).__name__}: {exc}".strip(), traceback=tb[-3000:]
        )
    else:
        complete = (
            outcome.verified > 0
            if outcome.expected is None
            else outcome.verified == outcome.expected
        )
        result.update(
            status="ok" if complete else "failed",
            values=outcome.values,
            expected=outcome.expected,
            verified=outcome.verified,
            verify=outcome.verify,
            notes=outcome.notes,
        )
        if not complete:
            result["error"] = (
                f"read back {outcome.verified} of {outcome.expected} items ({outcome.verify})"
                if outcome.expected is not None
                else f"no sample stored ({outcome.verify})"
            )
    print("\n" + MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
