"""Starting and ending experiments: status, timestamps, versions and the card's facts."""

from __future__ import annotations

import gc
import platform
import sys
from datetime import datetime, timedelta, timezone

import opsml
import pytest
from opsml import (
    CardRegistry,
    ExperimentEndedError,
    Metric,
    OpsmlError,
    Parameter,
    RegistryType,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


def stored_card(uid: str) -> opsml.ExperimentCard:
    return CardRegistry(RegistryType.Experiment).load_card(uid=uid)


class Boom(Exception):
    pass


def test_with_block_marks_completed_with_timestamps() -> None:
    before = datetime.now(timezone.utc)
    with start_experiment(space="lc", name="ok") as exp:
        assert exp.card.status == "running"
        assert exp.card.ended_at is None
        assert stored_card(exp.uid).status == "running"
        exp.log_metric("loss", 1.0)
    after = datetime.now(timezone.utc)

    for card in (exp.card, stored_card(exp.uid)):
        assert card.status == "completed"
        assert card.created_at.tzinfo is not None
        assert card.ended_at is not None
        assert card.ended_at.tzinfo is not None
        slack = timedelta(seconds=1)
        assert before - slack <= card.created_at <= card.ended_at <= after + slack


def run_then_raise(error: BaseException, points: int, uids: list[str]) -> None:
    """Starts an experiment (its uid goes to `uids`), logs, then raises `error`."""
    with start_experiment(name="raises") as exp:
        uids.append(exp.uid)
        for step in range(points):
            exp.log_metric("loss", float(step), step=step)
        exp.log_parameter("lr", 0.5)
        raise error


def test_exception_marks_failed_propagates_and_keeps_points() -> None:
    uids: list[str] = []
    with pytest.raises(Boom, match="bad batch"):
        run_then_raise(Boom("bad batch"), 5, uids)
    (uid,) = uids

    card = stored_card(uid)
    assert card.status == "failed"
    assert card.ended_at is not None
    metrics = get_experiment_metrics(uid)
    assert [m.step for m in metrics] == [0, 1, 2, 3, 4]
    assert [m.value for m in metrics] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert get_experiment_parameters(uid).to_dict() == {"lr": 0.5}


def test_keyboard_interrupt_marks_killed() -> None:
    uids: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_then_raise(KeyboardInterrupt(), 1, uids)
    (uid,) = uids
    assert stored_card(uid).status == "killed"
    assert len(get_experiment_metrics(uid)) == 1
    assert get_experiment_parameters(uid).to_dict() == {"lr": 0.5}


def test_end_without_with_and_twice_is_harmless() -> None:
    exp = start_experiment(name="manual")
    exp.log_metric("loss", 2.0, step=0)
    exp.end()
    first = stored_card(exp.uid)
    assert first.status == "completed"
    assert first.ended_at is not None

    exp.end()
    exp.end(status="failed")  # already ended: changes nothing
    second = stored_card(exp.uid)
    assert second.status == "completed"
    assert second.ended_at == first.ended_at
    assert exp.card.status == "completed"
    assert len(get_experiment_metrics(exp.uid)) == 1


def test_end_with_explicit_status() -> None:
    exp = start_experiment(name="explicit")
    exp.end(status="failed")
    assert stored_card(exp.uid).status == "failed"


def test_end_with_unknown_status_raises_value_error() -> None:
    exp = start_experiment(name="badstatus")
    with pytest.raises(ValueError, match="finished"):
        exp.end(status="finished")
    exp.end()
    assert stored_card(exp.uid).status == "completed"


def test_logging_after_end_raises_and_keeps_earlier_data() -> None:
    with start_experiment(name="ended") as exp:
        exp.log_metric("loss", 1.0, step=1)
        exp.log_parameter("lr", 0.1)

    assert issubclass(ExperimentEndedError, OpsmlError)
    with pytest.raises(ExperimentEndedError, match=exp.uid):
        exp.log_metric("loss", 2.0, step=2)
    with pytest.raises(ExperimentEndedError):
        exp.log_metrics([Metric("loss", 3.0, step=3)])
    with pytest.raises(ExperimentEndedError):
        exp.log_parameter("lr", 0.2)
    with pytest.raises(ExperimentEndedError):
        exp.log_parameters({"lr": 0.3})
    with pytest.raises(ExperimentEndedError):
        exp.log_parameters([Parameter("lr", 0.4)])

    metrics = get_experiment_metrics(exp.uid)
    assert [(m.name, m.step, m.value) for m in metrics] == [("loss", 1, 1.0)]
    assert get_experiment_parameters(exp.uid).to_dict() == {"lr": 0.1}
    assert stored_card(exp.uid).status == "completed"


def test_unended_experiment_is_completed_at_interpreter_exit(run_python) -> None:
    proc = run_python(
        """
        from opsml import start_experiment
        exp = start_experiment(space="exit", name="no-end")
        for step in range(1000):
            exp.log_metric("loss", step / 1000, step=step)
        exp.log_parameter("epochs", 3)
        print(exp.uid)
        """
    )
    uid = proc.stdout.strip()
    card = stored_card(uid)
    assert card.status == "completed"
    assert card.ended_at is not None
    metrics = get_experiment_metrics(uid)
    assert len(metrics) == 1000
    assert [m.step for m in metrics] == list(range(1000))
    assert metrics[999].value == 0.999
    assert get_experiment_parameters(uid).to_dict() == {"epochs": 3}


def test_unended_experiment_of_a_crashing_script_is_failed(run_python) -> None:
    proc = run_python(
        """
        from opsml import start_experiment
        exp = start_experiment(space="exit", name="crash")
        for step in range(500):
            exp.log_metric("loss", 1.0, step=step)
        print(exp.uid, flush=True)
        raise RuntimeError("training diverged")
        """,
        check=False,
    )
    assert proc.returncode == 1
    assert "training diverged" in proc.stderr
    card = stored_card(proc.stdout.strip())
    assert card.status == "failed"
    assert len(get_experiment_metrics(card.uid)) == 500


def test_unended_experiment_of_an_interrupted_script_is_killed(run_python) -> None:
    proc = run_python(
        """
        from opsml import start_experiment
        exp = start_experiment(space="exit", name="interrupted")
        exp.log_metric("loss", 1.0)
        print(exp.uid, flush=True)
        raise KeyboardInterrupt
        """,
        check=False,
    )
    assert proc.returncode != 0
    card = stored_card(proc.stdout.strip())
    assert card.status == "killed"
    assert len(get_experiment_metrics(card.uid)) == 1


def test_dropped_experiment_is_completed() -> None:
    exp = start_experiment(name="dropped")
    exp.log_metric("loss", 1.0)
    uid = exp.uid
    del exp
    gc.collect()
    assert stored_card(uid).status == "completed"
    assert len(get_experiment_metrics(uid)) == 1


def test_default_space_and_generated_name() -> None:
    with start_experiment() as exp:
        pass
    card = stored_card(exp.uid)
    assert card.space == "default"
    assert isinstance(card.name, str)
    assert card.name.strip()
    assert card.version == "0.1.0"


def test_generated_names_differ() -> None:
    names = set()
    for _ in range(5):
        with start_experiment() as exp:
            pass
        names.add(exp.card.name)
    assert len(names) > 1


def test_versions_increase_per_space_and_name() -> None:
    def version(space: str, name: str) -> str:
        with start_experiment(space=space, name=name) as exp:
            pass
        assert stored_card(exp.uid).version == exp.card.version
        return exp.card.version

    assert version("vision", "resnet") == "0.1.0"
    assert version("vision", "resnet") == "0.2.0"
    assert version("vision", "vit") == "0.1.0"
    assert version("nlp", "resnet") == "0.1.0"
    assert version("vision", "resnet") == "0.3.0"


def test_versions_count_failed_runs() -> None:
    with pytest.raises(Boom), start_experiment(space="s", name="n"):
        raise Boom
    with start_experiment(space="s", name="n") as exp:
        pass
    assert exp.card.version == "0.2.0"


def test_uids_are_unique() -> None:
    uids = set()
    for _ in range(5):
        with start_experiment(name="u") as exp:
            pass
        uids.add(exp.uid)
        assert exp.card.uid == exp.uid
    assert len(uids) == 5


def test_compute_environment() -> None:
    with start_experiment(name="env") as exp:
        pass
    for card in (exp.card, stored_card(exp.uid)):
        env = card.compute_environment
        assert env.cpu_count > 0
        assert env.total_memory_bytes > 0
        assert env.os.strip()
        assert env.hostname == platform.node()
        assert env.python_version == platform.python_version()


def test_opsml_version_and_username() -> None:
    with start_experiment(name="who") as exp:
        pass
    card = stored_card(exp.uid)
    assert card.opsml_version == opsml.__version__
    assert card.username.strip()


def test_tags_are_stored() -> None:
    with start_experiment(name="tagged", tags=["baseline", "gpu"]) as exp:
        assert exp.card.tags == ["baseline", "gpu"]
    assert stored_card(exp.uid).tags == ["baseline", "gpu"]
    with start_experiment(name="untagged") as exp:
        pass
    assert stored_card(exp.uid).tags == []


def test_tags_added_while_running_are_stored_and_the_card_copy_refuses_changes() -> None:
    with start_experiment(name="retagged", tags=["baseline"]) as exp:
        exp.log_metric("loss", 1.0, step=0)
        exp.add_tags("promising", "baseline", "gpu")
        # The store has them at once, not only at the end.
        assert stored_card(exp.uid).tags == ["baseline", "promising", "gpu"]
        assert exp.card.tags == ["baseline", "promising", "gpu"]
        # exp.card is a copy: assigning to it would change nothing, so it says so.
        with pytest.raises(AttributeError, match=r"exp\.add_tags"):
            exp.card.tags = ["lost"]
        with pytest.raises(AttributeError, match="when it ends"):
            exp.card.status = "failed"
        with pytest.raises(ValueError, match="control"):
            exp.add_tags("bad\ntag")
        exp.log_metric("loss", 0.5, step=1)
    card = stored_card(exp.uid)
    assert card.tags == ["baseline", "promising", "gpu"]
    assert card.status == "completed"
    # A card loaded from the registry is the one to change, with update_card.
    card.tags = [*card.tags, "reviewed"]
    CardRegistry("experiment").update_card(card)
    assert stored_card(exp.uid).tags == ["baseline", "promising", "gpu", "reviewed"]


def test_too_short_hardware_interval_is_refused_before_anything_is_created() -> None:
    with pytest.raises(ValueError, match=r"0\.01"):
        start_experiment(name="hw", log_hardware=True, hardware_interval=0.01)
    assert len(CardRegistry("experiment").list_cards()) == 0


def test_missing_code_dir_is_refused_before_anything_is_created() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-src"):
        start_experiment(name="code", code_dir="no-such-src")
    assert len(CardRegistry("experiment").list_cards()) == 0


def test_repr_names_the_experiment() -> None:
    with start_experiment(space="r", name="repr-me") as exp:
        text = repr(exp)
    assert "repr-me" in text
    assert exp.uid in text
    assert "0.1.0" in text


def _exit_inside(name: str, code: int | None) -> None:
    with start_experiment(name=name) as exp:
        exp.log_metric("loss", 1.0)
        sys.exit(code)


@pytest.mark.parametrize(("code", "status"), [(0, "completed"), (None, "completed"), (3, "failed")])
def test_sys_exit_inside_the_block_sets_the_status_by_exit_code(
    code: int | None, status: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        _exit_inside(f"exit-{code}", code)
    assert exited.value.code == code
    [record] = CardRegistry("experiment").list_cards(name=f"exit-{code}")
    assert record.status == status
    assert len(get_experiment_metrics(record.uid)) == 1
