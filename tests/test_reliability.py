"""Many writers into one experiment, a full disk, and a model-checked logging API."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from opsml import (
    CardRegistry,
    StoreError,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


def test_eight_processes_log_into_one_experiment_without_errors_or_duplicates(
    tmp_path: Path,
) -> None:
    with start_experiment(name="data-parallel") as exp:
        exp.log_parameter("world_size", 8)
    start_file = tmp_path / "go"
    worker = textwrap.dedent(
        f"""
        import os, sys, time
        from opsml import start_experiment
        rank = int(sys.argv[1])
        while not os.path.exists({str(start_file)!r}):
            time.sleep(0.005)
        with start_experiment(experiment_uid={exp.uid!r}) as exp:
            for step in range(5000):
                exp.log_metric(f"rank{{rank}}/loss", 1.0 / (step + 1), step=step)
            exp.log_parameter(f"rank{{rank}}", rank)
        """
    )
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", worker, str(rank)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(8)
    ]
    start_file.touch()
    for rank in ranks:
        _, err = rank.communicate(timeout=120)
        assert rank.returncode == 0, err
        assert "locked" not in err
    metrics = get_experiment_metrics(exp.uid)
    assert len(metrics) == 8 * 5000
    for rank in range(8):
        steps = [m.step for m in get_experiment_metrics(exp.uid, f"rank{rank}/loss")]
        assert steps == list(range(5000))
    assert len(get_experiment_parameters(exp.uid)) == 9


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, where the machine lets tests mount one."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_reported_and_logging_resumes_once_space_is_back(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite:///{small_disk}/opsml.db")
    monkeypatch.setenv("OPSML_STORAGE_URI", str(small_disk / "storage"))
    with start_experiment(name="full-disk") as exp:
        for step in range(1000):
            exp.log_metric("loss", 1.0, step=step)
        exp.flush()
        # Fill what is left of the disk.
        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError:
                pass
        for step in range(1000, 50_000):
            exp.log_metric("loss", 1.0, step=step)
        with pytest.raises(StoreError) as refused:
            exp.flush()
        assert "full" in str(refused.value).lower()
        filler.unlink()
        # The writer retries on its own; once it has, flush succeeds.
        for _ in range(100):
            try:
                exp.flush()
                break
            except StoreError:
                time.sleep(0.05)
        exp.flush()
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    assert card.status == "completed"
    steps = [m.step for m in get_experiment_metrics(exp.uid)]
    assert steps == list(range(50_000))
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
            ".execute('PRAGMA integrity_check').fetchone()[0])",
            str(small_disk / "opsml.db"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "ok"


def _integrity(db: Path) -> str:
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
            ".execute('PRAGMA integrity_check').fetchone()[0])",
            str(db),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return check.stdout.strip()


def _flush_once_writable(exp) -> None:  # type: ignore[no-untyped-def]
    """The writer retries on its own; flush succeeds once it has."""
    for _ in range(100):
        try:
            exp.flush()
            return
        except StoreError:
            time.sleep(0.05)
    exp.flush()


def test_a_read_only_disk_is_reported_and_the_experiment_resumes_once_writable(
    small_disk: Path, run_python, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # A mounted file system cannot turn read-only while files on it are open for
    # writing, so each step runs in its own process.
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite:///{small_disk}/opsml.db")
    monkeypatch.setenv("OPSML_STORAGE_URI", str(small_disk / "storage"))
    uid = run_python(
        """
        from opsml import start_experiment
        with start_experiment(name="read-only") as exp:
            for step in range(1000):
                exp.log_metric("loss", 1.0, step=step)
        print(exp.uid)
        """
    ).stdout.strip()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        refused = run_python(
            f"""
            from opsml import StoreError, start_experiment
            try:
                start_experiment(experiment_uid={uid!r})
            except StoreError as error:
                print(error)
            else:
                raise SystemExit("resuming on a read-only disk did not fail")
            """
        ).stdout
        assert "read-only" in refused, refused
        assert str(small_disk / "opsml.db") in refused
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    run_python(
        f"""
        from opsml import get_experiment_metrics, start_experiment
        with start_experiment(experiment_uid={uid!r}) as exp:
            for step in range(1000, 2000):
                exp.log_metric("loss", 1.0, step=step)
        assert [m.step for m in get_experiment_metrics({uid!r})] == list(range(2000))
        """
    )
    assert _integrity(small_disk / "opsml.db") == "ok"


def test_a_store_removed_under_a_running_experiment_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "removed"
    store.mkdir()
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite:///{store}/opsml.db")
    exp = start_experiment(name="removed")
    for step in range(100):
        exp.log_metric("loss", 1.0, step=step)
    exp.flush()
    shutil.rmtree(store)
    for step in range(100, 200):
        exp.log_metric("loss", 1.0, step=step)
    # No retry can put them in a deleted file: they wait in a recovery file instead.
    exp.flush()
    with pytest.raises(StoreError) as refused:
        exp.end()
    message = str(refused.value)
    assert str(store / "opsml.db") in message
    assert "moved or deleted" in message, message
    assert "100 point(s)" in message, message
    kept = Path(message.split(" are kept in ")[1].split(" and `opsml sync`")[0])
    assert kept.is_file()
    assert kept.is_relative_to(Path(f"{store}/opsml.db.recovery"))


def test_a_rust_panic_on_the_logging_path_is_an_opsml_error(
    run_python, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPSML_FAULT_PANIC_ON_METRIC", "boom")
    out = run_python(
        """
        from opsml import OpsmlError, get_experiment_metrics, start_experiment
        with start_experiment(name="panic") as exp:
            exp.log_metric("loss", 1.0, step=0)
            try:
                exp.log_metric("boom", 1.0)
            except OpsmlError as error:
                print(type(error).__name__, "|", error)
            exp.log_metric("loss", 2.0, step=1)
        print([(m.name, m.step) for m in get_experiment_metrics(exp.uid)])
        """
    ).stdout.splitlines()
    assert out[0].startswith("OpsmlError | internal error in opsml"), out
    assert "boom" in out[0]
    assert out[1] == "[('loss', 0), ('loss', 1)]"


# Characters that show nothing by themselves: a name of these (and spaces) alone is refused.
INVISIBLE = {*"\u034f\u115f\u1160\u2800\u3164\uffa0", *map(chr, range(0xFE00, 0xFE10))}
# Valid names: no control, surrogate or format characters (bidirectional controls and
# zero-width characters are refused), and at least one visible character.
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf")), min_size=1, max_size=30
).filter(lambda name: any(not (c.isspace() or c in INVISIBLE) for c in name))
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
)
parameter_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    # NUL is refused in text values (see test_bad_input); a lone surrogate is no text that
    # UTF-8 can hold (Python refuses to encode it before opsml sees it).
    st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        max_size=50,
    ),
    st.booleans(),
)


class LoggingModel(RuleBasedStateMachine):
    """Random sequences of logging calls, checked against what should be stored."""

    def __init__(self) -> None:
        super().__init__()
        self.exp = start_experiment(name="model")
        self.metrics: dict[str, list[tuple[int | None, float]]] = {}
        self.parameters: dict[str, object] = {}

    @rule(name=names, value=values, step=st.one_of(st.none(), st.integers(-1000, 1000)))
    def log_metric(self, name: str, value: float, step: int | None) -> None:
        self.exp.log_metric(name, value, step=step)
        self.metrics.setdefault(name, []).append((step, float(value)))

    @rule(name=names, value=parameter_values)
    def log_parameter(self, name: str, value: object) -> None:
        self.exp.log_parameter(name, value)
        self.parameters[name] = value

    @rule(value=st.one_of(st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2)))
    def bad_metric_value(self, value: object) -> None:
        with pytest.raises(TypeError):
            self.exp.log_metric("bad", value)

    @precondition(lambda self: bool(self.metrics) or bool(self.parameters))
    @invariant()
    def stored_matches_the_model(self) -> None:
        stored: dict[str, list[tuple[int | None, float]]] = {}
        for m in get_experiment_metrics(self.exp.uid):
            stored.setdefault(m.name, []).append((m.step, m.value))
        assert set(stored) == set(self.metrics)
        for name, points in self.metrics.items():
            # Stored in (step, insertion) order, points without a step first.
            expected = sorted(points, key=lambda p: (p[0] is not None, p[0] or 0))
            got = stored[name]
            assert [s for s, _ in got] == [s for s, _ in expected]
            for (_, a), (_, b) in zip(got, expected, strict=True):
                assert a == b or (math.isnan(a) and math.isnan(b))
        params = get_experiment_parameters(self.exp.uid).to_dict()
        assert params.keys() == self.parameters.keys()
        for name, value in self.parameters.items():
            assert params[name] == value
            assert type(params[name]) is type(value)

    def teardown(self) -> None:
        self.exp.end()


LoggingModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("OPSML_HYPOTHESIS_EXAMPLES", "25")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_logging_api_matches_its_model = LoggingModel.TestCase
