"""CardRegistry: listing, loading, updating and deleting experiment cards."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from opsml import (
    CardNotFoundError,
    CardRegistries,
    CardRegistry,
    ExperimentCard,
    RegistryType,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


def make(space: str, name: str, tags: list[str] | None = None) -> ExperimentCard:
    with start_experiment(space=space, name=name, tags=tags) as exp:
        exp.log_metric("loss", 1.0, step=0)
        exp.log_parameter("lr", 0.1)
    time.sleep(0.002)  # distinct creation times
    return exp.card


@pytest.fixture
def cards() -> list[ExperimentCard]:
    return [
        make("a", "x"),
        make("a", "x", tags=["t1"]),
        make("a", "y", tags=["t1", "t2"]),
        make("b", "x"),
    ]


def uids(card_list: object) -> list[str]:
    return [record.uid for record in card_list]  # type: ignore[attr-defined]


def test_registry_from_enum_or_string() -> None:
    make("s", "n")
    for registry in (CardRegistry(RegistryType.Experiment), CardRegistry("experiment")):
        assert registry.registry_type == RegistryType.Experiment
        assert len(registry.list_cards()) == 1


def test_bad_registry_type() -> None:
    with pytest.raises(ValueError, match="model"):
        CardRegistry("model")
    with pytest.raises(TypeError, match="42"):
        CardRegistry(42)


def test_card_registries() -> None:
    card = make("s", "n")
    registry = CardRegistries().experiment
    assert isinstance(registry, CardRegistry)
    assert registry.registry_type == RegistryType.Experiment
    assert uids(registry.list_cards()) == [card.uid]
    assert registry.load_card(uid=card.uid).name == "n"


def test_list_cards_filters(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    ax1, ax2, ay, bx = cards
    assert uids(registry.list_cards(uid=ay.uid)) == [ay.uid]
    assert set(uids(registry.list_cards(space="a"))) == {ax1.uid, ax2.uid, ay.uid}
    assert set(uids(registry.list_cards(name="x"))) == {ax1.uid, ax2.uid, bx.uid}
    assert set(uids(registry.list_cards(space="a", name="x"))) == {ax1.uid, ax2.uid}
    assert uids(registry.list_cards(space="a", name="x", version="0.2.0")) == [ax2.uid]
    assert uids(registry.list_cards(space="a", name="x", version="0.1.0")) == [ax1.uid]
    assert set(uids(registry.list_cards(tags=["t1"]))) == {ax2.uid, ay.uid}
    assert uids(registry.list_cards(tags=["t1", "t2"])) == [ay.uid]
    assert uids(registry.list_cards(tags=["t1", "t3"])) == []
    assert uids(registry.list_cards(space="nowhere")) == []
    assert uids(registry.list_cards(uid="no-such-uid")) == []


def test_list_cards_records(cards: list[ExperimentCard]) -> None:
    record = CardRegistry("experiment").list_cards(uid=cards[2].uid)[0]
    assert record.space == "a"
    assert record.name == "y"
    assert record.version == "0.1.0"
    assert record.tags == ["t1", "t2"]
    assert record.status == "completed"
    assert record.created_at == cards[2].created_at
    assert record.ended_at == cards[2].ended_at
    assert record.parent_uid is None
    assert record.username == cards[2].username


def test_list_cards_max_date_string(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    today = datetime.now(timezone.utc).date()
    assert len(registry.list_cards(max_date=today.isoformat())) == 4
    assert len(registry.list_cards(max_date=(today - timedelta(days=1)).isoformat())) == 0
    with pytest.raises(ValueError, match="26/01/2024"):
        registry.list_cards(max_date="26/01/2024")


def test_list_cards_max_date_datetime(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    second, third = cards[1].created_at, cards[2].created_at
    assert second < third
    between = second + (third - second) / 2
    assert set(uids(registry.list_cards(max_date=between))) == {cards[0].uid, cards[1].uid}
    assert len(registry.list_cards(max_date=datetime.now(timezone.utc))) == 4
    assert len(registry.list_cards(max_date=cards[0].created_at - timedelta(seconds=1))) == 0


def test_list_cards_order_and_limit(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    ax1, ax2, ay, bx = cards
    assert uids(registry.list_cards(sort_by_timestamp=True)) == [bx.uid, ay.uid, ax2.uid, ax1.uid]
    assert uids(registry.list_cards()) == [ax2.uid, ax1.uid, ay.uid, bx.uid]
    assert uids(registry.list_cards(sort_by_timestamp=True, limit=2)) == [bx.uid, ay.uid]
    assert len(registry.list_cards(limit=1)) == 1


def test_list_cards_default_limit_is_25() -> None:
    for _ in range(30):
        with start_experiment(space="many", name="run"):
            pass
    registry = CardRegistry("experiment")
    listed = registry.list_cards()
    assert len(listed) == 25
    assert listed[0].version == "0.30.0"
    assert len(registry.list_cards(limit=100)) == 30


def test_card_list_sequence_and_str(cards: list[ExperimentCard]) -> None:
    listed = CardRegistry("experiment").list_cards(space="a")
    assert len(listed) == 3
    assert listed[-1].uid == listed[2].uid
    with pytest.raises(IndexError):
        listed[3]
    text = str(listed)
    for card in cards[:3]:
        assert card.uid in text
    assert "x" in text
    assert "y" in text
    assert "0.2.0" in text
    assert text.endswith("3 cards")
    assert repr(listed) == "CardList(3 cards)"
    one = CardRegistry("experiment").list_cards(uid=cards[0].uid)
    assert str(one).endswith("\n1 card")


def test_load_card(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    ax1, ax2, _, _ = cards
    by_uid = registry.load_card(uid=ax1.uid)
    assert (by_uid.uid, by_uid.space, by_uid.name, by_uid.version) == (ax1.uid, "a", "x", "0.1.0")
    assert registry.load_card(space="a", name="x").uid == ax2.uid
    assert registry.load_card(space="a", name="x", version="0.1.0").uid == ax1.uid
    assert registry.load_card(space="b", name="x").uid == cards[3].uid
    loaded = registry.load_card(uid=ax1.uid)
    assert loaded.get_parameters().to_dict() == {"lr": 0.1}
    assert [m.value for m in loaded.get_metrics()] == [1.0]


def test_load_card_by_name_uses_default_space() -> None:
    with start_experiment(name="plain") as exp:
        pass
    assert CardRegistry("experiment").load_card(name="plain").uid == exp.uid


def test_load_missing_card_raises(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    with pytest.raises(CardNotFoundError, match="missing-uid"):
        registry.load_card(uid="missing-uid")
    with pytest.raises(CardNotFoundError):
        registry.load_card(space="a", name="zzz")
    with pytest.raises(CardNotFoundError):
        registry.load_card(space="a", name="x", version="9.9.9")
    with pytest.raises(ValueError, match="uid"):
        registry.load_card()


def test_update_card_persists_tags_and_status(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    card = registry.load_card(uid=cards[0].uid)
    card.tags = ["promoted", "best"]
    card.status = "failed"
    assert card.tags == ["promoted", "best"]
    registry.update_card(card)
    reloaded = registry.load_card(uid=cards[0].uid)
    assert reloaded.tags == ["promoted", "best"]
    assert reloaded.status == "failed"
    assert uids(registry.list_cards(tags=["promoted"])) == [cards[0].uid]
    assert registry.load_card(uid=cards[1].uid).tags == ["t1"]
    with pytest.raises(ValueError, match="finished"):
        card.status = "finished"
    with pytest.raises(TypeError):
        card.tags = "abc"


def test_delete_card_removes_card_metrics_and_parameters(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    doomed, kept = cards[0], cards[1]
    registry.delete_card(registry.load_card(uid=doomed.uid))
    with pytest.raises(CardNotFoundError):
        registry.load_card(uid=doomed.uid)
    assert doomed.uid not in uids(registry.list_cards())
    assert len(registry.list_cards()) == 3
    with pytest.raises(CardNotFoundError, match=doomed.uid):
        get_experiment_metrics(doomed.uid)
    with pytest.raises(CardNotFoundError, match=doomed.uid):
        get_experiment_parameters(doomed.uid)
    assert len(get_experiment_metrics(kept.uid)) == 1
    assert get_experiment_parameters(kept.uid).to_dict() == {"lr": 0.1}

    registry.delete_card(kept.uid)  # by uid
    with pytest.raises(CardNotFoundError):
        registry.load_card(uid=kept.uid)
    assert len(registry.list_cards()) == 2


def test_new_version_after_delete_does_not_clash(cards: list[ExperimentCard]) -> None:
    registry = CardRegistry("experiment")
    registry.delete_card(cards[0].uid)  # a/x 0.1.0; 0.2.0 remains
    with start_experiment(space="a", name="x") as exp:
        pass
    assert exp.card.version == "0.3.0"
    versions = [r.version for r in registry.list_cards(space="a", name="x")]
    assert versions == ["0.3.0", "0.2.0"]


def test_delete_unknown_card_raises() -> None:
    with pytest.raises(CardNotFoundError, match="nope"):
        CardRegistry("experiment").delete_card("nope")
    with pytest.raises(TypeError):
        CardRegistry("experiment").delete_card(42)


def test_metrics_of_unknown_experiment_raise() -> None:
    with pytest.raises(CardNotFoundError, match="unknown-uid"):
        get_experiment_metrics("unknown-uid")
    with pytest.raises(CardNotFoundError, match="unknown-uid"):
        get_experiment_parameters("unknown-uid")


def test_card_str_and_repr(cards: list[ExperimentCard]) -> None:
    card = CardRegistry("experiment").load_card(uid=cards[2].uid)
    text = str(card)
    assert "y" in text
    assert "0.1.0" in text
    assert card.uid in text
    assert "completed" in text
    assert "t1, t2" in text
    assert repr(card).startswith("ExperimentCard(")
    assert card.uid in repr(card)
