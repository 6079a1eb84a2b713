"""XGBoost with the opsml callback: every evaluation metric of every boosting round."""

import numpy as np
import xgboost as xgb
from opsml import get_experiment_metrics, start_experiment
from opsml.integrations.xgboost import OpsmlCallback

rng = np.random.default_rng(0)
features = rng.normal(size=(500, 5))
labels = (features[:, 0] - features[:, 1] > 0).astype(int)
dtrain = xgb.DMatrix(features[:400], label=labels[:400])
dvalid = xgb.DMatrix(features[400:], label=labels[400:])
params = {"objective": "binary:logistic", "max_depth": 3, "eval_metric": ["logloss", "error"]}

with start_experiment(space="xgboost-example", name="classifier") as exp:
    exp.log_parameters(params)
    callbacks = [OpsmlCallback(exp)]
    xgb.train(params, dtrain, 20, evals=[(dvalid, "valid")], callbacks=callbacks, verbose_eval=0)

errors = get_experiment_metrics(exp.uid, names=["valid.error"])
print(f"validation error after {len(errors)} rounds: {errors[-1].value:.3f}")
