"""Keras: a callback of `model.fit` that logs the optimizer's settings and the fit's parameters,
every epoch's logs as `epoch.<name>` and, when asked, every batch's as `batch.<name>`.

    import keras
    from opsml.integrations.keras import OpsmlCallback

    model.fit(x, y, epochs=10, validation_split=0.2, callbacks=[OpsmlCallback(name="mlp")])

Keras 3 runs on the backend its `KERAS_BACKEND` names (JAX, TensorFlow or PyTorch); any will do.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from opsml import Experiment, Metric, start_experiment
from opsml.integrations._parameters import log_parameters, plain
from opsml.integrations._require import missing

try:
    import keras  # type: ignore[import-untyped]
except ImportError as error:
    raise missing("keras", "keras") from error

log = logging.getLogger(__name__)


class OpsmlCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Logs a Keras `fit` to opsml.

    Without `experiment`, each `fit` starts a run in `space` under `name` (a generated name if
    omitted) with `tags`, and ends it as `completed` when the fit ends; `callback.experiment` is
    the last one. With `experiment=exp`, everything goes into `exp`, which the callback never
    ends.

    When the fit begins: `fit.epochs`, `fit.steps` (batches per epoch) and `fit.verbose`,
    `optimizer.<setting>` for each setting of the optimizer's config (`name`,
    `learning_rate`, ...; values that are not plain are left out), `model.name` and
    `model.parameters` (the number of weights). After each epoch: each value of the epoch's
    logs as `epoch.<name>` (`epoch.loss`, `epoch.val_loss`, `epoch.accuracy`, ...) and the
    optimizer's current `epoch.learning_rate`, at the epoch's index (0, 1, ...) as step. With
    `log_batches=True`, also after each batch: `batch.<name>` (Keras's running means over the
    epoch so far) at the number of batches trained before it in the run (0, 1, ...) as step.
    """

    def __init__(
        self,
        experiment: Experiment | None = None,
        *,
        space: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        log_batches: bool = False,
        log_hardware: bool = False,
    ) -> None:
        super().__init__()
        self.experiment = experiment
        self.space = space
        self.name = name
        self.tags = list(tags) if tags is not None else None
        self.log_batches = log_batches
        self.log_hardware = log_hardware
        self._given = experiment is not None
        self._ended = False  # the callback's own run has ended with its fit
        self._batches = 0  # batches trained so far in the run

    def _run(self) -> Experiment:
        if self.experiment is None or self._ended:
            self.experiment = start_experiment(
                space=self.space, name=self.name, tags=self.tags, log_hardware=self.log_hardware
            )
            self._ended = False
            self._batches = 0
        return self.experiment

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        experiment = self._run()
        fields: dict[str, Any] = {"fit": dict(self.params or {})}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            try:
                fields["optimizer"] = optimizer.get_config()
            except NotImplementedError:
                fields["optimizer"] = {"name": type(optimizer).__name__}
        fields["model"] = {"name": self.model.name}
        with contextlib.suppress(ValueError):  # a model not built yet has no weights to count
            fields["model"]["parameters"] = self.model.count_params()
        log_parameters(experiment, plain(fields))

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        step = self._batches
        self._batches += 1
        if self.log_batches and logs:
            self._log("batch", logs, step)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        values = dict(logs or {})
        learning_rate = _learning_rate(getattr(self.model, "optimizer", None))
        if learning_rate is not None:
            values.setdefault("learning_rate", learning_rate)
        self._log("epoch", values, epoch)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.experiment is None:
            return
        if self._given:
            self.experiment.flush()
        elif not self._ended:
            self.experiment.end()
            self._ended = True  # the next fit starts a run of its own

    def _log(self, prefix: str, logs: Mapping[str, Any], step: int) -> None:
        points = []
        for name, value in logs.items():
            number = _number(value)
            if number is not None:
                points.append(Metric(f"{prefix}.{name}", number, step=step))
        if points:
            self._run().log_metrics(points)


def _learning_rate(optimizer: Any) -> float | None:
    """The optimizer's learning rate now (a schedule's current value), or None."""
    if optimizer is None:
        return None
    try:
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    """A logged value as a metric: ints, floats and one-element tensors or arrays; None for
    anything else."""
    if isinstance(value, (bool, str)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        array = keras.ops.convert_to_numpy(value)
    except (TypeError, ValueError):
        return None
    return float(array) if array.size == 1 and array.dtype.kind in "iuf" else None
