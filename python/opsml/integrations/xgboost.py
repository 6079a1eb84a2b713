"""XGBoost: every evaluation metric of every boosting round, as `<dataset>.<metric>`.

import xgboost as xgb
from opsml import start_experiment
from opsml.integrations.xgboost import OpsmlCallback

with start_experiment(name="xgb") as exp:
    exp.log_parameters(params)
    xgb.train(params, dtrain, evals=[(dvalid, "valid")], callbacks=[OpsmlCallback(exp)])
"""

from __future__ import annotations

from typing import Any

from opsml import Experiment, Metric
from opsml.integrations._require import missing

try:
    from xgboost.callback import TrainingCallback
except ImportError as error:
    raise missing("xgboost", "xgboost") from error


class OpsmlCallback(TrainingCallback):
    """Logs the last value of each evaluation metric after every round (the mean, for
    `xgb.cv`)."""

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        metrics = []
        for dataset, scores in evals_log.items():
            for name, values in scores.items():
                last = values[-1]
                value = last[0] if isinstance(last, tuple) else last
                metrics.append(Metric(f"{dataset}.{name}", float(value), step=epoch))
        self.experiment.log_metrics(metrics)
        return False  # never stops the training
