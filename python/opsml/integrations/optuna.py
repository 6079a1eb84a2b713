"""Optuna: each finished trial becomes a child run of the study's experiment, with the trial's
parameters, its objective value(s) and state; the study's run follows the best value.

    import optuna
    from opsml import start_experiment
    from opsml.integrations.optuna import OpsmlCallback

    with start_experiment(name="study") as exp:
        study = optuna.create_study()
        study.optimize(objective, n_trials=20, callbacks=[OpsmlCallback(exp)])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opsml import Experiment
from opsml.integrations._require import missing

try:
    from optuna.trial import TrialState
except ImportError as error:
    raise missing("optuna", "optuna") from error


class OpsmlCallback:
    """A callback of `study.optimize`: logs each trial as a child run named `trial-<number>`
    (tagged with its state), and the study's best value so far on the parent as
    `best_value` at the trial's number."""

    def __init__(self, experiment: Experiment, metric_names: str | Sequence[str] = "value") -> None:
        self.experiment = experiment
        self.metric_names = [metric_names] if isinstance(metric_names, str) else list(metric_names)

    def __call__(self, study: Any, trial: Any) -> None:
        state = trial.state.name.lower()
        with self.experiment.start_experiment(
            name=f"trial-{trial.number}", tags=["optuna", state]
        ) as child:
            child.log_parameters(dict(trial.params))
            child.log_parameters({"optuna.trial": trial.number, "optuna.state": state})
            for name, value in zip(self.metric_names, trial.values or [], strict=False):
                child.log_metric(name, float(value))
        completed = TrialState.COMPLETE
        if len(study.directions) == 1 and any(t.state == completed for t in study.trials):
            self.experiment.log_metric("best_value", float(study.best_value), step=trial.number)
