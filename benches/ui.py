"""Benchmarks of the web UI against the targets of its issue, in headless Chromium on a
real `opsml ui` over a SQLite store logged by the Python API.

- Runs table: 10,000 runs with 10 parameters and 10 metrics each: the API's answer, the
  first complete render, and frame times while scrolling through all of it.
- Charts: one metric of 1,000,000 points on screen; 100 runs of 100,000 points overlaid.
- Live: from a point logged by a running script to the point in an open chart (p95).
- JavaScript shipped, gzipped.

Browser timings are medians of 3, next to a baseline page of the same app that asks the
API for nothing; the API's answer is next to the plain card listing of the same runs.

    python benches/ui.py            # full sizes
    python benches/ui.py --quick    # 1,000 runs, 100,000 points, 10 runs compared

Needs the UI built (`make install`) and Chromium (`scripts/chromium.sh`).
"""

from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "crates" / "opsml-server" / "ui"


def log_runs(runs: int, big_points: int, compared: int, compared_points: int) -> dict[str, object]:
    """Logs the table's runs, one long run and the runs to compare; returns their uids."""
    from opsml import Metric, start_experiment

    # The table holds `runs` runs in all: the sweep, the long run and those to compare.
    for i in range(runs - 1 - compared):
        with start_experiment(space="bench", name=f"sweep-{i % 50}") as exp:
            exp.log_parameters({f"p{k}": (i * 7 + k) % 13 * 0.1 for k in range(10)})
            exp.log_metrics([Metric(f"m{k}", (i + k) % 17 * 0.5, step=0) for k in range(10)])
    with start_experiment(space="bench", name="long") as exp:
        exp.log_metrics([Metric("loss", 1 / (s + 1), step=s) for s in range(big_points)])
        big = exp.uid
    uids = []
    for r in range(compared):
        with start_experiment(space="compare", name=f"run-{r}") as exp:
            exp.log_parameter("lr", 0.001 * (r + 1))
            values = [Metric("loss", (r + 1) / (s + 1), step=s) for s in range(compared_points)]
            exp.log_metrics(values)
            uids.append(exp.uid)
    return {"big": big, "compared": uids}


def start_ui(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    ui = subprocess.Popen(
        [str(Path(sys.executable).parent / "opsml"), "ui", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert ui.stdout is not None
    for line in ui.stdout:
        if line.startswith("open "):
            return ui, line.split(" ", 1)[1].strip()
    raise AssertionError("opsml ui printed no address")


def api_times(url: str, repeats: int = 5) -> dict[str, float]:
    """Median milliseconds of the runs table's answer and of the plain listing."""
    client = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    client.open(url).read()
    base = url.split("/?")[0]

    def median_ms(path: str, headers: dict[str, str] | None = None) -> float:
        samples = []
        for _ in range(repeats):
            request = urllib.request.Request(f"{base}{path}", headers=headers or {})
            start = time.perf_counter()
            client.open(request).read()
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    return {
        "runs_table_api_ms": median_ms("/api/v1/runs"),
        # What the page asks: the statistic shown, compressed as browsers accept it.
        "runs_table_page_request_ms": median_ms(
            "/api/v1/runs?stat=last", {"accept-encoding": "gzip"}
        ),
        "baseline_listing_api_ms": median_ms("/api/v1/experiments?limit=10000"),
    }


def live_latency(env: dict[str, str], url: str, points: int = 15) -> dict[str, float]:
    """Seconds from logging a point to seeing it in an open chart, p50 and p95."""
    script = (
        "import time, opsml\n"
        "with opsml.start_experiment(space='live', name='live') as exp:\n"
        "    exp.log_metric('t', time.time(), step=0)\n"
        "    exp.flush()\n"
        "    print(exp.uid, flush=True)\n"
        f"    for step in range(1, {points + 1}):\n"
        "        time.sleep(1.2)\n"
        "        exp.log_metric('t', time.time(), step=step)\n"
        "    time.sleep(1)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    uid = writer.stdout.readline().strip()
    watch = subprocess.run(
        ["node", str(UI / "bench" / "live.mjs"), url, uid, str(points)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    writer.wait(timeout=60)
    lags = sorted(json.loads(watch.stdout.strip().splitlines()[-1]))
    return {
        "live_p50_s": lags[len(lags) // 2],
        "live_p95_s": lags[min(len(lags) - 1, int(len(lags) * 0.95))],
    }


def shipped_js_gzip_kb() -> float:
    return (
        sum(len(gzip.compress(p.read_bytes())) for p in (UI / "dist" / "assets").glob("*.js"))
        / 1024
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, big, compared, compared_points = (
        (1_000, 100_000, 10, 10_000) if args.quick else (10_000, 1_000_000, 100, 100_000)
    )
    chromium = subprocess.run(
        [str(ROOT / "scripts" / "chromium.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="opsml-ui-bench-") as tmp:
        env = {
            **os.environ,
            "OPSML_TRACKING_URI": f"sqlite:///{tmp}/opsml.db",
            "OPSML_CHROMIUM": chromium,
        }
        os.environ.update(env)
        start = time.perf_counter()
        uids = log_runs(runs, big, compared, compared_points)
        logged_s = time.perf_counter() - start
        print(f"logged in {logged_s:.1f} s", file=sys.stderr, flush=True)
        ui, url = start_ui(env)
        try:
            results: dict[str, object] = {
                "runs": runs,
                "big_run_points": big,
                "logging_s": logged_s,
            }
            results.update(api_times(url))
            browser = subprocess.run(
                [
                    "node",
                    str(UI / "bench" / "browser.mjs"),
                    url,
                    str(uids["big"]),
                    ",".join(uids["compared"]),  # type: ignore[arg-type]
                    str(runs),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            if browser.returncode != 0:
                raise SystemExit(f"the browser half failed:\n{browser.stderr}")
            results.update(json.loads(browser.stdout.strip().splitlines()[-1]))
            print(f"browser: {results}", file=sys.stderr, flush=True)
            results.update(live_latency(env, url))
            results["js_gzip_kb"] = shipped_js_gzip_kb()
        finally:
            ui.terminate()
            ui.wait(timeout=30)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
