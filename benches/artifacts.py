"""Benchmarks of artifact logging and download against the artifact targets.

    python benches/artifacts.py            # 1 GB file, 200 MB file, 1,000 small files, 3 reps
    python benches/artifacts.py --quick    # 64 MB file, 200 small files, one repetition

The large file is compared with `cp` of the same file to the same disk in the
same run; peak memory is measured in a separate process. A 200 MB file is compared with
`shutil.copy` of it (how MLflow stores an artifact locally), both in one process.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["OPSML_TRACKING_URI"] = f"sqlite:///{root}/opsml.db"
    env["OPSML_STORAGE_URI"] = str(root / "storage")
    return env


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def make_large_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for i in range(size >> 20):
            # Vary each block so nothing repeats and nothing compresses.
            out.write(hashlib.sha256(i.to_bytes(8, "little")).digest() + block[32:])


def bench_large_file(path: Path, work: Path) -> dict[str, float]:
    """Seconds to cp the file and to log it (and the CPU seconds that took), and peak memory
    growth while logging it."""
    copy_target = work / "copy.bin"
    start = time.perf_counter()
    subprocess.run(["cp", str(path), str(copy_target)], check=True)
    cp_seconds = time.perf_counter() - start
    copy_target.unlink()

    store = work / "large"
    store.mkdir()
    out = _python(
        f"""
        import resource, time
        def cpu():
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime
        def status(field):
            for line in open("/proc/self/status"):
                if line.startswith(field):
                    return int(line.split()[1])
        from opsml import start_experiment
        with start_experiment(space="bench", name="warm-up"):
            pass
        idle = status("VmRSS:")
        with start_experiment(space="bench", name="large-file") as exp:
            start, cpu_start = time.perf_counter(), cpu()
            exp.log_artifact({str(path)!r})
            elapsed, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
        print(elapsed, cpu_seconds, (status("VmHWM:") - idle) / 1024, exp.uid)
        """,
        _env(store),
        store,
    )
    seconds, cpu_seconds, memory_mb, uid = out.split()
    restored = _python(
        f"""
        from opsml import download_artifact
        print(download_artifact({uid!r}, {path.name!r}, "restored.bin"))
        """,
        _env(store),
        store,
    ).strip()
    if (store / restored).stat().st_size != path.stat().st_size:
        raise AssertionError("the large file did not round-trip")
    shutil.rmtree(store)
    return {
        "cp": cp_seconds,
        "log": float(seconds),
        "log_cpu": float(cpu_seconds),
        "memory_mb": float(memory_mb),
    }


def bench_against_copy(path: Path, work: Path, reps: int) -> list[tuple[float, float]]:
    """(shutil.copy seconds, log_artifact seconds) of `path`, each pair taken one after the
    other in one process."""
    store = work / "against-copy"
    store.mkdir()
    out = _python(
        f"""
        import os, shutil, time
        from opsml import start_experiment
        with start_experiment(space="bench", name="warm-up"):
            pass
        for _ in range({reps}):
            start = time.perf_counter()
            shutil.copy({str(path)!r}, "copy.bin")
            copied = time.perf_counter() - start
            os.unlink("copy.bin")
            with start_experiment(space="bench", name="against-copy") as exp:
                start = time.perf_counter()
                exp.log_artifact({str(path)!r})
                logged = time.perf_counter() - start
            print(copied, logged)
        """,
        _env(store),
        store,
    )
    shutil.rmtree(store)
    return [(float(a), float(b)) for a, b in (line.split() for line in out.splitlines())]


def bench_small_files(count: int, work: Path) -> dict[str, float]:
    """Seconds to log_artifacts `count` 4 KB files and to download them back."""
    tree = work / "small"
    tree.mkdir()
    for i in range(count):
        (tree / f"file_{i:04d}.json").write_bytes(os.urandom(2048).hex().encode())
    store = work / "small-store"
    store.mkdir()
    out = _python(
        f"""
        import time
        from opsml import start_experiment, CardRegistry
        with start_experiment(space="bench", name="small-files") as exp:
            start = time.perf_counter()
            exp.log_artifacts({str(tree)!r}, rpath="data")
            logged = time.perf_counter() - start
        card = CardRegistry("experiment").load_card(uid=exp.uid)
        start = time.perf_counter()
        files = card.download_artifacts("data", "restored")
        downloaded = time.perf_counter() - start
        assert len(files) == {count}, len(files)
        print(logged, downloaded)
        """,
        _env(store),
        store,
    )
    logged, downloaded = (float(x) for x in out.split())
    for i in (0, count - 1):
        name = f"file_{i:04d}.json"
        if (store / "restored/data" / name).read_bytes() != (tree / name).read_bytes():
            raise AssertionError(f"{name} did not round-trip")
    shutil.rmtree(store)
    shutil.rmtree(tree)
    return {"log": logged, "download": downloaded}


def _summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f} ({min(samples):.3f}-{max(samples):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    args = parser.parse_args()
    size = (64 if args.quick else 1024) << 20
    count = 200 if args.quick else 1000
    reps = 1 if args.quick else 3

    with tempfile.TemporaryDirectory(prefix="opsml-bench-", dir=os.getcwd()) as tmp:
        work = Path(tmp)
        large = work / "large.bin"
        make_large_file(large, size)
        runs = [bench_large_file(large, work) for _ in range(reps)]
        ratios = [r["cp"] / r["log"] for r in runs]
        log_mb_s = [size / r["log"] / 1e6 for r in runs]
        cp_mb_s = [size / r["cp"] / 1e6 for r in runs]
        memory = [r["memory_mb"] for r in runs]
        cpu_per_gb = [r["log_cpu"] / (size / 1e9) for r in runs]
        cpu_bound = [(os.cpu_count() or 1) / c * 1e3 for c in cpu_per_gb]
        large.unlink()
        medium = work / "medium.bin"
        make_large_file(medium, 200 << 20)
        against_copy = bench_against_copy(medium, work, max(reps, 5))
        medium.unlink()
        small = [bench_small_files(count, work) for _ in range(reps)]

    print(f"opsml artifact benchmarks: median of {reps} (min-max)")
    print(
        f"  log_artifact of {size >> 20} MB: {_summary(log_mb_s)} MB/s; "
        f"cp {_summary(cp_mb_s)} MB/s; ratio to cp {_summary(ratios)}   [target >= 0.5]"
    )
    print(
        f"  CPU time of log_artifact: {_summary(cpu_per_gb)} s per GB; "
        f"{os.cpu_count()} cores allow at most {_summary(cpu_bound)} MB/s"
    )
    print(f"  peak memory growth while logging it: {_summary(memory)} MB   [target <= 64 MB]")
    copy_ratios = [copied / logged for copied, logged in against_copy]
    print(
        f"  log_artifact of 200 MB: {_summary([logged for _, logged in against_copy])} s; "
        f"shutil.copy {_summary([copied for copied, _ in against_copy])} s; "
        f"ratio to shutil.copy {_summary(copy_ratios)}   [target >= 1]"
    )
    print(
        f"  log_artifacts of {count} x 4 KB files: {_summary([s['log'] for s in small])} s"
        "   [target <= 0.3 s]"
    )
    ratios = [s["download"] / s["log"] for s in small]
    print(
        f"  download_artifacts of them: {_summary([s['download'] for s in small])} s; "
        f"ratio to logging {_summary(ratios)}   [target <= 1.5]"
    )


if __name__ == "__main__":
    main()
