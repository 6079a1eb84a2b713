"""Hardware monitoring: samples, intervals, process-tree figures, prompt stop, read-back."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
import threading
import time

import pytest
from opsml import (
    CardRegistry,
    HardwareMetrics,
    _opsml,
    get_experiment_hardware_metrics,
    start_experiment,
)


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_short_run_has_a_first_and_a_last_sample() -> None:
    with start_experiment(name="short", log_hardware=True) as exp:
        time.sleep(0.3)
    samples = get_experiment_hardware_metrics(exp.uid)
    assert len(samples) >= 2
    assert all(isinstance(s, HardwareMetrics) for s in samples)
    assert samples[0].timestamp < samples[-1].timestamp
    first = samples[0]
    assert first.memory_total_bytes is not None
    assert first.memory_total_bytes > 0
    assert first.process_rss_bytes is not None
    assert first.process_rss_bytes > 0
    assert first.process_threads is not None
    assert first.process_threads >= 1
    assert len(first.cpu_percent_per_core) >= 1
    assert exp.card.get_hardware_metrics()[0].timestamp == first.timestamp


def test_the_interval_is_honoured() -> None:
    with start_experiment(name="interval", log_hardware=True, hardware_interval=0.2) as exp:
        time.sleep(2.0)
    count = len(get_experiment_hardware_metrics(exp.uid))
    # One at start, about ten ticks, one at the end.
    assert 9 <= count <= 14, count


def test_the_interval_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSML_HARDWARE_INTERVAL", "0.2")
    with start_experiment(name="env-interval", log_hardware=True) as exp:
        time.sleep(1.0)
    assert 5 <= len(get_experiment_hardware_metrics(exp.uid)) <= 9
    monkeypatch.setenv("OPSML_HARDWARE_INTERVAL", "often")
    with pytest.raises(ValueError, match="often"):
        start_experiment(name="bad-env", log_hardware=True)


def test_process_cpu_rises_during_a_busy_loop() -> None:
    with start_experiment(name="busy", log_hardware=True, hardware_interval=0.2) as exp:
        time.sleep(0.7)
        busy(1.0)
    cpu = [s.process_cpu_percent for s in get_experiment_hardware_metrics(exp.uid)]
    assert all(c is not None for c in cpu)
    assert max(cpu) > 50, cpu
    assert min(cpu[1:4]) < 30, cpu


def test_child_processes_are_counted() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; b = bytearray(300 * 1024 * 1024); "
            "print('ready', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        with start_experiment(name="children", log_hardware=True, hardware_interval=0.2) as exp:
            time.sleep(0.5)
    finally:
        child.kill()
        child.communicate()
    samples = get_experiment_hardware_metrics(exp.uid)
    assert max(s.process_count or 0 for s in samples) >= 2
    assert max(s.process_rss_bytes or 0 for s in samples) > 300 * 1024 * 1024


def test_the_summary_is_kept_on_the_card_and_printed() -> None:
    with start_experiment(name="summary", log_hardware=True, hardware_interval=0.2) as exp:
        busy(0.5)
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    summary = card.hardware_summary
    assert summary is not None
    assert summary["samples"] == len(get_experiment_hardware_metrics(exp.uid))
    assert summary["process_rss_bytes"]["peak"] > 0
    assert summary["cpu_percent"]["peak"] >= summary["cpu_percent"]["mean"] > 0
    assert "hardware" in str(card)
    with start_experiment(name="no-hardware") as plain:
        pass
    assert plain.card.hardware_summary is None
    assert get_experiment_hardware_metrics(plain.uid) == []


def test_stop_is_prompt_and_leaves_nothing_running() -> None:
    threads_before = threading.active_count()
    with start_experiment(name="warm-up", log_hardware=True):
        pass
    deadline = time.monotonic() + 5
    while _opsml._runtime_alive_tasks() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    tasks_before = _opsml._runtime_alive_tasks()
    exits = []
    for _ in range(200):
        exp = start_experiment(name="cycle", log_hardware=True)
        start = time.perf_counter()
        exp.end()
        exits.append(time.perf_counter() - start)
    exits.sort()
    assert exits[len(exits) // 2] < 0.1, exits[len(exits) // 2]
    deadline = time.monotonic() + 5
    while _opsml._runtime_alive_tasks() > tasks_before and time.monotonic() < deadline:
        time.sleep(0.01)
    # Nothing this test started is left; tasks of earlier tests (a server's idle keep-alive
    # connections, closed by the server after its read timeout) may have ended meanwhile.
    assert _opsml._runtime_alive_tasks() <= tasks_before
    assert threading.active_count() == threads_before


@pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None, reason="an NVIDIA driver is present"
)
def test_without_a_gpu_driver_there_are_no_gpu_fields_and_no_error() -> None:
    with start_experiment(name="no-gpu", log_hardware=True) as exp:
        pass
    assert all(s.gpus == [] for s in get_experiment_hardware_metrics(exp.uid))
    env = exp.card.compute_environment
    assert env.gpus == []
    assert env.gpu_driver_version is None
    assert env.cuda_version is None
    assert env.cpu_model != ""


def test_hardware_samples_convert_to_columns_value_for_value() -> None:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    with start_experiment(name="hw-columns", log_hardware=True, hardware_interval=0.1) as exp:
        sum(range(2_000_000))
        time.sleep(0.35)
    samples = get_experiment_hardware_metrics(exp.uid)
    assert len(samples) >= 3
    assert samples == list(samples)
    assert samples[-1].timestamp == list(samples)[-1].timestamp
    assert [s.timestamp for s in samples[1:3]] == [samples[1].timestamp, samples[2].timestamp]
    table = samples.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.num_rows == len(samples)
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    rows = table.to_pylist()
    for row, sample in zip(rows, samples, strict=True):
        assert row["timestamp"] == sample.timestamp
        assert row["process_rss_bytes"] == sample.process_rss_bytes
        assert row["memory_total_bytes"] == sample.memory_total_bytes
        assert row["network_sent_bytes"] == sample.network_sent_bytes
        cpu = sample.cpu_percent
        assert (row["cpu_percent"] is None) == (cpu is None)
        if cpu is not None:
            assert row["cpu_percent"] == pytest.approx(cpu)
    # One column per field of a sample: every plain one under its own name, the cores as
    # cpu<index>_percent.
    plain = [
        name
        for name in dir(samples[0])
        if not name.startswith("_") and name not in {"timestamp", "cpu_percent_per_core", "gpus"}
    ]
    assert len(plain) >= 16
    for name in plain:
        assert name in table.column_names, f"no column {name}"
        column = table.column(name).to_pylist()
        for got, sample in zip(column, samples, strict=True):
            want = getattr(sample, name)
            assert (got is None) == (want is None), name
            if want is not None:
                assert got == pytest.approx(want), name
    cores = max(len(s.cpu_percent_per_core) for s in samples)
    assert cores >= 1
    for core in range(cores):
        column = table.column(f"cpu{core}_percent").to_pylist()
        for got, sample in zip(column, samples, strict=True):
            per_core = sample.cpu_percent_per_core
            if core < len(per_core):
                assert got == pytest.approx(per_core[core])
            else:
                assert got is None
    # Without a GPU there are no GPU columns.
    assert not [name for name in table.column_names if name.startswith("gpu")]
    assert isinstance(samples.to_pandas(), pd.DataFrame)
    frame = samples.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame["process_rss_bytes"].to_list() == [s.process_rss_bytes for s in samples]


def test_a_child_process_writing_to_disk_is_counted_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = (
        "import os, sys, time\n"
        "with open(sys.argv[1], 'wb') as f:\n"
        "    for part in range(2):\n"
        "        for _ in range(32):\n"
        "            f.write(os.urandom(1 << 20))\n"
        "        f.flush(); os.fsync(f.fileno())\n"
        "        time.sleep(0.6)\n"
    )
    with start_experiment(name="child-io", log_hardware=True, hardware_interval=0.2) as exp:
        subprocess.run([sys.executable, "-c", writer, str(tmp_path / "big.bin")], check=True)
        time.sleep(0.6)
    written = sum(s.disk_write_bytes or 0 for s in get_experiment_hardware_metrics(exp.uid))
    mib = 1 << 20
    # 64 MiB written by the child (and a little by the store): not twice that.
    assert 60 * mib <= written < 100 * mib, written / mib
