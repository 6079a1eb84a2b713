"""Hugging Face Transformers: a `Trainer` callback that logs the training arguments and the
model's config as parameters, every logged value as a metric at its global step and, when
asked, each saved checkpoint.

    from transformers import Trainer
    from opsml.integrations.transformers import OpsmlCallback

    trainer = Trainer(model, args, train_dataset=train, callbacks=[OpsmlCallback(name="bert")])
    trainer.train()
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from opsml import Experiment, Metric, start_experiment
from opsml.integrations._parameters import log_parameters, plain
from opsml.integrations._require import missing

try:
    from transformers import TrainerCallback
except ImportError as error:
    raise missing("transformers", "transformers") from error

log = logging.getLogger(__name__)


class OpsmlCallback(TrainerCallback):
    """Logs a `Trainer`'s run to opsml, from the main process only (`is_world_process_zero`).

    Without `experiment`, each `train()` starts a run in `space` under `name` (else the
    arguments' `run_name`, else a generated name) with `tags` and ends it as `completed` when
    the training ends; what is logged after that (`trainer.evaluate()`) is added to that run.
    With `experiment=exp`, everything goes into `exp`, which the callback never ends.

    At the start of training: `args.<field>` for each field of `TrainingArguments.to_dict()` and
    `model.<field>` for the model's config; nested values are flattened to dotted names and
    values that are not plain (None, bool, int, float, str) are left out. Then every number the
    `Trainer` logs (`loss`, `learning_rate`, `grad_norm`, `epoch`, `eval_loss`, ...) is a metric
    of that name at `state.global_step`. With `log_checkpoints=True`, each checkpoint folder is
    stored as the artifacts `checkpoints/checkpoint-<step>/...`.
    """

    def __init__(
        self,
        experiment: Experiment | None = None,
        *,
        space: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        log_checkpoints: bool = False,
        log_hardware: bool = False,
    ) -> None:
        self.experiment = experiment
        self.space = space
        self.name = name
        self.tags = list(tags) if tags is not None else None
        self.log_checkpoints = log_checkpoints
        self.log_hardware = log_hardware
        self._given = experiment is not None
        self._ended = False  # the callback's own run has ended with its training

    def _start(self, args: Any) -> Experiment:
        self.experiment = start_experiment(
            space=self.space,
            name=self.name or getattr(args, "run_name", None),
            tags=self.tags,
            log_hardware=self.log_hardware,
        )
        self._ended = False
        return self.experiment

    def _log(self, args: Any, write: Callable[[Experiment], None]) -> None:
        """Calls `write` with the run to log into: the given one or the callback's own, started
        here if there is none yet, and resumed for the call if its training has ended."""
        if self.experiment is None:
            write(self._start(args))
        elif self._ended:
            with start_experiment(experiment_uid=self.experiment.uid) as resumed:
                write(resumed)
        else:
            write(self.experiment)

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        # A run of its own for each training; one that only evaluated so far (or whose
        # training raised) goes on.
        if not self._given and (self.experiment is None or self._ended):
            self._start(args)
        fields = {"args": args.to_dict()}
        config = getattr(model, "config", None)
        if config is not None and callable(getattr(config, "to_dict", None)):
            fields["model"] = config.to_dict()
        self._log(args, lambda experiment: log_parameters(experiment, plain(fields)))

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        points = []
        for name, value in logs.items():
            number = _number(value)
            if number is not None:
                points.append(Metric(name, number, step=state.global_step))
        if points:
            self._log(args, lambda experiment: experiment.log_metrics(points))

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not (self.log_checkpoints and state.is_world_process_zero):
            return
        folder = f"checkpoint-{state.global_step}"
        path = os.path.join(args.output_dir, folder)
        if os.path.isdir(path):
            self._log(
                args, lambda experiment: experiment.log_artifacts(path, f"checkpoints/{folder}")
            )
        else:
            log.warning("checkpoint folder %s not found; not stored", path)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self.experiment is None:
            return
        if self._given:
            self.experiment.flush()
        elif not self._ended:
            self.experiment.end()
            self._ended = True


def _number(value: Any) -> float | None:
    """A logged value as a metric: ints, floats and one-element tensors or arrays; None for
    anything else (text, booleans)."""
    if isinstance(value, (bool, str)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    size = getattr(value, "numel", None)
    size = size() if callable(size) else getattr(value, "size", None)
    if size == 1 and callable(getattr(value, "item", None)):
        item = value.item()
        return None if isinstance(item, bool) else float(item)
    return None
