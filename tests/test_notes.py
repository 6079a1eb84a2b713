"""What a run is for and how it scored in the end: `exp.set_description(...)` and
`exp.log_eval_metrics(...)`, kept on the card beside the git state, the code capture and the
hardware summary that other threads write."""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import opsml
import pytest
from opsml import CardRegistry, EvalMetrics, start_experiment
from opsml.experiment import ExperimentEvalMetrics


def stored_card(uid: str) -> opsml.ExperimentCard:
    return CardRegistry("experiment").load_card(uid=uid)


def test_a_description_is_stored_at_once_and_survives_capture_and_hardware(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('training')\n")
    with start_experiment(
        name="described", code_dir=tmp_path, log_hardware=True, hardware_interval=0.1
    ) as exp:
        # Set before the code capture and the first hardware sample are stored, which
        # write the card's metadata from other threads.
        exp.set_description("Baseline.\n\nSame data as last week, lr halved.")
        assert stored_card(exp.uid).description == "Baseline.\n\nSame data as last week, lr halved."
        exp.log_eval_metrics({"val.auc": 0.91})
        time.sleep(0.5)
        exp.log_metric("loss", 0.3, step=1)
    card = stored_card(exp.uid)
    assert card.description == "Baseline.\n\nSame data as last week, lr halved."
    assert card.eval_metrics.to_dict() == {"val.auc": 0.91}
    assert card.code is not None
    assert card.code.files == 1
    assert card.hardware_summary is not None
    assert exp.card.description == card.description


def test_the_description_can_be_changed_removed_and_edited_later() -> None:
    with start_experiment(name="renoted") as exp:
        exp.set_description("first try")
        exp.set_description("second try")
        assert exp.card.description == "second try"
        with pytest.raises(AttributeError, match=r"exp\.set_description"):
            exp.card.description = "lost"
        exp.set_description("")
        assert stored_card(exp.uid).description is None
    # A card loaded from the registry is the one to change, with update_card.
    card = stored_card(exp.uid)
    card.description = "Reviewed: the loss spike at step 40 is the bad shard."
    CardRegistry("experiment").update_card(card)
    assert stored_card(exp.uid).description == card.description


def test_bad_descriptions_are_refused_and_the_old_one_kept() -> None:
    with start_experiment(name="guarded") as exp:
        exp.set_description("kept")
        with pytest.raises(ValueError, match="16385 characters"):
            exp.set_description("x" * 16_385)
        with pytest.raises(ValueError, match=r"character '\\u\{1b\}'"):
            exp.set_description("\x1b[31mred\x1b[0m")
        with pytest.raises(ValueError, match="202e"):
            exp.set_description("looks\u202eharmless")
        with pytest.raises(TypeError):
            exp.set_description(None)  # type: ignore[arg-type]
        card = stored_card(exp.uid)
        with pytest.raises(ValueError, match=r"character '\\0'"):
            card.description = "\x00"
    assert stored_card(exp.uid).description == "kept"


def test_eval_metrics_as_opsml_3_logs_them() -> None:
    with start_experiment(name="evaluated") as exp:
        exp.log_metric("loss", 0.5, step=0)
        exp.log_eval_metrics(ExperimentEvalMetrics({"mape": 0.1}))
        assert exp.card.eval_metrics["mape"] == 0.1
    loaded = stored_card(exp.uid)
    assert loaded.eval_metrics["mape"] == exp.card.eval_metrics["mape"] == 0.1
    # Step metrics and evaluation metrics stay apart.
    assert "mape" not in loaded.metric_summary()
    assert "loss" not in loaded.eval_metrics


def test_eval_metrics_merge_take_numbers_of_any_kind_and_read_like_a_dict() -> None:
    with start_experiment(name="scored") as exp:
        exp.log_eval_metrics({"test.auc": np.float32(0.75), "test.n": 1000, "diverged": math.nan})
        exp.log_eval_metrics(EvalMetrics({"test.auc": 0.875, "test.rmse": math.inf}))
    metrics = stored_card(exp.uid).eval_metrics
    assert list(metrics) == ["diverged", "test.auc", "test.n", "test.rmse"]
    assert len(metrics) == 4
    assert "test.auc" in metrics
    assert "nope" not in metrics
    assert metrics["test.auc"] == 0.875
    assert metrics["test.n"] == 1000.0
    assert math.isnan(metrics["diverged"])
    assert metrics["test.rmse"] == math.inf
    # NaN is never equal to itself: the two views are compared as text.
    assert repr(dict(metrics.items())) == repr(metrics.to_dict())
    assert metrics == EvalMetrics(metrics.to_dict())
    assert repr(EvalMetrics({"auc": 0.5})) == "EvalMetrics({'auc': 0.5})"
    with pytest.raises(KeyError, match='no evaluation metric "accuracy"; the run has diverged'):
        metrics["accuracy"]


def test_eval_metrics_can_be_logged_after_the_run_ends() -> None:
    with start_experiment(name="trained") as exp:
        exp.log_metric("loss", 0.2, step=9)
    # Evaluation on the test set often comes after training.
    exp.log_eval_metrics({"test.accuracy": 0.93})
    card = stored_card(exp.uid)
    assert card.status == "completed"
    assert card.eval_metrics.to_dict() == {"test.accuracy": 0.93}


def test_bad_eval_metrics_name_the_value_and_keep_what_was_logged() -> None:
    with start_experiment(name="refused") as exp:
        exp.log_eval_metrics({"kept": 1.0})
        with pytest.raises(TypeError, match=r"'high'"):
            exp.log_eval_metrics({"auc": "high"})
        with pytest.raises(ValueError, match="must not be empty"):
            exp.log_eval_metrics({"": 1.0})
        with pytest.raises(TypeError, match="dict of names to numbers"):
            exp.log_eval_metrics([("auc", 0.5)])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="1001 evaluation metrics"):
            exp.log_eval_metrics({f"m{i}": float(i) for i in range(1001)})
        # The limit is on the run, not on one call.
        exp.log_eval_metrics({f"a{i}": 0.0 for i in range(999)})
        with pytest.raises(
            ValueError, match="at most 1000 evaluation metrics; this would make 1002"
        ):
            exp.log_eval_metrics({"one": 1.0, "too": 2.0})
    metrics = stored_card(exp.uid).eval_metrics
    assert len(metrics) == 1000
    assert metrics["kept"] == 1.0


