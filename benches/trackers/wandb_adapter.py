"""Adapter of Weights & Biases in offline mode (WANDB_MODE=offline).

Offline runs cannot be read back through wandb's public API (`wandb.Api`
needs a server), so what a run stored is checked by reading its offline run
file (`run-<id>.wandb`: a log of protobuf records) with wandb's own protobuf
schema, `wandb.proto.wandb_internal_pb2.Record`. Every logging workload is timed
from just after `wandb.init()` to just after `run.finish()` returns. System
statistics are off except in the hardware workload.
"""

from __future__ import annotations

import base64
import hashlib
import json
import statistics
import struct
import time
from pathlib import Path

from bench_common import (
    Config,
    Outcome,
    Unsupported,
    count_params,
    count_points,
    hardware_outcome,
    idle_run_cpu,
    params,
    points,
    same_bytes,
    timer,
)

IMPORT = "import wandb"
PROJECT = "bench"
VERIFY = "offline run file read with wandb's protobuf schema (no public reader offline)"
_BLOCK = 32 * 1024
_HEADER = 7


def store_env(store: Path) -> dict[str, str | None]:
    return {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DIR": str(store),
        "WANDB_CACHE_DIR": str(store / "wandb-cache"),
        "WANDB_DATA_DIR": str(store / "wandb-data"),
        "WANDB_CONFIG_DIR": str(store / "wandb-config"),
        "WANDB_ARTIFACT_DIR": str(store / "wandb-artifacts"),
        "WANDB_API_KEY": None,
    }


def _init(name: str, **settings: object):  # type: ignore[no-untyped-def]
    import wandb

    settings.setdefault("x_disable_stats", True)
    return wandb.init(project=PROJECT, name=name, settings=wandb.Settings(**settings))


def _run_file(run) -> Path:  # type: ignore[no-untyped-def]
    return Path(run.dir).parent / f"run-{run.id}.wandb"


class _Incomplete(Exception):
    """The run file is still being written."""


def _records(path: Path) -> list[object]:
    """The records of an offline run file: a LevelDB-style log of protobuf messages."""
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2 as pb

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise _Incomplete(str(exc)) from exc
    if not data.startswith(b":W&B"):
        raise _Incomplete(f"{path} has no W&B header yet")
    records = []
    pos, pending = _HEADER, b""
    while pos + 7 <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < 7:  # block trailer
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        pos += 7
        if pos + length > len(data):
            raise _Incomplete(f"{path} ends inside a record")
        chunk, pos = data[pos : pos + length], pos + length
        if kind == 1:  # full record
            raw = chunk
        elif kind == 2:  # first fragment
            pending = chunk
            continue
        elif kind == 3:  # middle fragment
            pending += chunk
            continue
        elif kind == 4:  # last fragment
            raw, pending = pending + chunk, b""
        else:
            continue
        record = pb.Record()
        try:
            record.ParseFromString(raw)
        except DecodeError as exc:
            raise _Incomplete(f"{path}: {exc}") from exc
        records.append(record)
    return records


def _stored(path: Path, timeout: float = 60.0) -> tuple[list[object], float]:
    """The run file's records once its exit record is written, and how long that took.

    `run.finish()` returns before wandb-core has written everything to the run
    file, so what it stored is only read once the exit record (the last one)
    is there.
    """
    start = time.perf_counter()
    while True:
        try:
            records = _records(path)
        except _Incomplete:
            records = []
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            return records, time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"{path} has no exit record {timeout:g} s after run.finish()")
        time.sleep(0.005)


def _of_kind(records: list[object], kind: str) -> list[object]:
    return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]


LAG_NOTE = (
    "run.finish() returns before wandb-core has written the run file; the time it took "
    "after finish() returned is in runs.jsonl as stored_after_s, outside the timer"
)


def _completed_runs(store: Path, name: str) -> int:
    found = 0
    for path in store.glob("wandb/offline-run-*/run-*.wandb"):
        records, _ = _stored(path)
        named = any(r.run.display_name == name for r in records if r.HasField("run"))
        exits = [r.exit for r in records if r.HasField("exit")]
        if named and exits and exits[-1].exit_code == 0:
            found += 1
    return found


def start_end_fresh(cfg: Config) -> Outcome:
    with timer() as t:
        _init("start-end").finish()
    return Outcome(
        {"seconds": t.seconds},
        expected=1,
        verified=_completed_runs(cfg.store, "start-end"),
        verify=f"exit record with code 0 in the {VERIFY}",
    )


def start_end_warm(cfg: Config) -> Outcome:
    _init("warm-up").finish()
    samples = []
    for _ in range(cfg.warm_runs):
        with timer() as t:
            _init("start-end").finish()
        samples.append(t.seconds)
    return Outcome(
        {"seconds": statistics.median(samples)},
        expected=cfg.warm_runs,
        verified=_completed_runs(cfg.store, "start-end"),
        verify=f"exit record with code 0 in the {VERIFY}",
    )


def _read_points(records: list[object]) -> list[tuple[int, float]]:
    got = []
    for history in _of_kind(records, "history"):
        for item in history.item:
            if (item.key or "/".join(item.nested_key)) == "loss":
                got.append((history.step.num, json.loads(item.value_json)))
    return got


