"""Columnar read-back: Arrow, pandas, polars and numpy, value for value, and
step ranges and downsampling on read."""

from __future__ import annotations

import math
from datetime import timezone

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from opsml import CardRegistry, get_experiment_metrics, start_experiment

LOGGED = [
    ("loss", 5, 0.5, None),
    ("loss", 1, math.nan, 17),
    ("loss", 3, math.inf, None),
    ("acc", None, 0.25, None),
    ("loss", 2, -1.0, None),
    ("acc", 0, -math.inf, 3),
]


@pytest.fixture
def uid() -> str:
    with start_experiment(name="columnar") as exp:
        for name, step, value, timestamp in LOGGED:
            exp.log_metric(name, value, step=step, timestamp=timestamp)
    return exp.uid


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def expected_rows() -> list[tuple[str, int | None, float, int | None]]:
    # Read-back order: by name, then step (points without one first), then logging order.
    return sorted(LOGGED, key=lambda r: (r[0], r[1] is not None, r[1] or 0))


def test_arrow_table_holds_every_point_value_for_value(uid: str) -> None:
    metrics = get_experiment_metrics(uid)
    table = metrics.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["name", "step", "value", "timestamp", "created_at"]
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    rows = table.to_pylist()
    assert len(rows) == len(LOGGED)
    for row, (name, step, value, timestamp), metric in zip(
        rows, expected_rows(), metrics, strict=True
    ):
        assert (row["name"], row["step"], row["timestamp"]) == (name, step, timestamp)
        assert same(row["value"], value)
        assert row["created_at"] == metric.created_at


def test_the_pycapsule_stream_is_read_directly_by_pyarrow(uid: str) -> None:
    metrics = get_experiment_metrics(uid)
    reader = pa.RecordBatchReader.from_stream(metrics)
    assert reader.read_all().num_rows == len(LOGGED)


def test_pandas_frame_matches_the_points(uid: str) -> None:
    frame = get_experiment_metrics(uid).to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["name"].astype(str)) == [r[0] for r in expected_rows()]
    # Integers stay integers where a point lacks one: pandas' nullable Int64.
    assert frame["step"].dtype == pd.Int64Dtype()
    assert frame["timestamp"].dtype == pd.Int64Dtype()
    steps = [None if pd.isna(s) else s for s in frame["step"]]
    assert steps == [r[1] for r in expected_rows()]
    assert all(type(s) is int for s in frame["step"].dropna().tolist())
    for got, (_, _, value, _) in zip(frame["value"], expected_rows(), strict=True):
        assert same(got, value)
    assert frame["created_at"].dt.tz is not None
    assert str(frame["created_at"].dt.tz) in {"UTC", str(timezone.utc)}


def test_polars_frame_matches_the_points(uid: str) -> None:
    frame = get_experiment_metrics(uid).to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == len(LOGGED)
    assert frame["name"].cast(pl.String).to_list() == [r[0] for r in expected_rows()]
    assert frame["step"].to_list() == [r[1] for r in expected_rows()]
    assert frame["timestamp"].to_list() == [r[3] for r in expected_rows()]
    for got, (_, _, value, _) in zip(frame["value"].to_list(), expected_rows(), strict=True):
        assert same(got, value)


def test_numpy_arrays_of_one_metric(uid: str) -> None:
    metrics = get_experiment_metrics(uid)
    steps, values = metrics.to_numpy("loss")
    assert steps.dtype == np.int64
    assert steps.tolist() == [1, 2, 3, 5]
    assert math.isnan(values[0])
    assert values[1:].tolist() == [-1.0, math.inf, 0.5]
    # A metric with a point without a step gives integer steps, that one masked.
    steps, values = metrics.to_numpy("acc")
    assert isinstance(steps, np.ma.MaskedArray)
    assert steps.dtype == np.int64
    assert steps.mask.tolist() == [True, False]
    assert steps.tolist() == [None, 0]
    assert values.tolist() == [0.25, -math.inf]
    values[0] = 1.0  # the arrays are the caller's to change
    with pytest.raises(KeyError, match="nope"):
        metrics.to_numpy("nope")


def test_step_ranges_and_downsampling_on_read() -> None:
    with start_experiment(name="long") as exp:
        for step in range(100_000):
            value = 50.0 if step == 77_777 else math.sin(step / 500)
            exp.log_metric("signal", value, step=step)
        exp.log_metric("short", 1.0, step=0)
    window = get_experiment_metrics(exp.uid, "signal", steps=(1000, 2000))
    assert [m.step for m in window] == list(range(1000, 2000))
    thin = get_experiment_metrics(exp.uid, max_points=500)
    signal = [m for m in thin if m.name == "signal"]
    assert len(signal) == 500
    assert (signal[0].step, signal[-1].step) == (0, 99_999)
    assert max(m.value for m in signal) == 50.0
    assert min(m.value for m in signal) == pytest.approx(-1.0, abs=1e-3)
    assert [m.step for m in thin if m.name == "short"] == [0]
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    assert len(card.get_metrics("signal", steps=(0, 10), max_points=5)) == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": (10, 5)}, ValueError, "start is after stop"),
        ({"steps": "0:10"}, TypeError, "steps must be a \\(start, stop\\) pair"),
        ({"max_points": 1}, ValueError, "max_points=1"),
        ({"max_points": "many"}, TypeError, "max_points must be an int"),
    ],
)
def test_bad_selections_are_refused_naming_the_value(
    uid: str, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        get_experiment_metrics(uid, **kwargs)  # type: ignore[arg-type]