def test_a_resumed_run_keeps_its_notes() -> None:
    with start_experiment(name="resumable") as exp:
        exp.set_description("part one")
        exp.log_eval_metrics({"val.loss": 0.4})
    with start_experiment(experiment_uid=exp.uid) as resumed:
        assert resumed.card.description == "part one"
        resumed.log_eval_metrics({"val.loss": 0.3})
    card = stored_card(exp.uid)
    assert card.description == "part one"
    assert card.eval_metrics.to_dict() == {"val.loss": 0.3}


def test_notes_from_another_process_survive_the_run_that_is_still_going(
    run_python: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text("print('training')\n")
    with start_experiment(
        name="shared", code_dir=tmp_path, log_hardware=True, hardware_interval=0.1
    ) as exp:
        exp.log_metric("loss", 1.0, step=0)
        exp.set_description("from the training")
        # An evaluation job elsewhere adds its results while the training goes on.
        run_python(f"""
            import opsml
            exp = opsml.start_experiment(experiment_uid="{exp.uid}")
            exp.log_eval_metrics({{"test.auc": 0.8}})
            exp.flush()
            registry = opsml.CardRegistry("experiment")
            card = registry.load_card(uid="{exp.uid}")
            card.tags = ["evaluated"]
            registry.update_card(card)
        """)
        time.sleep(0.3)
        exp.log_metric("loss", 0.5, step=1)
    card = stored_card(exp.uid)
    assert card.eval_metrics.to_dict() == {"test.auc": 0.8}
    assert card.description == "from the training"
    assert card.code is not None
    assert card.hardware_summary is not None
