"""PyTorch Lightning: a logger that records a `Trainer`'s hyperparameters and metrics (and, when
asked, its checkpoints) in one run, from the process of global rank 0.

    from lightning.pytorch import Trainer
    from opsml.integrations.lightning import OpsmlLogger

    trainer = Trainer(max_epochs=10, logger=OpsmlLogger(space="vision", name="resnet"))
    trainer.fit(model, train_loader, val_loader)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import weakref
from argparse import Namespace
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from opsml import Experiment, Metric, start_experiment
from opsml.integrations._require import missing

try:
    from lightning.fabric.loggers.logger import rank_zero_experiment
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.utilities import rank_zero_only
except ImportError as error:
    raise missing("lightning", "lightning") from error

log = logging.getLogger(__name__)

# A value that is no parameter is logged as its text, cut to this many characters.
_MAX_TEXT = 1000
# Arrays of more values than this are logged as their text rather than one parameter each.
_MAX_ARRAY = 100


class OpsmlLogger(Logger):
    """A Lightning logger writing to an opsml experiment.

    The run starts on first use (in the process of global rank 0 only; the other ranks log
    nothing), in `space` under `name` (a generated name if omitted) with `tags`, and ends when
    the `Trainer` finalizes its logger: `completed` after a successful `fit`/`test`, `failed`
    when it raised (`killed` on `KeyboardInterrupt`). A later `fit`/`test` with the same logger
    resumes the same run. Pass `experiment=` to log into a run of your own instead: the logger
    never ends that one.

    Hyperparameters (`save_hyperparameters()`, `log_hyperparams`) are flattened to dotted names;
    a value that is not a parameter (a module, a function) is logged as its text. Metrics keep
    Lightning's names and steps. With `log_checkpoints=True`, each checkpoint that
    `ModelCheckpoint` saves is stored as the artifact `checkpoints/<file name>`.

    `name` is the run's name and `version` its uid. For `ddp_spawn` (the logger is pickled)
    and `ddp_fork` (the launching process forks), a run not started yet is started in the
    launching process and handed over: the worker of rank 0 resumes it, logs into it and ends
    it, and the launching process marks it failed when the training raised.
    """

    def __init__(
        self,
        space: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        *,
        experiment: Experiment | None = None,
        log_checkpoints: bool = False,
        log_hardware: bool = False,
    ) -> None:
        super().__init__()
        self._space = space
        self._name = name
        self._tags = list(tags) if tags is not None else None
        self._log_checkpoints = log_checkpoints
        self._log_hardware = log_hardware
        self._experiment = experiment
        self._uid = experiment.uid if experiment is not None else None
        # A run given by the caller is theirs to end; one the logger started is its own.
        self._given = experiment is not None
        self._ended = False
        self._logged_checkpoints: set[tuple[str, float]] = set()
        _hand_over_at_fork(self)

    @property
    @rank_zero_experiment
    def experiment(self) -> Experiment:
        """The opsml `Experiment` (started on first use; a no-op object on ranks other than 0)."""
        if self._experiment is None or self._ended:
            if self._uid is None:
                self._experiment = start_experiment(
                    space=self._space,
                    name=self._name,
                    tags=self._tags,
                    log_hardware=self._log_hardware,
                )
                self._uid = self._experiment.uid
            else:
                self._experiment = start_experiment(
                    experiment_uid=self._uid, log_hardware=self._log_hardware
                )
            self._ended = False
        return self._experiment

    @property
    def name(self) -> str | None:
        """The run's name."""
        if self._name is None and _global_rank() == 0:
            self._name = self.experiment.card.name
        return self._name

    @property
    def version(self) -> str | None:
        """The run's uid."""
        if self._uid is None and _global_rank() == 0:
            _ = self.experiment
        return self._uid

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Logs `params` (a dict, `Namespace` or `AttributeDict`) as parameters."""
        if params is None:
            return
        fields = _loggable(params)
        if not isinstance(fields, dict):
            fields = {"hparams": fields}
        _log_parameters(self.experiment, fields)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Logs each numeric value of `metrics` at `step`."""
        points = []
        for metric, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                log.warning("metric %r: %r is not a number; not logged", metric, value)
                continue
            points.append(Metric(metric, number, step=step))
        if points:
            self.experiment.log_metrics(points)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Stores the checkpoints saved since the last call, with `log_checkpoints=True`."""
        if not self._log_checkpoints:
            return
        paths = {
            getattr(checkpoint_callback, "best_model_path", ""),
            getattr(checkpoint_callback, "last_model_path", ""),
            *getattr(checkpoint_callback, "best_k_models", {}),
        }
        for path in sorted(p for p in paths if p and os.path.isfile(p)):
            saved = (path, os.path.getmtime(path))
            if saved not in self._logged_checkpoints:
                self.experiment.log_artifact(path, f"checkpoints/{os.path.basename(path)}")
                self._logged_checkpoints.add(saved)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Ends the run the logger started: `completed` on "success", otherwise `failed`
        (`killed` when a `KeyboardInterrupt` is being handled)."""
        if self._uid is None:
            return  # nothing was logged: there is no run to end
        if self._given:
            if self._experiment is not None:
                self._experiment.flush()
            return
        if status in ("success", "finished"):
            if not self._ended:
                self.experiment.end("completed")
                self._ended = True
            return
        interrupted = isinstance(sys.exc_info()[1], KeyboardInterrupt) or status == "aborted"
        # Also after a spawned worker ended the run: the launching process sees the failure.
        self.experiment.end("killed" if interrupted else "failed")
        self._ended = True

    def _hand_over(self) -> None:
        """Starts the run here, so that this process knows it and can mark it failed, and
        ends it for now: a worker resumes it by uid and ends it when its training ends (a run
        of the caller's, the worker only stores into)."""
        if _global_rank() == 0 and self._uid is None:
            _ = self.experiment
        if self._experiment is not None and not self._given and not self._ended:
            self._experiment.end("completed")
            self._ended = True

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for worker processes (`ddp_spawn`).
        self._hand_over()
        state = self.__dict__.copy()
        state.update(_experiment=None, _ended=False)
        return state

    def _before_fork(self) -> None:
        # A fork before the run started is a launcher's (`ddp_fork`): the run is handed over.
        # Once it runs here, forks (data-loader workers) inherit it as any opsml run.
        if self._uid is None and not self._given:
            self._hand_over()
            self._handed_over = True

    def _after_fork_in_child(self) -> None:
        if getattr(self, "_handed_over", False):
            self._experiment = None
            self._ended = False


