"""LightGBM with the opsml callback: every evaluation metric of every iteration."""

import lightgbm as lgb
import numpy as np
from opsml import get_experiment_metrics, start_experiment
from opsml.integrations.lightgbm import callback

rng = np.random.default_rng(0)
features = rng.normal(size=(500, 5))
target = features @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(scale=0.1, size=500)
train, valid = lgb.Dataset(features[:400], target[:400]), lgb.Dataset(features[400:], target[400:])
params = {"objective": "regression", "metric": "l2", "num_leaves": 8, "verbose": -1}

with start_experiment(space="lightgbm-example", name="regression") as exp:
    exp.log_parameters(params)
    lgb.train(params, train, num_boost_round=20, valid_sets=[valid], callbacks=[callback(exp)])

losses = get_experiment_metrics(exp.uid, names=["valid_0.l2"])
print(f"validation l2 from {losses[0].value:.3f} to {losses[-1].value:.3f} in {len(losses)} rounds")
