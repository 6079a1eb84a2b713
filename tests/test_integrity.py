"""Damage to what the store holds is found on reading: a metric block whose bytes changed is
an error that names the experiment and the metric, never other numbers."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest
from opsml import StoreError, get_experiment_metrics, start_experiment
from services import psql

STORE = os.environ.get("OPSML_TEST_STORE", "sqlite")


def flip_bits_in_blocks(store_path: Path, flips: int, seed: int) -> None:
    """Flips `flips` random bits inside the stored metric blocks."""
    rng = random.Random(seed)
    if STORE == "sqlite":
        with sqlite3.connect(store_path) as conn:
            rows = conn.execute("SELECT id, data FROM metric_chunks").fetchall()
            for _ in range(flips):
                index = rng.randrange(len(rows))
                chunk_id, data = rows[index]
                data = bytearray(data)
                bit = rng.randrange(len(data) * 8)
                data[bit // 8] ^= 1 << (bit % 8)
                rows[index] = (chunk_id, bytes(data))
            conn.executemany(
                "UPDATE metric_chunks SET data = ? WHERE id = ?",
                [(data, chunk_id) for chunk_id, data in rows],
            )
        return
    # PostgreSQL: the same flips through SQL (set_bit counts bits within the bytea).
    statements = []
    for _ in range(flips):
        bit = rng.randrange(64, 8 * 8_000)
        statements.append(
            "UPDATE py_tests.metric_chunks SET data = set_bit(data, "
            f"{bit} % (8 * length(data)), 1 - get_bit(data, {bit} % (8 * length(data)))) "
            f"WHERE id = (SELECT id FROM py_tests.metric_chunks ORDER BY id "
            f"OFFSET {rng.randrange(2)} LIMIT 1);"
        )
    subprocess.run(
        [psql(), os.environ["OPSML_TEST_POSTGRES_URI"], "-qc", "".join(statements)],
        check=True,
        capture_output=True,
    )


def read_or_error(uid: str, name: str) -> list[float] | str:
    """The metric's values, or the message of the error reading them."""
    try:
        return [m.value for m in get_experiment_metrics(uid, names=name)]
    except StoreError as error:
        return str(error)


@pytest.mark.embedded_only("the test changes the store's bytes itself")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_metric_blocks_are_errors_never_wrong_numbers(store_path: Path, seed: int) -> None:
    with start_experiment(name="integrity") as exp:
        for step in range(2_000):
            exp.log_metric("loss", 1 / (step + 1), step=step)
            exp.log_metric("accuracy", step / 2_000, step=step)
    flip_bits_in_blocks(store_path, flips=20, seed=seed)
    errors = 0
    for name, expected in (
        ("loss", [1 / (s + 1) for s in range(2_000)]),
        ("accuracy", [s / 2_000 for s in range(2_000)]),
    ):
        got = read_or_error(exp.uid, name)
        if isinstance(got, str):
            errors += 1
            assert exp.uid in got
            assert f'metric "{name}"' in got
            assert "metric block: " in got
        else:
            # A block that reads must hold exactly what was logged.
            assert got == expected
    assert errors > 0, "20 flipped bits went unnoticed"
