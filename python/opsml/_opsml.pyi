"""Type stubs of the native module `opsml._opsml`."""

import datetime
import os
from pathlib import Path
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, SupportsFloat, SupportsIndex, final, overload

__version__: str
__all__ = [
    "ArtifactNotFoundError",
    "ArtifactTamperedError",
    "CardList",
    "CardNotFoundError",
    "CardRecord",
    "CardRegistries",
    "CardRegistry",
    "CardUids",
    "CodeCapture",
    "ComputeEnvironment",
    "ConfigurationError",
    "EncryptionError",
    "Experiment",
    "ExperimentCard",
    "ExperimentEndedError",
    "GitInfo",
    "Metric",
    "Metrics",
    "MetricsIter",
    "OpsmlError",
    "Parameter",
    "Parameters",
    "RegistryType",
    "StoreError",
    "WrongMasterKeyError",
    "__version__",
    "_end_running_experiments",
    "download_artifact",
    "get_experiment_metrics",
    "get_experiment_parameters",
    "start_experiment",
]

_Number = SupportsFloat | SupportsIndex
_ParameterValue = int | float | str | bool
_Status = Literal["running", "completed", "failed", "killed"]

class OpsmlError(Exception):
    """Base class of every opsml error."""

class StoreError(OpsmlError):
    """The store (database) could not be read or written."""

class ConfigurationError(OpsmlError):
    """A setting such as OPSML_TRACKING_URI is invalid."""

class CardNotFoundError(OpsmlError):
    """No card matches the uid, or the space, name and version, asked for."""

class ExperimentEndedError(OpsmlError):
    """The experiment has ended; nothing more can be logged to it."""

class ArtifactNotFoundError(OpsmlError):
    """The experiment has no artifact at the path asked for."""

class EncryptionError(OpsmlError):
    """Encrypting or decrypting artifacts failed."""

class WrongMasterKeyError(EncryptionError):
    """The master key does not open this experiment's data."""

class ArtifactTamperedError(EncryptionError):
    """A stored artifact was modified, truncated or swapped after it was stored."""

@final
class Metric:
    """One value of a metric."""

    def __new__(
        cls,
        name: str,
        value: _Number,
        step: int | None = None,
        timestamp: int | None = None,
        created_at: datetime.datetime | None = None,
    ) -> Metric: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def step(self) -> int | None: ...
    @property
    def timestamp(self) -> int | None: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Metrics(Sequence[Metric]):
    """Metric points ordered by (name, step, insertion)."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int, /) -> Metric: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Metric]: ...
    def __iter__(self) -> Iterator[Metric]: ...
    @property
    def names(self) -> list[str]: ...

@final
class MetricsIter(Iterator[Metric]):
    def __iter__(self) -> MetricsIter: ...
    def __next__(self) -> Metric: ...

@final
class Parameter:
    """A named parameter: int, float, str or bool."""

    def __new__(cls, name: str, value: _ParameterValue) -> Parameter: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> _ParameterValue: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Parameters:
    """Parameters in the order first logged."""

    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> Parameter: ...
    def __iter__(self) -> Iterator[Parameter]: ...
    def to_dict(self) -> dict[str, _ParameterValue]: ...

@final
class CardUids:
    @property
    def experimentcard_uids(self) -> list[str]: ...

@final
class ComputeEnvironment:
    @property
    def cpu_count(self) -> int: ...
    @property
    def total_memory_bytes(self) -> int: ...
    @property
    def os(self) -> str: ...
    @property
    def hostname(self) -> str: ...
    @property
    def python_version(self) -> str | None: ...

@final
class GitInfo:
    """Git state of an experiment's code."""

    @property
    def commit(self) -> str: ...
    @property
    def branch(self) -> str | None: ...
    @property
    def dirty(self) -> bool: ...
    @property
    def remote_url(self) -> str | None: ...

