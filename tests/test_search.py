"""Metric summaries kept by the writer, and search_experiments evaluated in the store."""

from __future__ import annotations

import math

import pytest
from opsml import (
    CardNotFoundError,
    CardRegistry,
    compare_experiments,
    get_experiment_metrics,
    search_experiments,
    start_experiment,
)


def test_summaries_match_the_logged_points_including_nan_and_out_of_order_steps() -> None:
    with start_experiment(name="summaries") as exp:
        for step, value in [(5, 1.0), (2, 2.0), (9, 4.0), (9, 5.0), (7, math.nan), (3, -1.5)]:
            exp.log_metric("loss", value, step=step)
        exp.log_metric("lr", 0.1)
        # Read while running: the summary includes what was just logged.
        running = exp.card.metric_summary()
        assert running["loss"].count == 6
        for step in range(10, 20_000):
            exp.log_metric("acc", step / 20_000, step=step)
    summary = CardRegistry("experiment").load_card(uid=exp.uid).metric_summary()
    assert sorted(summary) == ["acc", "loss", "lr"]
    loss = summary["loss"]
    assert (loss.count, loss.min, loss.max) == (6, -1.5, 5.0)
    assert loss.mean == pytest.approx((1.0 + 2.0 + 4.0 + 5.0 - 1.5) / 5)
    # First and last follow step order, ties in logging order.
    assert (loss.first, loss.last, loss.last_step) == (2.0, 5.0, 9)
    lr = summary["lr"]
    assert (lr.count, lr.last, lr.last_step) == (1, 0.1, None)
    acc = summary["acc"]
    points = get_experiment_metrics(exp.uid, "acc")
    values = [m.value for m in points]
    assert acc.count == len(values) == 19_990
    assert (acc.min, acc.max) == (min(values), max(values))
    assert acc.mean == pytest.approx(sum(values) / len(values))
    assert (acc.first, acc.last, acc.last_step) == (values[0], values[-1], 19_999)
    assert loss.to_dict() == {
        "name": "loss",
        "count": 6,
        "min": -1.5,
        "max": 5.0,
        "mean": loss.mean,
        "first": 2.0,
        "last": 5.0,
        "last_step": 9,
    }


def test_only_nan_values_leave_min_max_and_mean_empty() -> None:
    with start_experiment(name="nan") as exp:
        exp.log_metric("broken", math.nan, step=0)
    broken = CardRegistry("experiment").load_card(uid=exp.uid).metric_summary()["broken"]
    assert (broken.count, broken.min, broken.max, broken.mean) == (1, None, None, None)
    assert math.isnan(broken.last)


def test_both_infinities_in_one_metric_are_stored_and_summarised() -> None:
    with start_experiment(name="infinities") as exp:
        exp.log_metric("reward", math.inf, step=0)
        exp.log_metric("reward", -math.inf, step=1)
        exp.log_metric("reward", 1.0, step=2)
    reward = CardRegistry("experiment").load_card(uid=exp.uid).metric_summary()["reward"]
    assert (reward.count, reward.min, reward.max, reward.last) == (3, -math.inf, math.inf, 1.0)
    assert reward.mean is not None
    assert math.isnan(reward.mean)
    assert [m.value for m in get_experiment_metrics(exp.uid)] == [math.inf, -math.inf, 1.0]


def test_str_of_a_card_shows_each_metric_summary() -> None:
    with start_experiment(name="printed") as exp:
        for step in range(10):
            exp.log_metric("loss", 1.0 / (step + 1), step=step)
    text = str(CardRegistry("experiment").load_card(uid=exp.uid))
    assert "loss: 10 points, min 0.1, max 1, mean 0.292897, last 0.1 at step 9" in text


