"""LightGBM: every evaluation metric of every iteration, as `<dataset>.<metric>` at its step.

import lightgbm as lgb
from opsml import start_experiment
from opsml.integrations.lightgbm import callback

with start_experiment(name="gbm") as exp:
    exp.log_parameters(params)
    lgb.train(params, train, valid_sets=[valid], callbacks=[callback(exp)])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsml import Experiment, Metric
from opsml.integrations._require import missing

try:
    import lightgbm  # noqa: F401  (the callback needs no name of it, only that it is there)
except ImportError as error:
    raise missing("lightgbm", "lightgbm") from error

# After LightGBM's own callbacks that record the evaluation (order 10 and 20).
_ORDER = 30


def callback(experiment: Experiment) -> Callable[[Any], None]:
    """A LightGBM callback that logs each evaluation result to `experiment`
    (`lgb.cv`'s aggregated means as `cv_agg.<metric>`)."""

    def log_evaluation(env: Any) -> None:
        experiment.log_metrics(
            [
                Metric(f"{result[0]}.{result[1]}", float(result[2]), step=env.iteration)
                for result in env.evaluation_result_list or []
            ]
        )

    log_evaluation.order = _ORDER  # type: ignore[attr-defined]
    return log_evaluation