@final
class CodeCapture:
    """What code capture stored under code/."""

    @property
    def root(self) -> str: ...
    @property
    def files(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def skipped(self) -> list[str]: ...

@final
class ExperimentCard:
    """The record of one experiment."""

    @property
    def uid(self) -> str: ...
    @property
    def space(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...
    @tags.setter
    def tags(self, value: Iterable[str]) -> None: ...
    @property
    def status(self) -> _Status: ...
    @status.setter
    def status(self, value: str) -> None: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def ended_at(self) -> datetime.datetime | None: ...
    @property
    def uids(self) -> CardUids: ...
    @property
    def parent_uid(self) -> str | None: ...
    @property
    def compute_environment(self) -> ComputeEnvironment: ...
    @property
    def opsml_version(self) -> str: ...
    @property
    def username(self) -> str: ...
    def get_metrics(self, names: str | Iterable[str] | None = None) -> Metrics: ...
    def get_parameters(self, names: str | Iterable[str] | None = None) -> Parameters: ...
    def list_artifacts(self, path: str | None = None) -> list[str]: ...
    def download_artifacts(
        self, path: str | None = None, lpath: str | os.PathLike[str] | None = None
    ) -> list[Path]: ...
    def download_artifact(self, path: str, lpath: str | os.PathLike[str] | None = None) -> Path: ...
    @property
    def git(self) -> GitInfo | None: ...
    @property
    def code(self) -> CodeCapture | None: ...

@final
class CardRecord:
    """One row of a card listing."""

    @property
    def uid(self) -> str: ...
    @property
    def space(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def status(self) -> _Status: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def ended_at(self) -> datetime.datetime | None: ...
    @property
    def parent_uid(self) -> str | None: ...
    @property
    def username(self) -> str: ...

@final
class CardList:
    """Card records; prints as a table."""

    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> CardRecord: ...
    def __iter__(self) -> Iterator[CardRecord]: ...

@final
class RegistryType:
    Experiment: RegistryType
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class CardRegistry:
    """The cards of one type in the store of OPSML_TRACKING_URI."""

    def __new__(cls, registry_type: RegistryType | str) -> CardRegistry: ...
    @property
    def registry_type(self) -> RegistryType: ...
    def list_cards(
        self,
        uid: str | None = None,
        space: str | None = None,
        name: str | None = None,
        version: str | None = None,
        tags: Iterable[str] | None = None,
        max_date: str | datetime.datetime | None = None,
        sort_by_timestamp: bool = False,
        limit: int = 25,
    ) -> CardList: ...
    def load_card(
        self,
        uid: str | None = None,
        space: str | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> ExperimentCard: ...
    def update_card(self, card: ExperimentCard) -> None: ...
    def delete_card(self, card: ExperimentCard | str) -> None: ...

@final
class CardRegistries:
    """Every registry of the store of OPSML_TRACKING_URI."""

    def __new__(cls) -> CardRegistries: ...
    @property
    def experiment(self) -> CardRegistry: ...

@final
class Experiment:
    """A running experiment; use it as a context manager."""

    def log_metric(
        self,
        name: str,
        value: _Number,
        step: int | None = None,
        timestamp: int | None = None,
        created_at: datetime.datetime | None = None,
    ) -> None: ...
    def log_metrics(self, metrics: Iterable[Metric]) -> None: ...
    def log_parameter(self, name: str, value: _ParameterValue) -> None: ...
    def log_parameters(
        self, parameters: dict[str, _ParameterValue] | Iterable[Parameter]
    ) -> None: ...
    def log_artifact(self, lpath: str | os.PathLike[str], rpath: str | None = None) -> None: ...
    def log_artifacts(self, path: str | os.PathLike[str], rpath: str | None = None) -> None: ...
    def log_figure_from_path(
        self, lpath: str | os.PathLike[str], rpath: str | None = None
    ) -> None: ...
    def log_figure(
        self, name: str, figure: object, kwargs: dict[str, object] | None = None
    ) -> None: ...
    def start_experiment(
        self,
        space: str | None = None,
        name: str | None = None,
        code_dir: str | os.PathLike[str] | None = None,
        log_hardware: bool = False,
        experiment_uid: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> Experiment: ...
    @property
    def card(self) -> ExperimentCard: ...
    @property
    def uid(self) -> str: ...
    def flush(self) -> None: ...
    def end(self, status: str = "completed") -> None: ...
    def __enter__(self) -> Experiment: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        _exc_value: BaseException | None = None,
        _traceback: object = None,
    ) -> bool: ...

def start_experiment(
    space: str | None = None,
    name: str | None = None,
    code_dir: str | os.PathLike[str] | None = None,
    log_hardware: bool = False,
    experiment_uid: str | None = None,
    tags: Iterable[str] | None = None,
) -> Experiment: ...
def get_experiment_metrics(uid: str, names: str | Iterable[str] | None = None) -> Metrics: ...
def get_experiment_parameters(uid: str, names: str | Iterable[str] | None = None) -> Parameters: ...
def download_artifact(
    experiment_uid: str, path: str, lpath: str | os.PathLike[str] | None = None
) -> Path: ...
def _end_running_experiments(status: str = "completed") -> None: ...