def test_summaries_of_several_writers_are_merged() -> None:
    with start_experiment(name="ranks") as exp:
        exp.log_metric("loss", 3.0, step=1)
        exp.flush()
        with start_experiment(experiment_uid=exp.uid) as rank:
            rank.log_metric("loss", 1.0, step=0)
            rank.log_metric("loss", 5.0, step=3)
        exp.log_metric("loss", 4.0, step=2)
    loss = CardRegistry("experiment").load_card(uid=exp.uid).metric_summary()["loss"]
    assert (loss.count, loss.min, loss.max) == (4, 1.0, 5.0)
    assert (loss.first, loss.last, loss.last_step) == (1.0, 5.0, 3)
    points = get_experiment_metrics(exp.uid, "loss")
    assert (points[0].value, points[-1].value) == (loss.first, loss.last)


@pytest.fixture
def experiments() -> dict[str, str]:
    """Five experiments across two spaces with parameters, tags and metrics."""
    uids = {}
    runs = [
        ("vision", "resnet", ["baseline"], {"optimizer": "adam", "lr": 0.01, "layers": 50}, 0.93),
        ("vision", "resnet", [], {"optimizer": "sgd", "lr": 0.1, "layers": 50}, 0.88),
        ("vision", "vit", ["big"], {"optimizer": "adam", "lr": 0.001, "layers": 24}, 0.95),
        ("nlp", "bert", ["baseline"], {"optimizer": "adam", "lr": 0.0001}, 0.91),
        ("nlp", "gpt", [], {"optimizer": "adamw", "warmup": True}, None),
    ]
    for space, name, tags, params, accuracy in runs:
        with start_experiment(space=space, name=name, tags=tags) as exp:
            exp.log_parameters(params)
            if accuracy is not None:
                for step in range(10):
                    exp.log_metric("accuracy", accuracy * (step + 1) / 10, step=step)
                    exp.log_metric("loss", 1.0 - accuracy * (step + 1) / 10, step=step)
        uids[f"{name}-{params['optimizer']}"] = exp.uid
    return uids


def names(cards) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.name}-{c.version}" for c in cards]


def test_search_by_parameters_metrics_status_and_tags(experiments: dict[str, str]) -> None:
    found = search_experiments(
        "params.optimizer = 'adam' and metrics.accuracy.max > 0.92 and status = 'completed'"
    )
    assert {c.uid for c in found} == {experiments["resnet-adam"], experiments["vit-adam"]}
    assert {c.uid for c in search_experiments("params.lr >= 0.01")} == {
        experiments["resnet-adam"],
        experiments["resnet-sgd"],
    }
    assert {c.uid for c in search_experiments("tags = 'baseline'")} == {
        experiments["resnet-adam"],
        experiments["bert-adam"],
    }
    assert {c.uid for c in search_experiments("metrics.loss is null")} == {experiments["gpt-adamw"]}
    assert {c.uid for c in search_experiments("params.warmup = true")} == {experiments["gpt-adamw"]}
    either = search_experiments("(name like 'res%' and params.layers = 50) or space = 'nlp'")
    assert len(either) == 4
    assert len(search_experiments()) == 5
    assert len(search_experiments(space="nlp")) == 2
    assert {c.uid for c in search_experiments("params.optimizer = 'adam'", space="vision")} == {
        experiments["resnet-adam"],
        experiments["vit-adam"],
    }


def test_order_by_summaries_with_missing_values_last(experiments: dict[str, str]) -> None:
    by_loss = search_experiments(order_by=["metrics.loss.last asc"])
    assert [c.uid for c in by_loss] == [
        experiments["vit-adam"],
        experiments["resnet-adam"],
        experiments["bert-adam"],
        experiments["resnet-sgd"],
        experiments["gpt-adamw"],
    ]
    best = search_experiments(order_by="metrics.accuracy.max desc", limit=2)
    assert [c.uid for c in best] == [experiments["vit-adam"], experiments["resnet-adam"]]


def test_search_includes_what_a_running_experiment_just_logged() -> None:
    with start_experiment(name="live") as exp:
        exp.log_metric("loss", 0.5, step=0)
        assert [c.uid for c in search_experiments("metrics.loss.last = 0.5")] == [exp.uid]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("status = ", 9),
        ("status = 'completed", 9),
        ("(status = 'completed'", 21),
        ("status = 'completed' xyz", 21),
        ("nosuchfield = 1", 0),
        ("status > 3", 9),
    ],
)
def test_bad_filters_raise_value_error_naming_the_position(text: str, position: int) -> None:
    with pytest.raises(ValueError, match=f"position {position}"):
        search_experiments(text)


