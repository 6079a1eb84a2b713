"""Runs the same workloads through opsml and its peers and compares them.

    python benches/compare.py                  # full run: every tracker, 3 repetitions
    python benches/compare.py --quick --out /tmp/bench   # opsml only, small sizes, < 1 min

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

import sys
from pathlib import Path

# `python benches/compare.py` puts benches/ first on sys.path, where logging.py
# would shadow the standard library's logging module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

REPO = _HERE.parent
VENVS = _HERE / ".venvs"
REQUIREMENTS = _HERE / "requirements"
WORKER = _HERE / "trackers" / "worker.py"
CHART = _HERE / "chart.py"
MARKER = "BENCH-RESULT "

TRACKERS = ("opsml", "opsml3", "mlflow", "wandb", "trackio")
# Distribution whose version names the tracker, and how the column is titled.
DISTRIBUTION = {
    "opsml": "opsml",
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
        raise RuntimeError(
            f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}"
        )
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
    wheels = sorted(out.glob("opsml-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {wheels}")
    return wheels[0]


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
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    shutil.rmtree(store, ignore_errors=True)
    return record


def _progress(record: dict[str, Any], reps: int) -> str:
    head = (
        f"[{record['repetition'] + 1}/{reps}] {record['workload']:<18} {record['tracker']:<8}"
    )
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
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


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


def render(
    plan: Plan, meta: dict[str, Any], titles: dict[str, str], command: str
) -> tuple[str, dict[str, Any]]:
    """The Markdown table and the summary (with ratios) behind the chart."""
    s = plan.sizes
    machine = meta["machine"]
    lines = [
        f"# opsml compared with other experiment trackers, {meta['date']}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB RAM; {machine['os']}; Python {machine['python']}",
        "- Packages (pinned in benches/requirements/, one virtual environment each): "
        + "; ".join(
            titles[t]
            + (f" with {', '.join(meta['environments'][t]['extra'])}" if meta["environments"][t]["extra"] else "")
            for t in plan.trackers
        ),
        f"- opsml (this project): {meta['opsml_source']}; checkout at commit {meta['checkout']}",
        f"- Command: `{command}`",
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
        "",
    ]
    header = ["workload", *(titles[t] for t in plan.trackers)]
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
        cells = {t: summarize(plan.records, t, row) for t in plan.trackers}
        base = cells.get("opsml")
        texts = [f"{row.label} ({row.unit})"]
        ratios: dict[str, float | None] = {}
        for t in plan.trackers:
            c = cells[t]
            if c.status == "ok":
                assert c.median is not None and c.low is not None and c.high is not None
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
        lines += ["", "Not measured, and why:", ""]
        lines += [f"{i}. {text}" for i, text in enumerate(notes, 1)]
    how: dict[str, dict[str, set[str]]] = {}
    for r in plan.records:
        if r["status"] == "ok":
            entry = how.setdefault(titles[r["tracker"]], {})
            entry.setdefault(r["workload"], set()).update([r["verify"], *r.get("notes", [])])
    lines += ["", "How each tracker was driven and read back:", ""]
    for title, workloads in how.items():
        lines.append(f"- {title}:")
        for workload in plan.workloads:
            if workload in workloads:
                lines.append(f"  - {workload}: {'; '.join(sorted(workloads[workload]))}")
    summary = {
        "date": meta["date"],
        "trackers": plan.trackers,
        "titles": titles,
        "machine": machine,
        "repetitions": s.repetitions,
        "rows": summary_rows,
    }
    return "\n".join(lines) + "\n", summary


def draw_chart(summary_path: Path, png: Path) -> None:
    python = requirements_env("_report")
    _run([str(python), "-I", str(CHART), str(summary_path), str(png)])


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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick

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
                pythons[tracker] = Path(args.opsml_python or sys.executable)
                opsml_source = f"the build installed for {pythons[tracker]}"
            else:
                wheel = args.opsml_wheel or build_wheel()
                pythons[tracker] = opsml_env(wheel)
                opsml_source = f"wheel {wheel.name}" + (
                    "" if args.opsml_wheel else " built with maturin --release"
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
    titles = {t: TITLE[t].format(version=environments[t]["version"]) for t in trackers}
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

    table, summary = render(plan, meta, titles, meta["command"])
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
