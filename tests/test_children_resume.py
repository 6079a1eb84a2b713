"""Child experiments and resuming an experiment by uid."""

from __future__ import annotations

import pytest
from opsml import (
    CardNotFoundError,
    CardRegistry,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


def registry() -> CardRegistry:
    return CardRegistry("experiment")


def test_child_inherits_parent_space_unless_given() -> None:
    with start_experiment(space="vision", name="sweep") as parent:
        with parent.start_experiment(name="trial-1") as same_space:
            pass
        with parent.start_experiment(space="other", name="trial-2") as other_space:
            pass
    assert same_space.card.space == "vision"
    assert same_space.card.name == "trial-1"
    assert registry().load_card(uid=same_space.uid).space == "vision"
    assert other_space.card.space == "other"
    assert registry().load_card(uid=other_space.uid).space == "other"


def test_parent_lists_children_and_children_name_parent() -> None:
    with start_experiment(space="vision", name="sweep") as parent:
        with parent.start_experiment(name="trial") as first:
            first.log_metric("loss", 1.0)
        with parent.start_experiment(name="trial") as second:
            second.log_metric("loss", 2.0)
        children = [first.uid, second.uid]
        assert parent.card.uids.experimentcard_uids == children
        assert registry().load_card(uid=parent.uid).uids.experimentcard_uids == children

    assert parent.card.uids.experimentcard_uids == children
    loaded = registry().load_card(uid=parent.uid)
    assert loaded.uids.experimentcard_uids == children
    assert loaded.parent_uid is None
    for child in (first, second):
        assert child.card.parent_uid == parent.uid
        assert registry().load_card(uid=child.uid).parent_uid == parent.uid
        assert child.card.uids.experimentcard_uids == []
    assert [first.card.version, second.card.version] == ["0.1.0", "0.2.0"]
    records = {r.uid: r for r in registry().list_cards(name="trial")}
    assert records[first.uid].parent_uid == parent.uid


def test_child_data_is_separate_from_parent() -> None:
    with start_experiment(name="parent") as parent:
        parent.log_metric("parent_metric", 1.0)
        with parent.start_experiment(name="child") as child:
            child.log_metric("child_metric", 2.0)
            child.log_parameter("child_param", 1)
    assert get_experiment_metrics(parent.uid).names == ["parent_metric"]
    assert get_experiment_metrics(child.uid).names == ["child_metric"]
    assert len(get_experiment_parameters(parent.uid)) == 0
    assert registry().load_card(uid=child.uid).status == "completed"


def test_resume_continues_the_same_experiment() -> None:
    with start_experiment(space="s", name="long-run", tags=["t"]) as first:
        first.log_metric("loss", 1.0, step=0)
        first.log_metric("loss", 0.9, step=1)
        first.log_parameter("lr", 0.1)
    assert registry().load_card(uid=first.uid).status == "completed"

    with start_experiment(experiment_uid=first.uid) as resumed:
        assert resumed.uid == first.uid
        assert resumed.card.status == "running"
        assert resumed.card.ended_at is None
        stored = registry().load_card(uid=first.uid)
        assert stored.status == "running"
        assert stored.ended_at is None
        assert resumed.card.version == "0.1.0"
        assert resumed.card.name == "long-run"
        assert resumed.card.tags == ["t"]
        resumed.log_metric("loss", 0.8, step=2)
        resumed.log_parameter("epochs", 5)

    card = registry().load_card(uid=first.uid)
    assert card.status == "completed"
    assert card.ended_at is not None
    metrics = get_experiment_metrics(first.uid)
    assert [(m.step, m.value) for m in metrics] == [(0, 1.0), (1, 0.9), (2, 0.8)]
    assert get_experiment_parameters(first.uid).to_dict() == {"lr": 0.1, "epochs": 5}
    assert len(registry().list_cards(name="long-run")) == 1


def test_resume_with_matching_space_and_name_is_accepted() -> None:
    with start_experiment(space="s", name="n") as first:
        pass
    with start_experiment(space="s", name="n", experiment_uid=first.uid) as resumed:
        assert resumed.uid == first.uid


def test_resume_a_failed_experiment_can_complete_it() -> None:
    with pytest.raises(RuntimeError), start_experiment(name="retry") as first:
        raise RuntimeError("crash")
    assert registry().load_card(uid=first.uid).status == "failed"
    with start_experiment(experiment_uid=first.uid):
        pass
    assert registry().load_card(uid=first.uid).status == "completed"


def test_resume_unknown_uid_raises_card_not_found() -> None:
    uid = "0190a0a0-0000-7000-8000-000000000000"
    with pytest.raises(CardNotFoundError, match=uid):
        start_experiment(experiment_uid=uid)
    assert len(registry().list_cards()) == 0


def test_resume_with_different_name_raises_value_error() -> None:
    with start_experiment(space="s", name="original") as first:
        pass
    with pytest.raises(ValueError, match="renamed"):
        start_experiment(name="renamed", experiment_uid=first.uid)
    with pytest.raises(ValueError, match="elsewhere"):
        start_experiment(space="elsewhere", experiment_uid=first.uid)
    card = registry().load_card(uid=first.uid)
    assert card.status == "completed"
    assert card.name == "original"


def test_resuming_a_child_through_its_parent_lists_it_once() -> None:
    with start_experiment(space="sweep", name="parent") as parent:
        with parent.start_experiment(name="trial") as child:
            child.log_metric("loss", 1.0, step=0)
        with parent.start_experiment(experiment_uid=child.uid) as resumed:
            assert resumed.uid == child.uid
            assert resumed.card.parent_uid == parent.uid
            resumed.log_metric("loss", 0.5, step=1)
        stored = registry().load_card(uid=parent.uid).uids.experimentcard_uids
        assert stored == [child.uid]
        assert parent.card.uids.experimentcard_uids == stored
    assert registry().load_card(uid=parent.uid).uids.experimentcard_uids == [child.uid]
    assert [m.step for m in get_experiment_metrics(child.uid)] == [0, 1]


def test_resuming_an_unrelated_experiment_through_a_parent_is_refused() -> None:
    with start_experiment(name="unrelated") as unrelated:
        unrelated.log_metric("m", 1.0)
    with start_experiment(name="parent") as parent:
        with pytest.raises(ValueError, match=unrelated.uid):
            parent.start_experiment(experiment_uid=unrelated.uid)
        assert parent.card.uids.experimentcard_uids == []
    stored = registry().load_card(uid=unrelated.uid)
    assert stored.status == "completed"
    assert stored.parent_uid is None
    assert registry().load_card(uid=parent.uid).uids.experimentcard_uids == []
    assert len(get_experiment_metrics(unrelated.uid)) == 1
