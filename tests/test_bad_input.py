"""Bad input is rejected with a clear error, and the experiment keeps working."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from opsml import (
    CardRegistry,
    ConfigurationError,
    Metric,
    Parameter,
    StoreError,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)

LONG_NAME = "n" * 256
HUGE = 10**400

Call = Callable[[Any], object]


def deeply_nested(levels: int) -> dict[str, object]:
    """A dict `levels` dicts deep."""
    nested: dict[str, object] = {"leaf": 1}
    for _ in range(levels):
        nested = {"d": nested}
    return nested


BAD_CALLS: list[tuple[str, Call, type[Exception], str]] = [
    ("value str", lambda e: e.log_metric("m", "abc"), TypeError, "'abc'"),
    ("value numeric str", lambda e: e.log_metric("m", "1.5"), TypeError, "'1.5'"),
    ("value None", lambda e: e.log_metric("m", None), TypeError, "None"),
    ("value list", lambda e: e.log_metric("m", [1]), TypeError, "[1]"),
    ("value too large", lambda e: e.log_metric("m", HUGE), ValueError, str(HUGE)[:50]),
    ("empty name", lambda e: e.log_metric("", 1.0), ValueError, "empty"),
    ("long name", lambda e: e.log_metric(LONG_NAME, 1.0), ValueError, LONG_NAME[:40]),
    ("control char", lambda e: e.log_metric("a\nb", 1.0), ValueError, "control"),
    ("name int", lambda e: e.log_metric(5, 1.0), TypeError, "5"),
    ("name None", lambda e: e.log_metric(None, 1.0), TypeError, "None"),
    ("step float", lambda e: e.log_metric("m", 1.0, step=1.5), TypeError, "1.5"),
    ("step str", lambda e: e.log_metric("m", 1.0, step="3"), TypeError, "'3'"),
    ("step bool", lambda e: e.log_metric("m", 1.0, step=True), TypeError, "True"),
    ("step 2**64", lambda e: e.log_metric("m", 1.0, step=2**64), ValueError, str(2**64)),
    ("step 2**63", lambda e: e.log_metric("m", 1.0, step=2**63), ValueError, str(2**63)),
    ("step -2**63-1", lambda e: e.log_metric("m", 1.0, step=-(2**63) - 1), ValueError, "-9223"),
    ("timestamp float", lambda e: e.log_metric("m", 1.0, timestamp=2.5), TypeError, "2.5"),
    ("created_at str", lambda e: e.log_metric("m", 1.0, created_at="now"), TypeError, "'now'"),
    ("created_at int", lambda e: e.log_metric("m", 1.0, created_at=17), TypeError, "17"),
    ("param set", lambda e: e.log_parameter("p", {1, 2}), TypeError, "{1, 2}"),
    ("param object", lambda e: e.log_parameter("p", object()), TypeError, "object"),
    ("param nested bytes", lambda e: e.log_parameter("p", {"a": [b"x"]}), TypeError, "p.a.0"),
    ("param dict key", lambda e: e.log_parameter("p", {(1, 2): 3}), TypeError, "(1, 2)"),
    ("param deep", lambda e: e.log_parameter("p", deeply_nested(40)), ValueError, "32 levels"),
    ("param huge array", lambda e: e.log_parameter("p", np.zeros(20_000)), ValueError, "20000"),
    ("param huge list", lambda e: e.log_parameter("p", [0] * 20_000), ValueError, "20000"),
    (
        "params huge dict",
        lambda e: e.log_parameters({f"k{i}": i for i in range(20_000)}),
        ValueError,
        "20000 entries",
    ),
    ("param bytes", lambda e: e.log_parameter("p", b"xy"), TypeError, "b'xy'"),
    ("param 2**64", lambda e: e.log_parameter("p", 2**64), ValueError, str(2**64)),
    ("param 2**63", lambda e: e.log_parameter("p", 2**63), ValueError, str(2**63)),
    ("param empty name", lambda e: e.log_parameter("", 1), ValueError, "empty"),
    ("param long name", lambda e: e.log_parameter(LONG_NAME, 1), ValueError, LONG_NAME[:40]),
    ("param name int", lambda e: e.log_parameter(3, 1), TypeError, "3"),
    ("params str", lambda e: e.log_parameters("lr=0.1"), TypeError, "'lr=0.1'"),
    ("params int", lambda e: e.log_parameters(5), TypeError, "5"),
    (
        "params dict with bad value",
        lambda e: e.log_parameters({"p": 1, "q": [b"9"]}),
        TypeError,
        "q.0",
    ),
    (
        "params list with non-Parameter",
        lambda e: e.log_parameters([Parameter("p", 1), ("q", 2)]),
        TypeError,
        "('q', 2)",
    ),
    (
        "metrics batch with non-Metric",
        lambda e: e.log_metrics([Metric("m", 5.0), Metric("m", 6.0), ("m", 7.0)]),
        TypeError,
        "('m', 7.0)",
    ),
    ("metrics not iterable", lambda e: e.log_metrics(5), TypeError, "int"),
    ("end status", lambda e: e.end(status="done"), ValueError, "done"),
    ("child bad tags", lambda e: e.start_experiment(name="c", tags="abc"), TypeError, "'abc'"),
]


@pytest.mark.parametrize(
    ("bad_call", "error", "fragment"),
    [pytest.param(call, error, fragment, id=name) for name, call, error, fragment in BAD_CALLS],
)
def test_bad_call_is_rejected_and_experiment_keeps_working(
    bad_call: Call, error: type[Exception], fragment: str
) -> None:
    with start_experiment(name="bad-input") as exp:
        exp.log_metric("m", 1.0, step=0)
        exp.log_parameter("before", 1)
        with pytest.raises(error) as info:
            bad_call(exp)
        assert fragment in str(info.value)
        exp.log_metric("m", 2.0, step=1)
        exp.log_parameter("after", 2)
        exp.log_metrics([Metric("m", 3.0, step=2)])

    metrics = get_experiment_metrics(exp.uid)
    assert [(m.name, m.step, m.value) for m in metrics] == [
        ("m", 0, 1.0),
        ("m", 1, 2.0),
        ("m", 2, 3.0),
    ]
    assert get_experiment_parameters(exp.uid).to_dict() == {"before": 1, "after": 2}
    assert exp.card.status == "completed"


@pytest.mark.parametrize(
    ("args", "error", "fragment"),
    [
        pytest.param(("m", "abc"), TypeError, "'abc'", id="value"),
        pytest.param(("", 1.0), ValueError, "empty", id="empty name"),
        pytest.param((LONG_NAME, 1.0), ValueError, "256", id="long name"),
        pytest.param((1, 1.0), TypeError, "1", id="name int"),
    ],
)
def test_bad_metric_object(args: tuple[object, ...], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        Metric(*args)
    assert fragment in str(info.value)


def test_bad_metric_keyword_arguments() -> None:
    with pytest.raises(TypeError, match=r"1\.5"):
        Metric("m", 1.0, step=1.5)
    with pytest.raises(ValueError, match=str(2**64)):
        Metric("m", 1.0, timestamp=2**64)
    with pytest.raises(TypeError, match="yesterday"):
        Metric("m", 1.0, created_at="yesterday")


def test_bad_parameter_object() -> None:
    with pytest.raises(TypeError, match=r"\[1\]"):
        Parameter("p", [1])
    with pytest.raises(ValueError, match="empty"):
        Parameter("", 1)
    with pytest.raises(ValueError, match=str(2**70)):
        Parameter("p", 2**70)


def test_text_parameters_with_nul_are_refused_and_earlier_ones_kept() -> None:
    with start_experiment(name="nul") as exp:
        exp.log_parameter("lr", 0.1)
        with pytest.raises(ValueError, match='"optimizer"'):
            exp.log_parameter("optimizer", "ad\x00am")
        with pytest.raises(ValueError, match="NUL"):
            exp.log_parameters({"batch": 32, "note": "\x00"})
    stored = {p.name: p.value for p in get_experiment_parameters(exp.uid)}
    assert stored == {"lr": 0.1}


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        pytest.param({"tags": "abc"}, TypeError, "'abc'", id="tags str"),
        pytest.param({"tags": 5}, TypeError, "5", id="tags int"),
        pytest.param({"tags": ["ok", 7]}, TypeError, "7", id="tag int"),
        pytest.param({"tags": [""]}, ValueError, "empty", id="tag empty"),
        pytest.param({"name": ""}, ValueError, "empty", id="name empty"),
        pytest.param({"name": LONG_NAME}, ValueError, LONG_NAME[:40], id="name long"),
        pytest.param({"space": ""}, ValueError, "empty", id="space empty"),
        pytest.param({"space": "a\tb"}, ValueError, "control", id="space control"),
    ],
)
def test_bad_start_arguments(
    kwargs: dict[str, object], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        start_experiment(**kwargs)
    assert fragment in str(info.value)
    assert len(CardRegistry("experiment").list_cards()) == 0
    with start_experiment(name="good") as exp:
        exp.log_metric("m", 1.0)
    assert exp.card.version == "0.1.0"
    assert len(CardRegistry("experiment").list_cards()) == 1


def test_name_of_exactly_255_characters_is_accepted() -> None:
    name = "x" * 255
    with start_experiment(name="limit") as exp:
        exp.log_metric(name, 1.0)
        exp.log_parameter(name, 1)
    assert get_experiment_metrics(exp.uid).names == [name]
    assert get_experiment_parameters(exp.uid).to_dict() == {name: 1}


class BrokenFloat:
    def __float__(self) -> float:
        raise RuntimeError("the sensor is offline")


def test_an_error_of_a_values_own_float_is_chained_not_hidden() -> None:
    with start_experiment(name="broken-float") as exp:
        with pytest.raises(ValueError, match="raised RuntimeError") as info:
            exp.log_metric("temperature", BrokenFloat(), step=0)
        assert isinstance(info.value.__cause__, RuntimeError)
        assert "the sensor is offline" in str(info.value.__cause__)
        exp.log_metric("temperature", 21.5, step=1)


def test_a_directory_given_to_log_artifact_is_named_a_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with start_experiment(name="dir-as-file") as exp:
        for path in (".", str(tmp_path), "./"):
            with pytest.raises(IsADirectoryError, match="use log_artifacts"):
                exp.log_artifact(path)


def test_a_parent_segment_inside_the_root_is_resolved_not_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "w.txt").write_text("w")
    with start_experiment(name="dotdot") as exp:
        exp.log_artifact(tmp_path / "w.txt", "a/../b.txt")
        with pytest.raises(ValueError, match="escapes the artifact root"):
            exp.log_artifact(tmp_path / "w.txt", "a/../../b.txt")
    assert "b.txt" in exp.card.list_artifacts()


@pytest.mark.parametrize(
    ("name", "character"),
    [("exp\u202etxt.exe", "\\u{202e}"), ("res\u200bnet", "\\u{200b}")],
)
def test_look_alike_names_are_refused(name: str, character: str) -> None:
    with pytest.raises(ValueError, match=re.escape(character)):
        start_experiment(name=name)
    with pytest.raises(ValueError, match="no visible character"):
        start_experiment(space="\u3000 ")


def test_a_server_that_does_not_answer_is_not_said_to_refuse(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # An address of its own: a process keeps one store per URI, with the user it first had.
    monkeypatch.setenv("OPSML_TRACKING_URI", "http://127.0.0.2:1")
    monkeypatch.setenv("OPSML_ENCRYPT_SECRET", "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE=")
    monkeypatch.delenv("OPSML_USERNAME", raising=False)
    monkeypatch.delenv("OPSML_PASSWORD", raising=False)
    with pytest.raises(StoreError) as info:
        CardRegistry("experiment").list_cards()
    assert "cannot be reached" in str(info.value)
    # Without a user a run cannot wait for the server either: it would refuse it later.
    with pytest.raises(StoreError) as started:
        start_experiment(name="nobody-home")
    assert "cannot be reached" in str(started.value)
    assert "401" not in str(info.value)


@pytest.mark.parametrize("uri", ["sqlite:/abs/x.db", "garbage", "postgress:db"])
def test_a_mistyped_tracking_uri_is_refused_not_a_new_store(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSML_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape(uri)):
        start_experiment(name="typo")
    assert list(tmp_path.iterdir()) == []
