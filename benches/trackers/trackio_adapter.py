"""Adapter of trackio on its local store (one SQLite file per project in TRACKIO_DIR).

`trackio.Api` lists runs and their config but has no reader of metric points;
those are read with `trackio.sqlite_storage.SQLiteStorage`, the reader behind
trackio's own CLI and dashboard. trackio stores a run, and its config, only
with its first logged point, so the start+end and parameter workloads log one
point. Every logging workload is timed from just after `trackio.init()` to
just after `trackio.finish()` returns. CPU monitoring is off except in the
hardware workload.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench_common import (
    Config,
    Outcome,
    Unsupported,
    count_params,
    count_points,
    count_same_files,
    hardware_outcome,
    idle_run_cpu,
    params,
    points,
    same_bytes,
    timer,
)

IMPORT = "import trackio"
PROJECT = "bench"
POINT_NOTE = "trackio stores a run and its config only with a logged point: one point is logged"


def store_env(store: Path) -> dict[str, str | None]:
    return {
        "TRACKIO_DIR": str(store / "trackio"),
        "HF_HOME": str(store / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TRACKIO_SPACE_ID": None,
        "TRACKIO_SERVER_URL": None,
    }


def _init(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    import trackio

    kwargs.setdefault("auto_log_cpu", False)
    return trackio.init(project=PROJECT, name=name, auto_log_gpu=False, embed=False, **kwargs)


def _runs() -> list[object]:
    import trackio

    return list(trackio.Api().runs(PROJECT))


def _start_end(name: str) -> None:
    import trackio

    _init(name)
    trackio.log({"alive": 1.0}, step=0)
    trackio.finish()


def start_end_fresh(cfg: Config) -> Outcome:
    with timer() as t:
        _start_end("start-end-0")
    return Outcome(
        {"seconds": t.seconds},
        expected=1,
        verified=sum(1 for r in _runs() if r.name.startswith("start-end-")),
        verify="trackio.Api().runs()",
        notes=[POINT_NOTE],
    )


def start_end_warm(cfg: Config) -> Outcome:
    _start_end("warm-up")
    samples = []
    for i in range(cfg.warm_runs):
        with timer() as t:
            _start_end(f"start-end-{i}")
        samples.append(t.seconds)
    return Outcome(
        {"seconds": statistics.median(samples)},
        expected=cfg.warm_runs,
        verified=sum(1 for r in _runs() if r.name.startswith("start-end-")),
        verify="trackio.Api().runs()",
        notes=[POINT_NOTE],
    )


def _read_points(name: str) -> list[tuple[int, float]]:
    from trackio.sqlite_storage import SQLiteStorage

    return [(d["step"], d["loss"]) for d in SQLiteStorage.get_logs(PROJECT, name) if "loss" in d]


def log_metric(cfg: Config) -> Outcome:
    import trackio

    data = points(cfg.n)
    _init("log-metric")
    start = time.perf_counter()
    for step, value in data:
        trackio.log({"loss": value}, step=step)
    trackio.finish()
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points("log-metric")),
        verify="SQLiteStorage.get_logs (trackio's CLI and dashboard reader)",
    )


def log_metrics_batch(cfg: Config) -> Outcome:
    raise Unsupported(
        "trackio.log() records one step per call; trackio has no public call that logs many "
        "steps of a metric at once"
    )


def _read_config(name: str) -> dict[str, object]:
    for run in _runs():
        if run.name == name:
            return dict(run.config or {})
    return {}


def _log_params(name: str, data: dict[str, int], one_by_one: bool) -> float:
    import trackio

    run = _init(name)
    start = time.perf_counter()
    if one_by_one:
        for key, value in data.items():
            run.config[key] = value
    else:
        run.config.update(data)
    trackio.log({"alive": 1.0}, step=0)
    trackio.finish()
    return time.perf_counter() - start


def log_param(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    seconds = _log_params("log-param", data, one_by_one=True)
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_config("log-param")),
        verify="trackio.Api().runs()[...].config",
        notes=["parameters are run.config entries (a dict): run.config[name] = value", POINT_NOTE],
    )


def log_params_batch(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    seconds = _log_params("log-params", data, one_by_one=False)
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_config("log-params")),
        verify="trackio.Api().runs()[...].config",
        notes=["run.config.update(dict)", POINT_NOTE],
    )


def _log_artifact(name: str, path: Path):  # type: ignore[no-untyped-def]
    import trackio

    _init(name)
    start = time.perf_counter()
    artifact = trackio.log_artifact(str(path), name=name, type="dataset")
    trackio.finish()
    return time.perf_counter() - start, artifact


def large_artifact(cfg: Config) -> Outcome:
    assert cfg.large is not None
    seconds, artifact = _log_artifact("large", cfg.large)
    root = Path(artifact.download(cfg.store / "restored"))
    return Outcome(
        {"seconds": seconds},
        expected=1,
        verified=int(same_bytes(cfg.large, root / cfg.large.name)),
        verify="Artifact.download, bytes compared",
    )


def small_files(cfg: Config) -> Outcome:
    assert cfg.small is not None
    seconds, artifact = _log_artifact("small", cfg.small)
    root = Path(artifact.download(cfg.store / "restored"))
    expected = sum(1 for p in cfg.small.rglob("*") if p.is_file())
    return Outcome(
        {"seconds": seconds},
        expected=expected,
        verified=count_same_files(cfg.small, root),
        verify="Artifact.download, bytes compared",
    )


def read_points(cfg: Config) -> Outcome:
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    data = points(cfg.n)
    _init("read")
    for step, value in data:
        trackio.log({"loss": value}, step=step)
    trackio.finish()
    with timer() as t:
        got = [(d["step"], d["loss"]) for d in SQLiteStorage.get_logs(PROJECT, "read")]
    return Outcome(
        {"seconds": t.seconds},
        expected=cfg.n,
        verified=count_points(data, got),
        verify="SQLiteStorage.get_logs (the timed read itself)",
        notes=["the timer includes turning every point into a (step, value) pair"],
    )


def hardware(cfg: Config) -> Outcome:
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    _init("idle")
    cpu_off = idle_run_cpu(cfg.hw_seconds)
    trackio.finish()
    _init("hardware", auto_log_cpu=True, cpu_log_interval=cfg.hw_interval)
    cpu_on = idle_run_cpu(cfg.hw_seconds)
    trackio.finish()
    samples = len(SQLiteStorage.get_system_logs(PROJECT, "hardware"))
    return hardware_outcome(
        cpu_on,
        cpu_off,
        cfg.hw_seconds,
        samples,
        "SQLiteStorage.get_system_logs; psutil installed for auto_log_cpu",
    )