def log_metric(cfg: Config) -> Outcome:
    data = points(cfg.n)
    run = _init("log-metric")
    start = time.perf_counter()
    for step, value in data:
        run.log({"loss": value}, step=step)
    run.finish()
    seconds = time.perf_counter() - start
    records, lag = _stored(_run_file(run))
    return Outcome(
        {"seconds": seconds, "stored_after_s": lag},
        expected=cfg.n,
        verified=count_points(data, _read_points(records)),
        verify=f"history records in the {VERIFY}",
        notes=[LAG_NOTE],
    )


def log_metrics_batch(cfg: Config) -> Outcome:
    raise Unsupported(
        "run.log() records one step per call; wandb has no call that logs many steps of a "
        "metric at once"
    )


def _read_config(records: list[object]) -> dict[str, object]:
    got: dict[str, object] = {}
    for record in records:
        kind = record.WhichOneof("record_type")
        items = (
            record.run.config.update
            if kind == "run"
            else record.config.update
            if kind == "config"
            else ()
        )
        for item in items:
            got[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return got


def _log_params(name: str, data: dict[str, int], one_by_one: bool) -> tuple[float, Path]:
    run = _init(name)
    start = time.perf_counter()
    if one_by_one:
        for key, value in data.items():
            run.config[key] = value
    else:
        run.config.update(data)
    run.finish()
    return time.perf_counter() - start, _run_file(run)


def log_param(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    seconds, path = _log_params("log-param", data, one_by_one=True)
    records, lag = _stored(path)
    return Outcome(
        {"seconds": seconds, "stored_after_s": lag},
        expected=cfg.n_params,
        verified=count_params(data, _read_config(records)),
        verify=f"config records in the {VERIFY}",
        notes=["parameters are wandb config entries: run.config[name] = value", LAG_NOTE],
    )


def log_params_batch(cfg: Config) -> Outcome:
    data = params(cfg.n_params)
    seconds, path = _log_params("log-params", data, one_by_one=False)
    records, lag = _stored(path)
    return Outcome(
        {"seconds": seconds, "stored_after_s": lag},
        expected=cfg.n_params,
        verified=count_params(data, _read_config(records)),
        verify=f"config records in the {VERIFY}",
        notes=["run.config.update(dict)", LAG_NOTE],
    )


def _md5_b64(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def _count_artifact_files(records: list[object], files: dict[str, Path]) -> int:
    """Files of the artifact record whose size and MD5 match and whose staged copy matches."""
    found = 0
    for artifact in _of_kind(records, "artifact"):
        for entry in artifact.manifest.contents:
            source = files.get(entry.path)
            if source is None:
                continue
            recorded = entry.size == source.stat().st_size and entry.digest == _md5_b64(source)
            staged = not entry.local_path or same_bytes(source, Path(entry.local_path))
            found += recorded and staged
    return found


def _log_artifact(name: str, add) -> tuple[float, list[object], float]:  # type: ignore[no-untyped-def]
    import wandb

    run = _init(name)
    start = time.perf_counter()
    artifact = wandb.Artifact(name, type="dataset")
    add(artifact)
    run.log_artifact(artifact)
    run.finish()
    seconds = time.perf_counter() - start
    records, lag = _stored(_run_file(run))
    return seconds, records, lag


def large_artifact(cfg: Config) -> Outcome:
    large = cfg.large
    assert large is not None
    seconds, records, lag = _log_artifact("large", lambda a: a.add_file(str(large)))
    return Outcome(
        {"seconds": seconds, "stored_after_s": lag},
        expected=1,
        verified=_count_artifact_files(records, {large.name: large}),
        verify=f"artifact manifest (size, MD5) in the {VERIFY}; staged copy compared",
        notes=[
            "wandb.Artifact.add_file + run.log_artifact: offline, the file is staged, not uploaded",
            LAG_NOTE,
        ],
    )


def small_files(cfg: Config) -> Outcome:
    small = cfg.small
    assert small is not None
    seconds, records, lag = _log_artifact("small", lambda a: a.add_dir(str(small)))
    files = {p.relative_to(small).as_posix(): p for p in small.rglob("*") if p.is_file()}
    return Outcome(
        {"seconds": seconds, "stored_after_s": lag},
        expected=len(files),
        verified=_count_artifact_files(records, files),
        verify=f"artifact manifest (size, MD5) in the {VERIFY}; staged copies compared",
        notes=[
            "wandb.Artifact.add_dir + run.log_artifact: offline, the files are staged",
            LAG_NOTE,
        ],
    )


def read_points(cfg: Config) -> Outcome:
    raise Unsupported(
        "an offline run cannot be read back through wandb's public API (wandb.Api needs a server)"
    )


def hardware(cfg: Config) -> Outcome:
    run = _init("idle")
    cpu_off = idle_run_cpu(cfg.hw_seconds)
    run.finish()
    run = _init("hardware", x_disable_stats=False, x_stats_sampling_interval=cfg.hw_interval)
    cpu_on = idle_run_cpu(cfg.hw_seconds)
    run.finish()
    records, _ = _stored(_run_file(run))
    samples = len(_of_kind(records, "stats"))
    return hardware_outcome(
        cpu_on, cpu_off, cfg.hw_seconds, samples, f"stats records in the {VERIFY}"
    )