def _hand_over_at_fork(logger: OpsmlLogger) -> None:
    """Hands `logger`'s run over to forked workers while the logger lives (see
    `OpsmlLogger._before_fork`); nothing where processes do not fork."""
    if not hasattr(os, "register_at_fork"):
        return
    alive = weakref.ref(logger)

    def before() -> None:
        if (me := alive()) is not None:
            me._before_fork()

    def after_in_child() -> None:
        if (me := alive()) is not None:
            me._after_fork_in_child()

    os.register_at_fork(before=before, after_in_child=after_in_child)


def _global_rank() -> int:
    """This process's global rank, as Lightning has set it (0 outside distributed training)."""
    return int(getattr(rank_zero_only, "rank", 0))


def _loggable(value: Any, depth: int = 0) -> Any:
    """`value` as parameters take it: mappings, lists, dataclasses and namespaces kept for
    flattening, plain values, enums and paths as they are, anything else as its text."""
    if value is None or isinstance(value, (str, bool, int, float, Enum, os.PathLike)):
        return value
    if depth > 16:
        return _text(value)
    if isinstance(value, Namespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _loggable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_loggable(item, depth + 1) for item in value]
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # NumPy and torch
        size = value.numel() if callable(getattr(value, "numel", None)) else value.size
        if isinstance(size, int) and size <= _MAX_ARRAY:
            return _loggable(value.tolist(), depth + 1)
    return _text(value)


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _log_parameters(experiment: Experiment, fields: dict[str, Any]) -> None:
    """Logs `fields`; where the whole refuses (a bad name, too many values), each field
    alone, as its text where it still refuses, and leaves out what no form takes."""
    try:
        experiment.log_parameters(fields)
        return
    except (TypeError, ValueError):
        pass
    for name, value in fields.items():
        for form in (value, _text(value)):
            try:
                experiment.log_parameters({name: form})
                break
            except (TypeError, ValueError) as error:
                refusal = error
        else:
            log.warning("hyperparameter %r not logged: %s", name, refusal)
