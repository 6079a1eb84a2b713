"""Runs the same workloads through opsml and its peers and compares them.

    python benches/compare.py                  # full run: every tracker, 3 repetitions
    python benches/compare.py --quick --out /tmp/bench   # opsml only, small sizes, < 1 min
    python benches/compare.py --from-jsonl benches/results/<date>/runs.jsonl  # redraw only

Each tracker gets its own virtual environment under `benches/.venvs/<tracker>`
with the versions pinned in `benches/requirements/<tracker>.txt` (this
project's opsml: a wheel built from this checkout with maturin, or the one
given with `--opsml-wheel`). Every workload run is a fresh process of that
environment (`benches/trackers/worker.py`, with the tracker's adapter from
`benches/trackers/`) in a fresh, empty store directory; runs are sequential,
one at a time. Each run reads back what it logged through the tracker and
counts what was stored: a run that lost data is a failure, not a number.

Output in `--out` (default `benches/results/<today>`): `table.md` (workloads as
rows, trackers as columns, medians with min-max and ratios to opsml),
`runs.jsonl` (a header record with machine facts and package versions, then
every run), `summary.json` and `ratios.png` (a bar chart of the ratios, drawn
with matplotlib from `benches/.venvs/_report`).

`--quick` uses the running interpreter's opsml (no environment is created,
nothing is built or downloaded), small sizes and one repetition; the test
suite runs it as a smoke test of this harness.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
VENVS = _HERE / ".venvs"
REQUIREMENTS = _HERE / "requirements"
WORKER = _HERE / "trackers" / "worker.py"
CHART = _HERE / "chart.py"
MARKER = "BENCH-RESULT "

TRACKERS = ("opsml", "opsml3", "mlflow", "wandb", "trackio")
# Distribution whose version names the tracker, and how the column is titled.
DISTRIBUTION = {
    "opsml": "opsml-tracker",
    "opsml3": "opsml",
    "mlflow": "mlflow",
    "wandb": "wandb",
    "trackio": "trackio",
}
TITLE = {
    "opsml": "opsml {version} (this project)",
    "opsml3": "opsml {version}",
    "mlflow": "MLflow {version} (SQLite)",
    "wandb": "W&B {version} (offline)",
    "trackio": "trackio {version}",
}
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
DASH = "\u2013"
TIMES = "\u00d7"


@dataclass
class Row:
    """One row of the table: a value of a workload, its label, unit and scale."""

    workload: str
    key: str
    label: str
    unit: str
    scale: float = 1.0
    ratio: bool = True


@dataclass
class Sizes:
    n: int
    n_params: int
    warm_runs: int
    large_mb: int
    small_files: int
    hw_seconds: float
    hw_interval: float
    import_samples: int
    repetitions: int
    timeout: float


def rows(s: Sizes) -> list[Row]:
    return [
        Row("import", "seconds", "`import` in a fresh interpreter", "ms", 1e3),
        Row("start_end_fresh", "seconds", "start + end of a run, fresh store", "ms", 1e3),
        Row(
            "start_end_warm",
            "seconds",
            f"start + end of a run, warm store (median of {s.warm_runs})",
            "ms",
            1e3,
        ),
        Row("log_metric", "seconds", f"{s.n:,} single `log_metric` calls, incl. end", "s"),
        Row("log_metrics_batch", "seconds", f"the same {s.n:,} points in one batch call", "s"),
        Row("log_param", "seconds", f"{s.n_params:,} parameters one by one, incl. end", "s"),
        Row("log_params_batch", "seconds", f"{s.n_params:,} parameters in one call", "s"),
        Row("large_artifact", "seconds", f"one {s.large_mb} MB artifact, incl. end", "s"),
        Row("small_files", "seconds", f"a directory of {s.small_files:,} {TIMES} 4 KB files", "s"),
        Row("read_points", "seconds", f"read back all {s.n:,} points of a run", "ms", 1e3),
        Row(
            "hardware",
            "samples",
            f"hardware samples stored, {s.hw_seconds:g} s idle run, {s.hw_interval:g} s interval",
            "samples",
            ratio=False,
        ),
        Row(
            "hardware",
            "cpu_overhead_pct",
            "CPU of hardware monitoring over that idle run",
            "% of a core",
            ratio=False,
        ),
    ]


# --------------------------------------------------------------------------- environments


def _run(cmd: list[str], log: Path | None = None, **kwargs: Any) -> str:
    """Runs a command outside benches/ (so nothing there shadows a module); fails loudly."""
    kwargs.setdefault("cwd", tempfile.gettempdir())
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if log is not None:
        log.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(name: str, installs: list[str], stamp: str) -> Path:
    """The interpreter of benches/.venvs/<name>, (re)created when `stamp` changed."""
    venv = VENVS / name
    stamp_file = venv / "bench-stamp.txt"
    python = _venv_python(venv)
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return python
    print(f"creating {venv.relative_to(REPO)} ({' '.join(installs)})", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    VENVS.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-I", "-m", "venv", str(venv)])
    _run(
        [str(python), "-I", "-m", "pip", "install", "--disable-pip-version-check", *installs],
        log=venv / "bench-install.log",
    )
    stamp_file.write_text(stamp)
    return python


def requirements_env(name: str) -> Path:
    req = REQUIREMENTS / f"{name}.txt"
    stamp = f"{platform.python_version()}\n{req.read_text()}"
    return ensure_venv(name, ["-r", str(req)], stamp)


def build_wheel() -> Path:
    """Builds this checkout's wheel with maturin (release) into benches/.venvs/_wheels."""
    maturin = Path(sys.executable).parent / "maturin"
    command = str(maturin) if maturin.exists() else shutil.which("maturin")
    if command is None:
        raise RuntimeError("maturin not found: install it or pass --opsml-wheel")
    out = VENVS / "_wheels" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    print(f"building the opsml wheel with maturin into {out.relative_to(REPO)}", flush=True)
    _run([command, "build", "--release", "--quiet", "-o", str(out)], cwd=REPO)
    wheels = sorted(out.glob("opsml_tracker-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {wheels}")
    built = datetime.datetime.now().isoformat(timespec="minutes")
    _wheel_source(wheels[0]).write_text(
        f"built with maturin --release from commit {checkout()} at {built}\n"
    )
    return wheels[0]


def _wheel_source(wheel: Path) -> Path:
    """Beside each wheel the harness builds: the commit it was built from."""
    return wheel.with_name(wheel.name + ".source.txt")


def opsml_env(wheel: Path) -> Path:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return ensure_venv("opsml", [str(wheel)], f"{platform.python_version()}\n{digest}\n")


_PROBE = """
import importlib.metadata as m, json, platform, sys
print(json.dumps({
    "python": platform.python_version(),
    "executable": sys.executable,
    "packages": sorted(f"{d.metadata['Name']}=={d.version}" for d in m.distributions()),
    "version": m.version(sys.argv[1]),
}))
"""


def probe(python: Path, distribution: str) -> dict[str, Any]:
    """Python and package versions of an environment."""
    return dict(json.loads(_run([str(python), "-I", "-c", _PROBE, distribution])))


def machine_facts() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def checkout() -> str:
    try:
        commit = _run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO).strip()
        dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO).strip()
    except (OSError, RuntimeError):
        return "unknown"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


