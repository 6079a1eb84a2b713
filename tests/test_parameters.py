"""Logging parameters and reading them back with their Python types."""

from __future__ import annotations

import math

import numpy as np
import pytest
from opsml import Parameter, Parameters, get_experiment_parameters, start_experiment


def test_values_keep_their_types() -> None:
    with start_experiment(name="types") as exp:
        exp.log_parameter("i", 42)
        exp.log_parameter("f", 0.001)
        exp.log_parameter("whole_float", 3.0)
        exp.log_parameter("s", "adam")
        exp.log_parameter("t", True)
        exp.log_parameter("false", False)
        exp.log_parameter("zero", 0)
        exp.log_parameter("empty", "")
        exp.log_parameter("unicode", "η=0.1 ✓")
    params = get_experiment_parameters(exp.uid).to_dict()
    assert params == {
        "i": 42,
        "f": 0.001,
        "whole_float": 3.0,
        "s": "adam",
        "t": True,
        "false": False,
        "zero": 0,
        "empty": "",
        "unicode": "η=0.1 ✓",
    }
    assert type(params["i"]) is int
    assert type(params["zero"]) is int
    assert type(params["f"]) is float
    assert type(params["whole_float"]) is float
    assert type(params["s"]) is str
    assert type(params["t"]) is bool
    assert type(params["false"]) is bool


def test_int_extremes_round_trip() -> None:
    with start_experiment(name="ints") as exp:
        exp.log_parameters({"max": 2**63 - 1, "min": -(2**63)})
    assert get_experiment_parameters(exp.uid).to_dict() == {"max": 2**63 - 1, "min": -(2**63)}


def test_numpy_scalars() -> None:
    with start_experiment(name="numpy") as exp:
        exp.log_parameters({"n": np.int64(7), "x": np.float64(0.5), "y": np.float32(0.25)})
    params = get_experiment_parameters(exp.uid).to_dict()
    assert params == {"n": 7, "x": 0.5, "y": 0.25}
    assert type(params["n"]) is int
    assert type(params["x"]) is float
    assert type(params["y"]) is float


def test_special_floats_round_trip() -> None:
    with start_experiment(name="special") as exp:
        exp.log_parameters({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")})
    params = get_experiment_parameters(exp.uid).to_dict()
    assert math.isnan(params["nan"])
    assert params["inf"] == float("inf")
    assert params["ninf"] == float("-inf")


def test_log_parameters_with_dict_and_list() -> None:
    with start_experiment(name="batch") as exp:
        exp.log_parameters({"lr": 0.1, "epochs": 10})
        exp.log_parameters([Parameter("optimizer", "sgd"), Parameter("nesterov", True)])
        exp.log_parameters({})
        exp.log_parameters([])
    assert get_experiment_parameters(exp.uid).to_dict() == {
        "lr": 0.1,
        "epochs": 10,
        "optimizer": "sgd",
        "nesterov": True,
    }


def test_logging_a_name_again_replaces_it_and_keeps_its_place() -> None:
    with start_experiment(name="replace") as exp:
        exp.log_parameter("a", 1)
        exp.log_parameter("b", 2)
        exp.log_parameter("c", 3)
        exp.log_parameter("a", "one")
        exp.log_parameters({"b": 2.5})
        exp.log_parameters([Parameter("c", False)])
    params = get_experiment_parameters(exp.uid)
    assert len(params) == 3
    assert [p.name for p in params] == ["a", "b", "c"]
    assert params.to_dict() == {"a": "one", "b": 2.5, "c": False}
    assert type(params.to_dict()["c"]) is bool


def test_order_is_first_logged() -> None:
    names = ["zeta", "alpha", "mid", "beta", "aa"]
    with start_experiment(name="order") as exp:
        for i, name in enumerate(names):
            exp.log_parameter(name, i)
    params = get_experiment_parameters(exp.uid)
    assert [p.name for p in params] == names
    assert list(params.to_dict()) == names


def test_names_filter() -> None:
    with start_experiment(name="filter") as exp:
        exp.log_parameters({"lr": 0.1, "epochs": 3, "seed": 7})
    assert get_experiment_parameters(exp.uid, names="seed").to_dict() == {"seed": 7}
    assert get_experiment_parameters(exp.uid, names=["lr", "seed"]).to_dict() == {
        "lr": 0.1,
        "seed": 7,
    }
    assert len(get_experiment_parameters(exp.uid, names=["missing"])) == 0
    assert exp.card.get_parameters(names=["epochs"]).to_dict() == {"epochs": 3}
    assert exp.card.get_parameters().to_dict() == get_experiment_parameters(exp.uid).to_dict()


def test_parameters_is_a_sequence() -> None:
    with start_experiment(name="seq") as exp:
        exp.log_parameters({"lr": 0.1, "optimizer": "adam", "amsgrad": False})
    params = get_experiment_parameters(exp.uid)
    assert isinstance(params, Parameters)
    assert len(params) == 3
    assert params[0] == Parameter("lr", 0.1)
    assert params[-1] == Parameter("amsgrad", False)
    with pytest.raises(IndexError):
        params[3]
    with pytest.raises(IndexError):
        params[-4]
    assert [p.value for p in params] == [0.1, "adam", False]
    assert repr(params) == "Parameters(lr, optimizer, amsgrad)"
    text = str(params)
    assert "optimizer" in text
    assert repr("adam") in text
    assert "False" in text
    assert text.endswith("3 parameters")


def test_parameter_object() -> None:
    p = Parameter("depth", 12)
    assert p.name == "depth"
    assert p.value == 12
    assert type(Parameter("flag", True).value) is bool
    assert repr(p) == "Parameter(name='depth', value=12)"
    assert p == Parameter("depth", 12)
    assert p != Parameter("depth", 13)
    with pytest.raises(AttributeError):
        p.value = 13  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.name = "width"  # type: ignore[misc]


@pytest.mark.parametrize(
    "value",
    [
        "adam",
        "it's",
        'say "hi"',
        "both ' and \"",
        "naïve ✓",
        "tab\tand\\",
        0.1,
        1e20,
        1e-7,
        -3,
        True,
    ],
)
def test_parameter_repr_evaluates_back(value: object) -> None:
    p = Parameter("p", value)
    again = eval(repr(p), {"Parameter": Parameter})
    assert again == p
    assert type(again.value) is type(value)


def test_single_parameter_str_is_singular() -> None:
    with start_experiment(name="one") as exp:
        exp.log_parameter("lr", 0.1)
    assert str(get_experiment_parameters(exp.uid)).endswith("\n1 parameter")
