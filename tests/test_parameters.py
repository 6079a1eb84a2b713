"""Logging parameters and reading them back with their Python types."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import math
import pathlib

import numpy as np
import pydantic
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


class Optimizer(enum.Enum):
    ADAM = "adam"
    SGD = "sgd"


class Size(enum.Enum):
    SMALL = object()


@dataclasses.dataclass
class Schedule:
    warmup: int
    decay: float | None


@dataclasses.dataclass
class TrainConfig:
    lr: float
    optimizer: Optimizer
    schedule: Schedule
    layers: list[int]
    output: pathlib.Path


class ModelConfig(pydantic.BaseModel):
    hidden: int
    dropout: float
    activation: str


def test_nested_configs_are_flattened_to_dotted_names(tmp_path: pathlib.Path) -> None:
    with start_experiment(name="nested") as exp:
        exp.log_parameters(
            {
                "optimizer": {"name": "adam", "lr": 1e-3, "betas": (0.9, 0.999)},
                "layers": [{"units": 64}, {"units": 32}],
                "seed": None,
                "empty_list": [],
                "empty_dict": {},
                7: "an int key",
            }
        )
        exp.log_parameter("data", {"path": tmp_path / "train.csv", "shuffle": True})
    params = get_experiment_parameters(exp.uid).to_dict()
    assert params == {
        "optimizer.name": "adam",
        "optimizer.lr": 1e-3,
        "optimizer.betas.0": 0.9,
        "optimizer.betas.1": 0.999,
        "layers.0.units": 64,
        "layers.1.units": 32,
        "seed": None,
        "empty_list": "[]",
        "empty_dict": "{}",
        "7": "an int key",
        "data.path": str(tmp_path / "train.csv"),
        "data.shuffle": True,
    }
    assert type(params["layers.0.units"]) is int


def test_dataclasses_pydantic_models_and_namespaces_log_their_fields(
    tmp_path: pathlib.Path,
) -> None:
    config = TrainConfig(
        lr=0.01,
        optimizer=Optimizer.SGD,
        schedule=Schedule(warmup=100, decay=None),
        layers=[128, 64],
        output=tmp_path,
    )
    model = ModelConfig(hidden=256, dropout=0.1, activation="gelu")
    args = argparse.ArgumentParser()
    args.add_argument("--epochs", type=int, default=3)
    args.add_argument("--amp", action="store_true")
    with start_experiment(name="records") as exp:
        exp.log_parameters(config)
        exp.log_parameter("model", model)
        exp.log_parameters(args.parse_args(["--amp"]))
        exp.log_parameter("size", Size.SMALL)
    params = get_experiment_parameters(exp.uid).to_dict()
    assert params == {
        "lr": 0.01,
        "optimizer": "sgd",
        "schedule.warmup": 100,
        "schedule.decay": None,
        "layers.0": 128,
        "layers.1": 64,
        "output": str(tmp_path),
        "model.hidden": 256,
        "model.dropout": 0.1,
        "model.activation": "gelu",
        "epochs": 3,
        "amp": True,
        # An enum whose value is not plain is logged by name.
        "size": "SMALL",
    }


def test_numpy_values_keep_their_kind() -> None:
    with start_experiment(name="numpy-kinds") as exp:
        exp.log_parameters(
            {
                "flag": np.bool_(True),
                "off": np.bool_(False),
                "count": np.int32(5),
                "unsigned": np.uint8(200),
                "scale": np.float16(0.5),
                "zero_d": np.array(2.5),
                "sizes": np.array([3, 4]),
                "name": np.str_("resnet"),
            }
        )
    params = get_experiment_parameters(exp.uid).to_dict()
    assert params == {
        "flag": True,
        "off": False,
        "count": 5,
        "unsigned": 200,
        "scale": 0.5,
        "zero_d": 2.5,
        "sizes.0": 3,
        "sizes.1": 4,
        "name": "resnet",
    }
    assert type(params["flag"]) is bool
    assert type(params["count"]) is int
    assert type(params["zero_d"]) is float


def test_none_reads_back_as_none_and_prints_as_none() -> None:
    with start_experiment(name="none") as exp:
        exp.log_parameter("checkpoint", None)
    [parameter] = get_experiment_parameters(exp.uid)
    assert parameter.value is None
    assert repr(parameter) == "Parameter(name='checkpoint', value=None)"
    assert Parameter("checkpoint", None) == parameter


def test_a_name_given_twice_in_one_call_is_refused_and_nothing_is_logged() -> None:
    with (
        start_experiment(name="twice") as exp,
        pytest.raises(ValueError, match=r'"a\.b" is given twice'),
    ):
        exp.log_parameters({"a.b": 1, "a": {"b": 2}})
    assert get_experiment_parameters(exp.uid).to_dict() == {}