# --------------------------------------------------------------------------- fixtures


def make_fixtures(work: Path, sizes: Sizes) -> tuple[Path, Path]:
    """A large incompressible file and a directory of small files, shared by every run."""
    fixtures = work / "fixtures"
    fixtures.mkdir()
    large = fixtures / "large.bin"
    block = os.urandom(1 << 20)
    with large.open("wb") as out:
        for i in range(sizes.large_mb):
            # Vary each block so nothing repeats and nothing compresses.
            out.write(hashlib.sha256(i.to_bytes(8, "little")).digest() + block[32:])
    small = fixtures / "small"
    small.mkdir()
    for i in range(sizes.small_files):
        (small / f"file_{i:04d}.bin").write_bytes(os.urandom(4096))
    return large, small


# --------------------------------------------------------------------------- runs


@dataclass
class Plan:
    trackers: list[str]
    workloads: list[str]
    pythons: dict[str, Path]
    sizes: Sizes
    large: Path
    small: Path
    work: Path
    jsonl: Any
    records: list[dict[str, Any]] = field(default_factory=list)


def _clean_env(store: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    env["HOME"] = str(store / "home")
    env["TMPDIR"] = str(store / "tmp")
    return env


def run_one(plan: Plan, tracker: str, workload: str, repetition: int) -> dict[str, Any]:
    """One workload of one tracker in a fresh process and a fresh store directory."""
    s = plan.sizes
    store = Path(tempfile.mkdtemp(prefix=f"{tracker}-{workload}-", dir=plan.work))
    (store / "home").mkdir()
    (store / "tmp").mkdir()
    cmd = [
        str(plan.pythons[tracker]),
        "-I",
        str(WORKER),
        f"--tracker={tracker}",
        f"--workload={workload}",
        f"--store={store}",
        f"--n={s.n}",
        f"--n-params={s.n_params}",
        f"--warm-runs={s.warm_runs}",
        f"--large={plan.large}",
        f"--small={plan.small}",
        f"--hw-seconds={s.hw_seconds}",
        f"--hw-interval={s.hw_interval}",
        f"--import-samples={s.import_samples}",
    ]
    record: dict[str, Any] = {
        "kind": "run",
        "tracker": tracker,
        "workload": workload,
        "repetition": repetition,
    }
    out_path, err_path = plan.work / "stdout.txt", plan.work / "stderr.txt"
    start = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            cmd, cwd=store, env=_clean_env(store), stdout=out, stderr=err, start_new_session=True
        )
        try:
            proc.wait(timeout=s.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            record.update(status="timeout", error=f"no result within {s.timeout:g} s")
    record["wall_s"] = round(time.perf_counter() - start, 3)
    if "status" not in record:
        result = None
        for line in out_path.read_text(errors="replace").splitlines():
            if line.startswith(MARKER):
                result = json.loads(line[len(MARKER) :])
        if result is None:
            tail = err_path.read_text(errors="replace")[-2000:]
            record.update(
                status="failed",
                error=f"the worker exited with {proc.returncode} and no result: {tail}",
            )
        else:
            record.update({k: v for k, v in result.items() if k not in record})
            if proc.returncode != 0:
                record.setdefault("notes", []).append(
                    f"the worker exited with {proc.returncode} after its result"
                )
    # Children the worker left behind (tracker services) go with its session.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    shutil.rmtree(store, ignore_errors=True)
    return record


def _progress(record: dict[str, Any], reps: int) -> str:
    head = f"[{record['repetition'] + 1}/{reps}] {record['workload']:<18} {record['tracker']:<8}"
    status = record["status"]
    if status == "ok":
        values = ", ".join(f"{k}={v:.4g}" for k, v in record["values"].items())
        expected = record["expected"] if record["expected"] is not None else "any"
        return f"{head} ok   {values} (verified {record['verified']}/{expected})"
    detail = record.get("reason") or record.get("error") or ""
    return f"{head} {status}: {detail.splitlines()[0][:160] if detail else ''}"


def run_all(plan: Plan) -> None:
    reps = plan.sizes.repetitions
    unsupported: set[tuple[str, str]] = set()
    for repetition in range(reps):
        for workload in plan.workloads:
            for tracker in plan.trackers:
                if (tracker, workload) in unsupported:
                    continue
                record = run_one(plan, tracker, workload, repetition)
                if record["status"] == "unsupported":
                    unsupported.add((tracker, workload))
                plan.records.append(record)
                plan.jsonl.write(json.dumps(record) + "\n")
                plan.jsonl.flush()
                print(_progress(record, reps), flush=True)


# --------------------------------------------------------------------------- report


def _num(x: float) -> str:
    if x == int(x) and abs(x) < 1e6:
        return f"{int(x):,}"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _ratio(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


@dataclass
class Cell:
    status: str  # ok, failed, timeout, unsupported, missing
    median: float | None = None
    low: float | None = None
    high: float | None = None
    detail: str = ""
    runs: int = 0


def summarize(records: list[dict[str, Any]], tracker: str, row: Row) -> Cell:
    runs = [r for r in records if r["tracker"] == tracker and r["workload"] == row.workload]
    if not runs:
        return Cell("missing")
    for status in ("unsupported", "timeout", "failed"):
        bad = [r for r in runs if r["status"] == status]
        if bad:
            detail = bad[0].get("reason") or bad[0].get("error") or status
            return Cell(status, detail=" ".join(detail.split()), runs=len(runs))
    values = [r["values"][row.key] * row.scale for r in runs]
    return Cell("ok", statistics.median(values), min(values), max(values), runs=len(runs))


def titles_of(meta: dict[str, Any]) -> dict[str, str]:
    return {
        t: TITLE[t].format(version=meta["environments"][t]["version"]) for t in meta["trackers"]
    }


def render(meta: dict[str, Any], records: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The Markdown table and the summary (with ratios) behind the chart."""
    s = Sizes(**meta["sizes"])
    trackers, workloads = meta["trackers"], meta["workloads"]
    titles = titles_of(meta)
    machine = meta["machine"]
    runs = [r for r in records if r.get("kind") == "run"]
    end = next((r for r in records if r.get("kind") == "end"), None)
    lines = [
        f"# opsml compared with other experiment trackers, {meta['date']}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB RAM; {machine['os']}; Python {machine['python']}",
        "- Packages (pinned in benches/requirements/, one virtual environment each): "
        + "; ".join(
            titles[t]
            + (
                f" with {', '.join(meta['environments'][t]['extra'])}"
                if meta["environments"][t]["extra"]
                else ""
            )
            for t in trackers
        ),
        f"- opsml (this project): {meta['opsml_source']}",
        f"- Harness: benches/compare.py, checkout at commit {meta['checkout']}",
        f"- Command: `{meta['command']}`",
        (
            f"- Median of {s.repetitions} repetitions (min{DASH}max)"
            if s.repetitions > 1
            else "- One repetition"
        )
        + "; each run is a fresh process in a fresh store directory, one at a "
        "time. Logging workloads are timed from just after the run starts to just after it "
        "ends, so storing what was queued is included. Every run reads back what it logged "
        "and counts it; a run that lost anything is reported as failed. "
        f"{TIMES}N: the peer's time divided by opsml's (above 1: opsml is faster).",
        "- Hardware monitoring is switched off in every workload but the hardware one; "
        "its CPU is the CPU time of the whole process tree over an idle run with monitoring "
        "minus the same idle run without it (resolution: one clock tick, 10 ms).",
    ]
    if "load_average" in meta:
        load = "/".join(f"{x:.2f}" for x in meta["load_average"])
        if end is not None:
            load += " at the start, " + "/".join(f"{x:.2f}" for x in end["load_average"])
            load += " at the end"
        lines.append(f"- Load average (1/5/15 min): {load}")
    if meta.get("remark"):
        lines.append(f"- Remark: {meta['remark']}")
    lines.append("")
    header = ["workload", *(titles[t] for t in trackers)]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    notes: list[str] = []
    note_index: dict[str, int] = {}

    def note(text: str) -> str:
        if text not in note_index:
            notes.append(text)
            note_index[text] = len(notes)
        return f"[{note_index[text]}]"

    summary_rows = []
    for row in rows(s):
        cells = {t: summarize(runs, t, row) for t in trackers}
        base = cells.get("opsml")
        texts = [f"{row.label} ({row.unit})"]
        ratios: dict[str, float | None] = {}
        for t in trackers:
            c = cells[t]
            if c.status == "ok":
                assert c.median is not None
                assert c.low is not None
                assert c.high is not None
                text = _num(c.median)
                if s.repetitions > 1:
                    text += f" ({_num(c.low)}{DASH}{_num(c.high)})"
                ratio = None
                if (
                    row.ratio
                    and t != "opsml"
                    and base is not None
                    and base.status == "ok"
                    and base.median
                ):
                    ratio = c.median / base.median
                    text += f" **{TIMES}{_ratio(ratio)}**"
                ratios[t] = ratio
            elif c.status == "unsupported":
                text = f"n/a {note(f'{titles[t]}, {row.workload}: {c.detail}')}"
            elif c.status == "missing":
                text = "not run"
            else:
                text = f"{c.status} {note(f'{titles[t]}, {row.workload}: {c.detail[:400]}')}"
            texts.append(text)
        lines.append("| " + " | ".join(texts) + " |")
        summary_rows.append(
            {
                "workload": row.workload,
                "key": row.key,
                "label": row.label,
                "unit": row.unit,
                "ratio": row.ratio,
                "cells": {t: vars(c) for t, c in cells.items()},
                "ratios": ratios,
            }
        )
    if notes:
        lines += ["", "Failed or not measured, and why:", ""]
        lines += [f"{i}. {text}" for i, text in enumerate(notes, 1)]
    lines += ["", "How each tracker was driven and read back:", ""]
    for t in trackers:
        # Notes shared by several workloads are said once, for the tracker.
        verify: dict[str, str] = {}
        notes_of: dict[str, list[str]] = {}
        for r in runs:
            if r["tracker"] == t and r["status"] == "ok" and r["workload"] not in verify:
                verify[r["workload"]] = r["verify"]
                notes_of[r["workload"]] = list(r.get("notes", []))
        if not verify:
            continue
        counts: dict[str, int] = {}
        for notes_list in notes_of.values():
            for n in notes_list:
                counts[n] = counts.get(n, 0) + 1
        shared = [n for n, k in counts.items() if k > 1]
        lines.append(f"- {titles[t]}" + (f" ({'; '.join(shared)})" if shared else "") + ":")
        for w in workloads:
            if w in verify:
                own = [n for n in notes_of[w] if n not in shared]
                lines.append(f"  - {w}: " + "; ".join([verify[w], *own]))
    summary = {
        "date": meta["date"],
        "trackers": trackers,
        "titles": titles,
        "machine": machine,
        "repetitions": s.repetitions,
        "rows": summary_rows,
    }
    return "\n".join(lines) + "\n", summary


def draw_chart(summary_path: Path, png: Path) -> None:
    python = requirements_env("_report")
    _run([str(python), "-I", str(CHART), str(summary_path.absolute()), str(png.absolute())])


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="opsml only, small sizes, one rep")
    parser.add_argument("--trackers", help=f"comma-separated subset of {','.join(TRACKERS)}")
    parser.add_argument("--workloads", help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--repetitions", type=int, help="runs of each workload (3; quick 1)")
    parser.add_argument("--n", type=int, help="metric points (10,000; quick 1,000)")
    parser.add_argument("--n-params", type=int, help="parameters (1,000; quick 100)")
    parser.add_argument("--large-mb", type=int, help="large artifact size in MB (200; quick 8)")
    parser.add_argument("--small-files", type=int, help="4 KB files (1,000; quick 100)")
    parser.add_argument("--hw-seconds", type=float, help="idle run length (10; quick 1)")
    parser.add_argument("--hw-interval", type=float, help="hardware interval (1; quick 0.25)")
    parser.add_argument("--timeout", type=float, help="seconds per run (300; quick 60)")
    parser.add_argument("--out", type=Path, help="output directory (benches/results/<today>)")
    parser.add_argument("--opsml-wheel", type=Path, help="opsml wheel to install (else built)")
    parser.add_argument(
        "--opsml-python", type=Path, help="interpreter that already has opsml (no venv, no build)"
    )
    parser.add_argument("--chart", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--work-dir", type=Path, help="where stores and fixtures go (a temp dir)")
    parser.add_argument(
        "--from-jsonl",
        type=Path,
        help="run nothing: redraw table.md, summary.json and ratios.png from this runs.jsonl",
    )
    parser.add_argument("--remark", help="a line added to the table's header")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    if args.from_jsonl:
        records = [json.loads(line) for line in args.from_jsonl.read_text().splitlines()]
        if args.remark:
            records[0]["remark"] = args.remark
        out = args.out or args.from_jsonl.parent
        out.mkdir(parents=True, exist_ok=True)
        write_report(out, records, args.chart is not False)
        return 0

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else (small if quick else full)

    sizes = Sizes(
        n=pick(args.n, 10_000, 1_000),
        n_params=pick(args.n_params, 1_000, 100),
        warm_runs=20 if not quick else 5,
        large_mb=pick(args.large_mb, 200, 8),
        small_files=pick(args.small_files, 1_000, 100),
        hw_seconds=pick(args.hw_seconds, 10.0, 1.0),
        hw_interval=pick(args.hw_interval, 1.0, 0.25),
        import_samples=5 if not quick else 2,
        repetitions=pick(args.repetitions, 3, 1),
        timeout=pick(args.timeout, 300.0, 60.0),
    )
    trackers = args.trackers.split(",") if args.trackers else (["opsml"] if quick else TRACKERS)
    trackers = list(trackers)
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    for name, given, known in (("tracker", trackers, TRACKERS), ("workload", workloads, WORKLOADS)):
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise SystemExit(f"unknown {name}(s): {', '.join(unknown)}")
    if quick and set(trackers) != {"opsml"}:
        raise SystemExit("--quick runs opsml only (the running interpreter's)")
    today = datetime.date.today().isoformat()
    out = args.out or (
        Path(tempfile.gettempdir()) / "opsml-bench-quick" if quick else _HERE / "results" / today
    )
    out.mkdir(parents=True, exist_ok=True)
    chart = args.chart if args.chart is not None else not quick

    pythons: dict[str, Path] = {}
    opsml_source = ""
    for tracker in trackers:
        if tracker == "opsml":
            if args.opsml_python or quick:
                # absolute() and not resolve(): a venv's python is a symlink to the base one.
                pythons[tracker] = Path(args.opsml_python or sys.executable).absolute()
                opsml_source = (
                    f"the build installed for {pythons[tracker]}, checkout at commit {checkout()}"
                )
            else:
                wheel = (args.opsml_wheel or build_wheel()).absolute()
                pythons[tracker] = opsml_env(wheel)
                source = _wheel_source(wheel)
                opsml_source = f"wheel {wheel.name}" + (
                    f", {source.read_text().strip()}" if source.exists() else ""
                )
        else:
            pythons[tracker] = requirements_env(tracker)

    environments = {}
    for tracker in trackers:
        info = probe(pythons[tracker], DISTRIBUTION[tracker])
        extra = [
            p
            for p in info["packages"]
            if p.split("==")[0].lower() in ("psutil", "mlflow-skinny", "protobuf")
        ]
        environments[tracker] = {**info, "extra": extra}
    command = "python benches/compare.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {
        "kind": "meta",
        "date": today,
        "command": command.strip(),
        "machine": machine_facts(),
        "checkout": checkout(),
        "opsml_source": opsml_source,
        "sizes": vars(sizes),
        "trackers": trackers,
        "workloads": workloads,
        "environments": environments,
        "load_average": os.getloadavg(),
        "remark": args.remark,
    }

    work = Path(tempfile.mkdtemp(prefix="opsml-bench-", dir=args.work_dir))
    try:
        large, small = make_fixtures(work, sizes)
        with (out / "runs.jsonl").open("w") as jsonl:
            jsonl.write(json.dumps(meta) + "\n")
            plan = Plan(trackers, workloads, pythons, sizes, large, small, work, jsonl)
            run_all(plan)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    with (out / "runs.jsonl").open("a") as jsonl:
        end = {"kind": "end", "load_average": os.getloadavg()}
        jsonl.write(json.dumps(end) + "\n")
    write_report(out, [meta, *plan.records, end], chart)
    return 0


def write_report(out: Path, records: list[dict[str, Any]], chart: bool) -> None:
    """table.md, summary.json and (with `chart`) ratios.png in `out` from the run records."""
    meta = records[0]
    table, summary = render(meta, records)
    (out / "table.md").write_text(table)
    summary_path = out / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    print()
    print(table)
    if chart:
        try:
            draw_chart(summary_path, out / "ratios.png")
        except (OSError, RuntimeError) as exc:
            print(f"no chart: {exc}", file=sys.stderr)
    print(f"results in {out}")


if __name__ == "__main__":
    sys.exit(main())
