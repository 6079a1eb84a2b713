"""The public import paths, exception hierarchy and store configuration."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import opsml
import opsml.card
import opsml.experiment
import pytest


def test_top_level_imports() -> None:
    from opsml import (  # noqa: F401
        CardNotFoundError,
        CardRegistries,
        CardRegistry,
        ConfigurationError,
        ExperimentCard,
        ExperimentEndedError,
        Metric,
        Metrics,
        OpsmlError,
        Parameter,
        Parameters,
        RegistryType,
        StoreError,
        get_experiment_metrics,
        get_experiment_parameters,
        start_experiment,
    )


def test_subpackage_imports() -> None:
    from opsml.card import (  # noqa: F401
        CardList,
        CardRecord,
        CardRegistries,
        CardRegistry,
        CardUids,
        ComputeEnvironment,
        ExperimentCard,
        RegistryType,
    )
    from opsml.experiment import (  # noqa: F401
        Experiment,
        Metric,
        Metrics,
        Parameter,
        Parameters,
        get_experiment_metrics,
        get_experiment_parameters,
        start_experiment,
    )

    assert opsml.experiment.start_experiment is opsml.start_experiment
    assert opsml.card.CardRegistry is opsml.CardRegistry


@pytest.mark.parametrize("module", [opsml, opsml.card, opsml.experiment])
def test_every_name_in_all_exists(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), name


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.\-+].*)?", opsml.__version__)


@pytest.mark.parametrize(
    "error",
    [
        opsml.StoreError,
        opsml.CardNotFoundError,
        opsml.ExperimentEndedError,
        opsml.ConfigurationError,
    ],
)
def test_exception_hierarchy(error: type[Exception]) -> None:
    assert issubclass(error, opsml.OpsmlError)
    assert issubclass(opsml.OpsmlError, Exception)
    assert error is not opsml.OpsmlError


@pytest.mark.parametrize("uri", ["mysql://x", "http://:8000", "sqlite://"])
def test_invalid_tracking_uri_raises_configuration_error(
    uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSML_TRACKING_URI", uri)
    calls = [
        lambda: opsml.start_experiment(name="x"),
        lambda: opsml.CardRegistry("experiment"),
        lambda: opsml.CardRegistries(),
        lambda: opsml.get_experiment_metrics("some-uid"),
        lambda: opsml.get_experiment_parameters("some-uid"),
    ]
    for call in calls:
        with pytest.raises(opsml.ConfigurationError) as info:
            call()
        assert uri in str(info.value)


def test_an_unreachable_server_is_a_store_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSML_TRACKING_URI", "http://127.0.0.1:1")
    monkeypatch.setenv("OPSML_ENCRYPT_SECRET", base64.b64encode(bytes(32)).decode())
    monkeypatch.setenv("OPSML_USERNAME", "ana")
    monkeypatch.setenv("OPSML_PASSWORD", "a password")
    # A run starts all the same (it waits on disk for the server); reading needs the server.
    with pytest.raises(opsml.StoreError) as info:
        opsml.CardRegistry("experiment").list_cards()
    assert "http://127.0.0.1:1 cannot be reached" in str(info.value)
    assert "a password" not in str(info.value)


def test_an_unreachable_postgres_store_is_a_store_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    monkeypatch.setenv("OPSML_TRACKING_URI", "postgres://opsml:s3cret@127.0.0.1:1/runs")
    with pytest.raises(opsml.StoreError) as info:
        opsml.start_experiment(name="x")
    message = str(info.value)
    assert "postgres://opsml@127.0.0.1:1/runs" in message
    assert "refused" in message.lower()
    assert "s3cret" not in message


def test_tracking_uri_is_read_at_each_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{first}")
    with opsml.start_experiment(name="in-first") as a:
        a.log_metric("m", 1.0)
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{second}")
    with opsml.start_experiment(name="in-second") as b:
        b.log_metric("m", 2.0)
    assert first.exists()
    assert second.exists()
    assert [r.name for r in opsml.CardRegistry("experiment").list_cards()] == ["in-second"]
    with pytest.raises(opsml.CardNotFoundError):
        opsml.get_experiment_metrics(a.uid)
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{first}")
    assert [r.name for r in opsml.CardRegistry("experiment").list_cards()] == ["in-first"]
    assert [m.value for m in opsml.get_experiment_metrics(a.uid)] == [1.0]


def test_default_store_is_opsml_db_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSML_TRACKING_URI")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    with opsml.start_experiment(name="default-store"):
        pass
    assert (workdir / "opsml.db").exists()
    assert not (tmp_path / "opsml.db").exists()
    assert len(opsml.CardRegistry("experiment").list_cards()) == 1


def test_relative_sqlite_uri_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSML_TRACKING_URI", "sqlite://nested/dir/runs.db")
    with opsml.start_experiment(name="relative"):
        pass
    assert (tmp_path / "nested" / "dir" / "runs.db").exists()


def test_corrupt_store_file_raises_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_db = tmp_path / "garbage.db"
    not_a_db.write_bytes(b"this is not a sqlite database" * 100)
    monkeypatch.setenv("OPSML_TRACKING_URI", f"sqlite://{not_a_db}")
    with pytest.raises(opsml.StoreError, match=r"garbage\.db"):
        opsml.start_experiment(name="x")
