"""Logging metrics and reading them back."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from opsml import Metric, Metrics, get_experiment_metrics, start_experiment


class FloatLike:
    def __float__(self) -> float:
        return 2.5


def logged(*values: object) -> list[float]:
    with start_experiment(name="values") as exp:
        for step, value in enumerate(values):
            exp.log_metric("m", value, step=step)
    return [m.value for m in get_experiment_metrics(exp.uid)]


def test_numbers_of_every_kind_are_accepted() -> None:
    values = logged(
        3,
        0.25,
        -7,
        2**53,
        np.float32(0.5),
        np.float64(1.25),
        np.int64(-12),
        np.int32(9),
        FloatLike(),
    )
    assert values == [3.0, 0.25, -7.0, float(2**53), 0.5, 1.25, -12.0, 9.0, 2.5]
    assert all(type(v) is float for v in values)


def test_bool_is_logged_as_one_and_zero() -> None:
    assert logged(True, False) == [1.0, 0.0]


def test_float32_keeps_its_exact_value() -> None:
    value = np.float32(0.1)
    assert logged(value) == [float(value)]


def test_nan_and_infinities_round_trip() -> None:
    nan, inf, minus_inf = logged(float("nan"), float("inf"), float("-inf"))
    assert math.isnan(nan)
    assert math.isinf(inf)
    assert inf > 0
    assert math.isinf(minus_inf)
    assert minus_inf < 0


def test_extreme_floats_round_trip() -> None:
    values = [5e-324, 1.7976931348623157e308, -0.0, 1 / 3]
    back = logged(*values)
    assert back == values
    assert math.copysign(1.0, back[2]) == -1.0


def test_step_and_timestamp() -> None:
    with start_experiment(name="steps") as exp:
        exp.log_metric("no_step", 1.0)
        exp.log_metric("with_step", 2.0, step=7, timestamp=1_700_000_000_123)
        exp.log_metric("big", 3.0, step=2**63 - 1, timestamp=-(2**63))
        exp.log_metric("explicit_none", 4.0, step=None, timestamp=None)
        exp.log_metric("numpy_step", 5.0, step=np.int64(4))
    by_name = {m.name: m for m in get_experiment_metrics(exp.uid)}
    assert by_name["no_step"].step is None
    assert by_name["no_step"].timestamp is None
    assert by_name["with_step"].step == 7
    assert by_name["with_step"].timestamp == 1_700_000_000_123
    assert by_name["big"].step == 2**63 - 1
    assert by_name["big"].timestamp == -(2**63)
    assert by_name["explicit_none"].step is None
    assert by_name["numpy_step"].step == 4


def test_created_at_round_trips() -> None:
    utc = datetime(2024, 2, 29, 13, 14, 15, 123456, tzinfo=timezone.utc)
    plus_two = datetime(2023, 7, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2)))
    far_future = datetime(2500, 1, 1, 0, 0, 0, 999999, tzinfo=timezone.utc)
    naive = datetime(2022, 5, 6, 7, 8, 9, 123)
    with start_experiment(name="times") as exp:
        exp.log_metric("utc", 1.0, created_at=utc)
        exp.log_metric("plus_two", 1.0, created_at=plus_two)
        exp.log_metric("far_future", 1.0, created_at=far_future)
        exp.log_metric("naive_local", 1.0, created_at=naive)
        exp.log_metrics([Metric("batched", 1.0, created_at=utc)])
    by_name = {m.name: m.created_at for m in get_experiment_metrics(exp.uid)}
    assert by_name == {
        "utc": utc,
        "plus_two": plus_two,
        "far_future": far_future,
        "naive_local": naive.astimezone(),
        "batched": utc,
    }
    assert all(t.tzinfo is not None for t in by_name.values())


def test_default_created_at_is_now() -> None:
    before = datetime.now(timezone.utc)
    with start_experiment(name="now") as exp:
        exp.log_metric("a", 1.0)
        exp.log_metrics([Metric("b", 1.0)])
    after = datetime.now(timezone.utc)
    slack = timedelta(seconds=1)
    for m in get_experiment_metrics(exp.uid):
        assert before - slack <= m.created_at <= after + slack


def test_points_are_ordered_by_name_step_then_insertion() -> None:
    with start_experiment(name="order") as exp:
        exp.log_metric("loss", 30.0, step=3)
        exp.log_metric("loss", 10.0, step=1)
        exp.log_metric("acc", 0.5, step=9)
        exp.log_metric("loss", 20.0, step=2)
        exp.log_metric("loss", 11.0, step=1)
        exp.log_metric("acc", 0.4, step=0)
    metrics = get_experiment_metrics(exp.uid)
    assert [(m.name, m.step, m.value) for m in metrics] == [
        ("acc", 0, 0.4),
        ("acc", 9, 0.5),
        ("loss", 1, 10.0),
        ("loss", 1, 11.0),
        ("loss", 2, 20.0),
        ("loss", 3, 30.0),
    ]
    assert metrics.names == ["acc", "loss"]


def test_repeated_steps_keep_logging_order() -> None:
    with start_experiment(name="repeat") as exp:
        for i in range(50):
            exp.log_metric("m", float(i), step=5)
    assert [m.value for m in get_experiment_metrics(exp.uid)] == [float(i) for i in range(50)]


def test_names_filter() -> None:
    with start_experiment(name="filter") as exp:
        for step in range(3):
            exp.log_metric("loss", 1.0, step=step)
            exp.log_metric("acc", 0.5, step=step)
            exp.log_metric("lr", 0.1, step=step)
    one = get_experiment_metrics(exp.uid, names="acc")
    assert {m.name for m in one} == {"acc"}
    assert len(one) == 3
    two = get_experiment_metrics(exp.uid, names=["loss", "lr"])
    assert [m.name for m in two] == ["loss"] * 3 + ["lr"] * 3
    assert two.names == ["loss", "lr"]
    assert len(get_experiment_metrics(exp.uid, names=["missing"])) == 0
    assert len(get_experiment_metrics(exp.uid)) == 9
    assert len(exp.card.get_metrics(names="lr")) == 3


def test_module_function_and_card_agree() -> None:
    with start_experiment(name="agree") as exp:
        for step in range(10):
            exp.log_metric("a", step * 0.5, step=step, timestamp=step * 100)
            exp.log_metric("b", -step, step=step)
        running_card = exp.card
        assert list(running_card.get_metrics()) == list(get_experiment_metrics(exp.uid))
    from_function = list(get_experiment_metrics(exp.uid))
    assert len(from_function) == 20
    assert list(exp.card.get_metrics()) == from_function
    assert list(exp.card.get_metrics(names=["b"])) == from_function[10:]


def test_read_your_writes_without_flush() -> None:
    with start_experiment(name="ryw") as exp:
        for step in range(100):
            exp.log_metric("m", float(step), step=step)
        assert len(get_experiment_metrics(exp.uid)) == 100
        exp.log_metric("m", 100.0, step=100)
        assert len(get_experiment_metrics(exp.uid)) == 101


def make_metrics(n: int) -> Metrics:
    with start_experiment(name="seq") as exp:
        for i in range(n):
            exp.log_metric("m", float(i), step=i)
    return get_experiment_metrics(exp.uid)


def test_metrics_is_a_sequence() -> None:
    metrics = make_metrics(5)
    assert len(metrics) == 5
    assert isinstance(metrics[0], Metric)
    assert metrics[0].step == 0
    assert metrics[4].step == 4
    assert metrics[-1].step == 4
    assert metrics[-5].step == 0
    with pytest.raises(IndexError):
        metrics[5]
    with pytest.raises(IndexError):
        metrics[-6]
    with pytest.raises(TypeError):
        metrics["m"]
    assert [m.step for m in metrics[1:3]] == [1, 2]
    assert [m.step for m in metrics[::-1]] == [4, 3, 2, 1, 0]
    assert [m.step for m in metrics[::2]] == [0, 2, 4]
    assert metrics[10:] == []
    assert [m.value for m in metrics] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [m.value for m in metrics] == [m.value for m in metrics]  # iterates again
    it = iter(metrics)
    assert next(it).step == 0
    assert next(it).step == 1


def test_empty_metrics() -> None:
    with start_experiment(name="empty") as exp:
        pass
    metrics = get_experiment_metrics(exp.uid)
    assert len(metrics) == 0
    assert list(metrics) == []
    assert metrics.names == []
    with pytest.raises(IndexError):
        metrics[0]
    assert "0 points" in str(metrics)


def test_metrics_str_and_repr() -> None:
    with start_experiment(name="print") as exp:
        exp.log_metric("train/loss", 0.125, step=3)
        exp.log_metric("acc", float("nan"))
    metrics = get_experiment_metrics(exp.uid)
    text = str(metrics)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "step", "value"]
    assert set(lines[1]) == {"─"}, "a rule under the header"
    assert lines[2].split() == ["acc", "-", "nan"]
    assert lines[3].split() == ["train/loss", "3", "0.125"]
    # Numbers are right-aligned: steps and values end in the header's columns.
    assert lines[3].index("3") + 1 == lines[0].index("step") + len("step")
    assert lines[-1] == "2 points"
    assert repr(metrics) == "Metrics(2 points of acc, train/loss)"


def test_long_metrics_str_is_abbreviated() -> None:
    text = str(make_metrics(100))
    assert "80 more points" in text
    assert text.endswith("100 points")
    assert len(text.splitlines()) < 30


def test_log_metrics_batch_of_10000() -> None:
    batch = [Metric("loss", i / 10_000, step=i, timestamp=i * 2) for i in range(10_000)]
    batch.append(Metric("acc", 0.9, step=0))
    with start_experiment(name="batch") as exp:
        exp.log_metrics(batch)
    metrics = get_experiment_metrics(exp.uid)
    assert len(metrics) == 10_001
    assert metrics[0] == batch[-1]
    assert list(metrics[1:]) == batch[:-1]


def test_log_metrics_accepts_any_iterable() -> None:
    with start_experiment(name="gen") as exp:
        exp.log_metrics(Metric("m", float(i), step=i) for i in range(10))
        exp.log_metrics(())
    assert [m.step for m in get_experiment_metrics(exp.uid)] == list(range(10))


def test_flush_makes_points_visible_to_another_process(run_python) -> None:
    with start_experiment(name="durable") as exp:
        for step in range(5000):
            exp.log_metric("m", float(step), step=step)
        exp.log_metric("other", -1.0)
        exp.flush()
        proc = run_python(
            f"""
            from opsml import get_experiment_metrics
            metrics = get_experiment_metrics({exp.uid!r})
            print(len(metrics), sum(m.value for m in metrics))
            """
        )
    count, total = proc.stdout.split()
    assert int(count) == 5001
    assert float(total) == sum(range(5000)) - 1.0


def test_points_are_stored_within_a_second_without_flush(run_python) -> None:
    with start_experiment(name="background") as exp:
        for step in range(10):
            exp.log_metric("m", float(step), step=step)
        time.sleep(1.0)  # points wait in memory at most a moment (100 ms)
        proc = run_python(
            f"""
            from opsml import get_experiment_metrics
            print(len(get_experiment_metrics({exp.uid!r})))
            """
        )
    assert int(proc.stdout) == 10


def test_more_points_than_the_queue_holds() -> None:
    n = 300_000  # beyond the 262,144 points the logging queue holds
    with start_experiment(name="overflow") as exp:
        for step in range(n):
            exp.log_metric("single", 1.0, step=step)
        exp.log_metrics([Metric("batch", 2.0, step=step) for step in range(n)])
    single = get_experiment_metrics(exp.uid, names="single")
    batch = get_experiment_metrics(exp.uid, names="batch")
    assert len(single) == n
    assert len(batch) == n
    assert single[-1].step == n - 1
    assert batch[-1].step == n - 1


def test_metric_object_properties() -> None:
    created = datetime(2024, 1, 1, tzinfo=timezone.utc)
    m = Metric("loss", 0.5, step=3, timestamp=99, created_at=created)
    assert m.name == "loss"
    assert m.value == 0.5
    assert m.step == 3
    assert m.timestamp == 99
    assert m.created_at == created
    bare = Metric("acc", 1)
    assert bare.value == 1.0
    assert bare.step is None
    assert bare.timestamp is None
    assert repr(m) == "Metric(name='loss', value=0.5, step=3, timestamp=99)"
    assert m == Metric("loss", 0.5, step=3, timestamp=99, created_at=created)
    assert m != Metric("loss", 0.6, step=3, timestamp=99, created_at=created)


@pytest.mark.parametrize("attribute", ["name", "value", "step", "timestamp", "created_at"])
def test_metric_properties_are_read_only(attribute: str) -> None:
    m = Metric("loss", 0.5, step=1)
    with pytest.raises(AttributeError):
        setattr(m, attribute, 1)
    with start_experiment(name="ro") as exp:
        exp.log_metric("loss", 0.5, step=1)
    read_back = get_experiment_metrics(exp.uid)[0]
    with pytest.raises(AttributeError):
        setattr(read_back, attribute, 1)
    assert read_back.value == 0.5
    assert read_back.step == 1


@pytest.mark.parametrize(
    ("name", "value", "step"),
    [("loss", 0.5, 3), ("it's", 1e20, None), ('say "x"', -1e-7, -2), ("naïve", 7.0, 0)],
)
def test_metric_repr_evaluates_back(name: str, value: float, step: int | None) -> None:
    m = Metric(name, value, step=step, timestamp=5)
    again = eval(repr(m), {"Metric": Metric})
    assert (again.name, again.value, again.step, again.timestamp) == (name, value, step, 5)


def test_single_point_is_singular() -> None:
    metrics = make_metrics(1)
    assert repr(metrics) == "Metrics(1 point of m)"
    assert str(metrics).endswith("\n1 point")
