"""Adapter of opsml 3 (`opsml==3.0.0rc16` from PyPI), on its local SQLite store.

Its Python names are the ones this project keeps (`start_experiment`,
`log_metric`, `CardRegistry`, ...). An experiment has no `end()`: every
logging workload is timed from just after it starts to just after its `with`
block exits.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench_common import (
    SPACE,
    Config,
    Outcome,
    Unsupported,
    count_params,
    count_points,
    count_same_files,
    params,
    points,
    same_bytes,
    timer,
)

IMPORT = "import opsml"
# Where a batch must be split to be stored at all (setup of the read workload only).
SETUP_CHUNK = 1_000


def store_env(store: Path) -> dict[str, str | None]:
    return {
        "OPSML_TRACKING_URI": f"sqlite:///{store}/opsml.db",
        "OPSML_STORAGE_URI": str(store / "storage"),
        "OPSML_ENCRYPT_SECRET": None,
    }


def _start(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    from opsml.experiment import start_experiment

    return start_experiment(space=SPACE, name=name, **kwargs)


def _runs(name: str) -> int:
    from opsml import CardRegistry, RegistryType

    listed = CardRegistry(RegistryType.Experiment).list_cards(space=SPACE, name=name, limit=1000)
    return len(listed.cards)


def start_end_fresh(cfg: Config) -> Outcome:
    with timer() as t, _start("start-end"):
        pass
    return Outcome(
        {"seconds": t.seconds},
        expected=1,
        verified=_runs("start-end"),
        verify="CardRegistry.list_cards",
    )


def start_end_warm(cfg: Config) -> Outcome:
    with _start("warm-up"):
        pass
    samples = []
    for _ in range(cfg.warm_runs):
        with timer() as t, _start("start-end"):
            pass
        samples.append(t.seconds)
    return Outcome(
        {"seconds": statistics.median(samples)},
        expected=cfg.warm_runs,
        verified=_runs("start-end"),
        verify="CardRegistry.list_cards",
    )


def _read_points(uid: str) -> list[tuple[int, float]]:
    from opsml.experiment import get_experiment_metrics

    return [(m.step, m.value) for m in get_experiment_metrics(uid, ["loss"])]


def log_metric(cfg: Config) -> Outcome:
    data = points(cfg.n)
    with _start("log-metric") as exp:
        start = time.perf_counter()
        for step, value in data:
            exp.log_metric("loss", value, step=step)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points(exp.card.uid)),
        verify="get_experiment_metrics",
    )


def log_metrics_batch(cfg: Config) -> Outcome:
    from opsml.experiment import Metric

    data = points(cfg.n)
    with _start("log-metrics") as exp:
        start = time.perf_counter()
        exp.log_metrics([Metric("loss", value, step=step) for step, value in data])
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points(exp.card.uid)),
        verify="get_experiment_metrics",
        notes=["the timer includes building the Metric objects"],
    )


def _read_params(uid: str) -> dict[str, object]:
    from opsml.experiment import get_experiment_parameters

    return {p.name: p.value for p in get_experiment_parameters(uid)}


def log_param(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    with _start("log-param") as exp:
        start = time.perf_counter()
        for name, value in data.items():
            exp.log_parameter(name, value)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_params(exp.card.uid)),
        verify="get_experiment_parameters",
    )


def log_params_batch(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    with _start("log-params") as exp:
        start = time.perf_counter()
        exp.log_parameters(data)
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n_params,
        verified=count_params(data, _read_params(exp.card.uid)),
        verify="get_experiment_parameters",
    )


def _download_all(exp, lpath: Path) -> None:  # type: ignore[no-untyped-def]
    # card.download_artifact(path) doubles the storage prefix in 3.0.0rc16 and
    # finds nothing; download_artifacts() of everything works.
    exp.card.download_artifacts(None, lpath)


def large_artifact(cfg: Config) -> Outcome:
    assert cfg.large is not None
    with _start("large-artifact") as exp:
        start = time.perf_counter()
        exp.log_artifact(cfg.large)
    seconds = time.perf_counter() - start
    _download_all(exp, cfg.store / "restored")
    return Outcome(
        {"seconds": seconds},
        expected=1,
        verified=int(same_bytes(cfg.large, cfg.store / "restored" / cfg.large.name)),
        verify="card.download_artifacts, bytes compared",
    )


def small_files(cfg: Config) -> Outcome:
    assert cfg.small is not None
    with _start("small-files") as exp:
        start = time.perf_counter()
        exp.log_artifacts(cfg.small)
    seconds = time.perf_counter() - start
    _download_all(exp, cfg.store / "restored")
    expected = sum(1 for p in cfg.small.rglob("*") if p.is_file())
    return Outcome(
        {"seconds": seconds},
        expected=expected,
        verified=count_same_files(cfg.small, cfg.store / "restored"),
        verify="card.download_artifacts, bytes compared",
    )


def read_points(cfg: Config) -> Outcome:
    from opsml.experiment import Metric, get_experiment_metrics

    data = points(cfg.n)
    with _start("read") as exp:
        for i in range(0, cfg.n, SETUP_CHUNK):
            chunk = data[i : i + SETUP_CHUNK]
            exp.log_metrics([Metric("loss", value, step=step) for step, value in chunk])
    with timer() as t:
        metrics = get_experiment_metrics(exp.card.uid)
        got = [(m.step, m.value) for m in metrics]
    return Outcome(
        {"seconds": t.seconds},
        expected=cfg.n,
        verified=count_points(data, got),
        verify="get_experiment_metrics (the timed read itself)",
        notes=["the timer includes turning every point into a (step, value) pair"],
    )


def hardware(cfg: Config) -> Outcome:
    raise Unsupported(
        "log_hardware=True samples every 30 s (fixed) and opsml 3 has no public reader "
        "of the stored samples (only its server's /experiment/hardware/metrics route)"
    )