def test_bad_order_by_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="order_by item 1"):
        search_experiments(order_by=["name", "metrics.loss.median"])
    with pytest.raises(TypeError, match="order_by takes a str or a list of str"):
        search_experiments(order_by=3)  # type: ignore[arg-type]


def test_compare_puts_differing_parameters_first_and_lines_up_metrics(
    experiments: dict[str, str],
) -> None:
    uids = [experiments["resnet-adam"], experiments["bert-adam"], experiments["gpt-adamw"]]
    table = compare_experiments(uids)
    assert table.uids == uids
    assert table.columns == ["resnet:0.1.0", "bert:0.1.0", "gpt:0.1.0"]
    rows = {name: (section, values, differs) for section, name, values, differs in table.rows}
    # Disjoint parameters: a missing one is None and counts as a difference.
    assert rows["layers"] == ("parameter", (50, None, None), True)
    assert rows["warmup"] == ("parameter", (None, None, True), True)
    assert rows["optimizer"] == ("parameter", ("adam", "adam", "adamw"), True)
    section, (resnet, bert, gpt), differs = rows["accuracy.max"]
    assert (section, gpt, differs) == ("metric", None, True)
    assert (resnet, bert) == (pytest.approx(0.93), pytest.approx(0.91))
    assert rows["accuracy.count"] == ("metric", (10, 10, None), True)
    parameter_rows = [name for section, name, _, _ in table.rows if section == "parameter"]
    differing = [name for section, name, _, d in table.rows if section == "parameter" and d]
    assert parameter_rows[: len(differing)] == differing
    text = str(table)
    assert text.splitlines()[0].split() == ["resnet:0.1.0", "bert:0.1.0", "gpt:0.1.0"]
    assert "PARAMETERS" in text
    assert "METRICS" in text
    assert any(line.split()[:2] == ["*", "optimizer"] for line in text.splitlines())
    # A rule under the labels, as the command line prints tables.
    lines = text.splitlines()
    assert set(lines[1].strip()) == {"─"}


def test_compare_marks_shared_parameters_as_equal(experiments: dict[str, str]) -> None:
    table = compare_experiments([experiments["resnet-adam"], experiments["resnet-sgd"]])
    rows = {name: (values, differs) for _, name, values, differs in table.rows}
    assert rows["layers"] == ((50, 50), False)
    assert rows["lr"] == ((0.01, 0.1), True)
    names = [name for section, name, _, _ in table.rows if section == "parameter"]
    assert names == ["lr", "optimizer", "layers"]


def test_compare_to_pandas_matches_the_rows(experiments: dict[str, str]) -> None:
    pandas = pytest.importorskip("pandas")
    table = compare_experiments([experiments["resnet-adam"], experiments["vit-adam"]])
    frame = table.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == [*table.columns, "differs"]
    assert frame.loc[("parameter", "lr"), "vit:0.1.0"] == 0.001
    assert len(frame) == len(table)


def test_compare_never_gives_two_columns_one_label() -> None:
    uids = []
    for space in ["team-a", "team-b"]:
        with start_experiment(space=space, name="twin") as exp:
            exp.log_parameter("lr", 0.1 if space == "team-a" else 0.2)
        uids.append(exp.uid)
    table = compare_experiments([*uids, uids[0]])
    assert table.columns[1] == "team-b/twin:0.1.0"
    # The same run given twice: its second column says which it is.
    assert table.columns[0] == "team-a/twin:0.1.0"
    assert table.columns[2] == "team-a/twin:0.1.0 [2]"
    assert len(set(table.columns)) == 3
    frame = table.to_pandas()
    assert frame.loc[("parameter", "lr"), "team-b/twin:0.1.0"] == 0.2


def test_compare_refuses_unknown_uids_and_empty_lists() -> None:
    with pytest.raises(CardNotFoundError, match="no-such-uid"):
        compare_experiments(["no-such-uid"])
    with pytest.raises(ValueError, match="at least one"):
        compare_experiments([])
