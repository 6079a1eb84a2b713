"""`opsml.runs()`: the runs matching a filter as one data frame, a row a run."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from opsml import CardRegistry, runs, start_experiment


@pytest.fixture
def sweep() -> dict[str, str]:
    """Four runs of a small sweep: different parameters of different kinds, one metric
    missing from one run, one parameter missing from another."""
    uids = {}
    for lr, optimizer, layers in [(0.1, "adam", 2), (0.01, "adam", 4), (0.001, "sgd", 8)]:
        with start_experiment(space="sweep", name=f"lr-{lr}", tags=["sweep"]) as exp:
            exp.log_parameters({"lr": lr, "optimizer": optimizer, "layers": layers})
            for step in range(5):
                exp.log_metric("loss", lr * 10 / (step + 1), step=step)
            exp.log_metric("accuracy", 1 - lr, step=4)
        uids[f"lr-{lr}"] = exp.uid
    with start_experiment(space="sweep", name="no-lr") as exp:
        exp.log_parameters({"optimizer": "sgd", "amp": True, "seed": None})
        exp.log_metric("loss", math.nan, step=0)
        exp.log_metric("loss", 2.0, step=1)
    uids["no-lr"] = exp.uid
    with start_experiment(space="other", name="elsewhere") as exp:
        exp.log_parameter("lr", 5)
    uids["elsewhere"] = exp.uid
    return uids


def test_one_row_per_run_with_cards_parameters_and_metric_statistics(
    sweep: dict[str, str],
) -> None:
    frame = runs(space="sweep")
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 4
    assert set(frame["uid"]) == {sweep[k] for k in ["lr-0.1", "lr-0.01", "lr-0.001", "no-lr"]}
    row = frame.set_index("uid").loc[sweep["lr-0.01"]]
    assert (row["space"], row["name"], row["version"], row["status"]) == (
        "sweep",
        "lr-0.01",
        "0.1.0",
        "completed",
    )
    assert list(row["tags"]) == ["sweep"]
    assert row["params.lr"] == 0.01
    assert row["params.optimizer"] == "adam"
    assert row["params.layers"] == 4
    assert row["metrics.loss.min"] == pytest.approx(0.02)
    assert row["metrics.loss.last"] == pytest.approx(0.02)
    assert row["metrics.loss.max"] == pytest.approx(0.1)
    assert row["metrics.loss.last_step"] == 4
    assert row["metrics.loss.count"] == 5
    assert row["metrics.accuracy.last"] == pytest.approx(0.99)
    assert frame["created_at"].dt.tz is not None
    # Integers stay integers where a run lacks the value; a run without one has an empty cell.
    assert frame["params.layers"].dtype == pd.Int64Dtype()
    assert frame["metrics.loss.count"].dtype == pd.Int64Dtype()
    no_lr = frame.set_index("uid").loc[sweep["no-lr"]]
    assert pd.isna(no_lr["params.lr"])
    assert pd.isna(no_lr["params.layers"])
    assert pd.isna(no_lr["metrics.accuracy.last"])
    assert bool(no_lr["params.amp"]) is True
    assert pd.isna(no_lr["params.seed"])
    # NaN points are counted but left out of min and mean.
    assert no_lr["metrics.loss.count"] == 2
    assert no_lr["metrics.loss.min"] == 2.0


def test_the_filter_order_and_limit_pick_the_rows(sweep: dict[str, str]) -> None:
    frame = runs("params.lr < 0.05", order_by="params.lr asc")
    assert list(frame["name"]) == ["lr-0.001", "lr-0.01"]
    best = runs(space="sweep", order_by="metrics.loss.min asc", limit=1)
    assert list(best["name"]) == ["lr-0.001"]
    # A parameter that is an int in one run and a float in another is a float column.
    everywhere = runs()
    assert len(everywhere) == 5
    assert everywhere["params.lr"].dtype == "float64"
    assert runs("name = 'nothing'").empty


def test_polars_and_arrow_give_the_same_rows(sweep: dict[str, str]) -> None:
    table = runs(space="sweep", output="arrow", order_by="name asc")
    assert isinstance(table, pa.Table)
    frame = runs(space="sweep", output="polars", order_by="name asc")
    assert isinstance(frame, pl.DataFrame)
    assert frame["name"].to_list() == table.column("name").to_pylist()
    assert frame.columns == table.column_names
    assert table.schema.field("params.layers").type == pa.int64()
    assert table.schema.field("params.optimizer").type == pa.string()
    assert table.schema.field("params.amp").type == pa.bool_()


def test_a_card_list_converts_with_the_same_columns_in_its_own_order(
    sweep: dict[str, str],
) -> None:
    cards = CardRegistry("experiment").list_cards(space="sweep", limit=10)
    frame = cards.to_pandas()
    assert list(frame["uid"]) == [card.uid for card in cards]
    assert list(frame.columns) == list(runs(space="sweep").columns)
    assert cards.to_arrow().num_rows == len(cards)
    assert cards.to_polars()["uid"].to_list() == [card.uid for card in cards]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="dataframe"):
        runs(output="dataframe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit 0"):
        runs(limit=0)
    with pytest.raises(ValueError, match="position"):
        runs("params.lr <")
