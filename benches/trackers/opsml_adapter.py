"""Adapter of this project's opsml (the wheel built from this checkout).

Every logging workload is timed from just after the experiment starts to just
after it ends, so the time to store what was queued is included.
"""

from __future__ import annotations

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
    hardware_outcome,
    idle_run_cpu,
    params,
    points,
    same_bytes,
    timer,
)

IMPORT = "import opsml"


def store_env(store: Path) -> dict[str, str | None]:
    return {
        "OPSML_TRACKING_URI": f"sqlite:///{store}/opsml.db",
        "OPSML_STORAGE_URI": str(store / "storage"),
        "OPSML_ENCRYPT_SECRET": None,
    }


def _start(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    from opsml import start_experiment

    return start_experiment(space=SPACE, name=name, **kwargs)


def _completed_runs(name: str, limit: int) -> int:
    from opsml import CardRegistry

    cards = CardRegistry("experiment").list_cards(space=SPACE, name=name, limit=limit)
    return sum(1 for card in cards if card.status == "completed")


def start_end_fresh(cfg: Config) -> Outcome:
    with timer() as t, _start("start-end"):
        pass
    return Outcome(
        {"seconds": t.seconds},
        expected=1,
        verified=_completed_runs("start-end", 10),
        verify="CardRegistry.list_cards, status completed",
    )


def start_end_warm(cfg: Config) -> Outcome:
    import statistics

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
        verified=_completed_runs("start-end", cfg.warm_runs + 10),
        verify="CardRegistry.list_cards, status completed",
    )


def _read_points(uid: str) -> list[tuple[int, float]]:
    from opsml import get_experiment_metrics

    return [(m.step, m.value) for m in get_experiment_metrics(uid, "loss")]


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
        verified=count_points(data, _read_points(exp.uid)),
        verify="get_experiment_metrics",
    )


def log_metrics_batch(cfg: Config) -> Outcome:
    from opsml import Metric

    data = points(cfg.n)
    with _start("log-metrics") as exp:
        start = time.perf_counter()
        exp.log_metrics([Metric("loss", value, step=step) for step, value in data])
    seconds = time.perf_counter() - start
    return Outcome(
        {"seconds": seconds},
        expected=cfg.n,
        verified=count_points(data, _read_points(exp.uid)),
        verify="get_experiment_metrics",
        notes=["the timer includes building the Metric objects"],
    )


def _read_params(uid: str) -> dict[str, object]:
    from opsml import get_experiment_parameters

    return dict(get_experiment_parameters(uid).to_dict())


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
        verified=count_params(data, _read_params(exp.uid)),
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
        verified=count_params(data, _read_params(exp.uid)),
        verify="get_experiment_parameters",
    )


def large_artifact(cfg: Config) -> Outcome:
    from opsml import download_artifact

    assert cfg.large is not None
    with _start("large-artifact") as exp:
        start = time.perf_counter()
        exp.log_artifact(cfg.large)
    seconds = time.perf_counter() - start
    restored = download_artifact(exp.uid, cfg.large.name, cfg.store / "restored")
    return Outcome(
        {"seconds": seconds},
        expected=1,
        verified=int(same_bytes(cfg.large, Path(restored))),
        verify="download_artifact, bytes compared",
    )


def small_files(cfg: Config) -> Outcome:
    assert cfg.small is not None
    with _start("small-files") as exp:
        start = time.perf_counter()
        exp.log_artifacts(cfg.small, rpath="data")
    seconds = time.perf_counter() - start
    exp.card.download_artifacts("data", cfg.store / "restored")
    expected = sum(1 for p in cfg.small.rglob("*") if p.is_file())
    return Outcome(
        {"seconds": seconds},
        expected=expected,
        verified=count_same_files(cfg.small, cfg.store / "restored" / "data"),
        verify="card.download_artifacts, bytes compared",
    )


def read_points(cfg: Config) -> Outcome:
    from opsml import Metric, get_experiment_metrics

    data = points(cfg.n)
    with _start("read") as exp:
        exp.log_metrics([Metric("loss", value, step=step) for step, value in data])
    with timer() as t:
        metrics = get_experiment_metrics(exp.uid)
        got = [(m.step, m.value) for m in metrics]
    return Outcome(
        {"seconds": t.seconds},
        expected=cfg.n,
        verified=count_points(data, got),
        verify="get_experiment_metrics (the timed read itself)",
        notes=["the timer includes turning every point into a (step, value) pair"],
    )


def _hardware_reader(exp):  # type: ignore[no-untyped-def]
    """The public reader of stored hardware samples, once opsml has one."""
    import opsml.experiment

    for owner, name, args in (
        (exp.card, "card.get_hardware_metrics", ()),
        (opsml.experiment, "get_experiment_hardware_metrics", (exp.uid,)),
    ):
        reader = getattr(owner, name.split(".")[-1], None)
        if reader is not None:
            return (lambda r=reader, a=args: r(*a)), name
    return None, ""


def hardware(cfg: Config) -> Outcome:
    def start(log_hardware: bool):  # type: ignore[no-untyped-def]
        if not log_hardware:
            return _start("idle")
        try:
            return _start("hardware", log_hardware=True, hardware_interval=cfg.hw_interval)
        except NotImplementedError as exc:
            raise Unsupported(f"log_hardware=True raises NotImplementedError: {exc}") from exc
        except TypeError as exc:
            if "hardware_interval" not in str(exc):
                raise
        # A build without the interval argument: its own interval.
        try:
            return _start("hardware", log_hardware=True)
        except NotImplementedError as exc:
            raise Unsupported(f"log_hardware=True raises NotImplementedError: {exc}") from exc

    monitored = start(True)  # fails fast where hardware logging is not available
    monitored.end()
    with start(False):
        cpu_off = idle_run_cpu(cfg.hw_seconds)
    with start(True) as exp:
        cpu_on = idle_run_cpu(cfg.hw_seconds)
    reader, name = _hardware_reader(exp)
    if reader is None:
        raise RuntimeError("hardware logging ran but opsml has no public reader of its samples")
    samples = len(reader())
    return hardware_outcome(cpu_on, cpu_off, cfg.hw_seconds, samples, name)
