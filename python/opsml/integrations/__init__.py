"""opsml inside the training frameworks people use: a callback or a switch per framework.

Each module imports only when its framework is installed, and otherwise raises an
`ImportError` naming the extra to install:

- `opsml.integrations.sklearn`: `autolog()`, an experiment for every `fit` of an estimator.
- `opsml.integrations.lightgbm`: `callback(exp)` for `lightgbm.train(callbacks=[...])`.
- `opsml.integrations.xgboost`: `OpsmlCallback(exp)` for `xgboost.train(callbacks=[...])`.
- `opsml.integrations.optuna`: `OpsmlCallback(exp)`, each trial a child run of the study's.
- `opsml.integrations.lightning`: `OpsmlLogger(...)` for `lightning.Trainer(logger=...)`.
- `opsml.integrations.transformers`: `OpsmlCallback()` for `Trainer(callbacks=[...])`.
- `opsml.integrations.keras`: `OpsmlCallback()` for `model.fit(callbacks=[...])`.
"""
