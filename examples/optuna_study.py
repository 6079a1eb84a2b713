"""An Optuna study whose trials are child runs of the study's experiment."""

import optuna
from opsml import runs, start_experiment
from opsml.integrations.optuna import OpsmlCallback

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    return (x - 2) ** 2


with start_experiment(space="optuna-example", name="study") as exp:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=10, callbacks=[OpsmlCallback(exp)])

trials = runs(f"parent_uid = '{exp.uid}'", order_by="metrics.value.last asc")
print(f"{len(trials)} trials; best x = {trials.iloc[0]['params.x']:.3f}")
