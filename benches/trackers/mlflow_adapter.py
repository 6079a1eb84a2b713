"""Adapter of MLflow on a local SQLite tracking store (artifacts in ./mlruns).

Every logging workload is timed from just after `mlflow.start_run()` to just
after `mlflow.end_run()` returns.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench_common import (
    Config,
    Outcome,
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

IMPORT = "import mlflow"
SYSTEM_METRIC = "system/cpu_utilization_percentage"


def store_env(store: Path) -> dict[str, str | None]:
    return {
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}/mlflow.db",
        "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING": None,
        "MLFLOW_ENABLE_ASYNC_LOGGING": None,
    }


def _client():  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    return MlflowClient()


def _finished_runs(name: str) -> int:
    runs = _client().search_runs(
        ["0"], filter_string=f"attributes.run_name = '{name}'", max_results=5000
    )
    return sum(1 for run in runs if run.info.status == "FINISHED")


def start_end_fresh(cfg: Config) -> Outcome:
    import mlflow

    with timer() as t, mlflow.start_run(run_name="start-end"):
        pass
    return Outcome(
        {"seconds": t.seconds},
        expected=1,
        verified=_finished_runs("start-end"),
        verify="MlflowClient.search_runs, status FINISHED",
    )


def start_end_warm(cfg: Config) -> Outcome:
    import mlflow

    with mlflow.start_run(run_name="warm-up"):
        pass
    samples = []
    for _ in range(cfg.warm_runs):
        with timer() as t, mlflow.start_run(run_name="start-end"):
            pass
        samples.append(t.seconds)
    return Outcome(
        {"seconds": statistics.median(samples)},
        expected=cfg.warm_runs,
        verified=_finished_runs("start-end"),
        verify="MlflowClient.search_runs, status FINISHED",
    )


def _read_points(run_id: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in _client().get_metric_history(run_id, "loss")]


def log_metric(cfg: Config) -> Outcome:
    import mlflow

    data = points(cfg.n)
    with mlflow.start_run() as run:
        start = time.perf_counter()
        for step, value in data:
            mlflow.log_metric("loss", value, step=step)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points(run.info.run_id)),
        verify="MlflowClient.get_metric_history",
    )


def _log_batch(run_id: str, data: list[tuple[int, float]]) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [Metric("loss", value, now, step) for step, value in data]
    _client().log_batch(run_id, metrics=metrics)


def log_metrics_batch(cfg: Config) -> Outcome:
    import mlflow

    data = points(cfg.n)
    with mlflow.start_run() as run:
        start = time.perf_counter()
        _log_batch(run.info.run_id, data)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points(run.info.run_id)),
        verify="MlflowClient.get_metric_history",
        notes=[
            "MlflowClient.log_batch, which splits the batch into requests of 1,000 metrics; "
            "the timer includes building the Metric objects"
        ],
    )


def _read_params(run_id: str) -> dict[str, object]:
    return dict(_client().get_run(run_id).data.params)


def log_param(cfg: Config) -> Outcome:
    import mlflow

    data = params(cfg.n_params)
    with mlflow.start_run() as run:
        start = time.perf_counter()
        for name, value in data.items():
            mlflow.log_param(name, value)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_params(run.info.run_id)),
        verify="MlflowClient.get_run().data.params",
    )


def log_params_batch(cfg: Config) -> Outcome:
    import mlflow

    data = params(cfg.n_params)
    with mlflow.start_run() as run:
        start = time.perf_counter()
        mlflow.log_params(data)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_params(run.info.run_id)),
        verify="MlflowClient.get_run().data.params",
        notes=["mlflow.log_params splits the batch into requests of 100 parameters"],
    )


def large_artifact(cfg: Config) -> Outcome:
    import mlflow

    assert cfg.large is not None
    with mlflow.start_run() as run:
        start = time.perf_counter()
        mlflow.log_artifact(str(cfg.large))
    seconds = time.perf_counter() - start
    restored = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=cfg.large.name, dst_path=str(cfg.store / "restored")
    )
    return Outcome(
        {"seconds": seconds},
        expected=1,
        verified=int(same_bytes(cfg.large, Path(restored))),
        verify="mlflow.artifacts.download_artifacts, bytes compared",
    )


def small_files(cfg: Config) -> Outcome:
    import mlflow

    assert cfg.small is not None
    with mlflow.start_run() as run:
        start = time.perf_counter()
        mlflow.log_artifacts(str(cfg.small), artifact_path="data")
    seconds = time.perf_counter() - start
    restored = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="data", dst_path=str(cfg.store / "restored")
    )
    expected = sum(1 for p in cfg.small.rglob("*") if p.is_file())
    return Outcome(
        {"seconds": seconds},
        expected=expected,
        verified=count_same_files(cfg.small, Path(restored)),
        verify="mlflow.artifacts.download_artifacts, bytes compared",
    )


def read_points(cfg: Config) -> Outcome:
    import mlflow

    data = points(cfg.n)
    with mlflow.start_run() as run:
        _log_batch(run.info.run_id, data)
    with timer() as t:
        got = [(m.step, m.value) for m in _client().get_metric_history(run.info.run_id, "loss")]
    return Outcome(
        {"seconds": t.seconds},
        expected=cfg.n,
        verified=count_points(data, got),
        verify="MlflowClient.get_metric_history (the timed read itself)",
        notes=["the timer includes turning every point into a (step, value) pair"],
    )


def hardware(cfg: Config) -> Outcome:
    import mlflow

    mlflow.set_system_metrics_sampling_interval(cfg.hw_interval)
    mlflow.set_system_metrics_samples_before_logging(1)
    with mlflow.start_run(log_system_metrics=False):
        cpu_off = idle_run_cpu(cfg.hw_seconds)
    with mlflow.start_run(log_system_metrics=True) as run:
        cpu_on = idle_run_cpu(cfg.hw_seconds)
    samples = len(_client().get_metric_history(run.info.run_id, SYSTEM_METRIC))
    return hardware_outcome(
        cpu_on,
        cpu_off,
        cfg.hw_seconds,
        samples,
        f"MlflowClient.get_metric_history('{SYSTEM_METRIC}'); psutil installed for it",
    )
