"""The framework integrations, each with the real framework on a tiny model built here."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from opsml import CardRegistry, get_experiment_metrics, get_experiment_parameters, start_experiment


def regression_data(rows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(rows, 4))
    target = features @ np.array([1.5, -2.0, 0.5, 0.0]) + rng.normal(scale=0.1, size=rows)
    return features, target


def steps_of(uid: str, name: str) -> list[int | None]:
    return [m.step for m in get_experiment_metrics(uid, names=[name])]


def test_lightgbm_logs_every_evaluation_of_every_iteration() -> None:
    import lightgbm as lgb
    from opsml.integrations.lightgbm import callback

    features, target = regression_data()
    train = lgb.Dataset(features[:150], target[:150])
    valid = lgb.Dataset(features[150:], target[150:], reference=train)
    params = {"objective": "regression", "metric": ["l2", "l1"], "verbose": -1, "num_leaves": 4}
    with start_experiment(name="lightgbm") as exp:
        exp.log_parameters(params)
        lgb.train(
            params,
            train,
            num_boost_round=8,
            valid_sets=[train, valid],
            valid_names=["train", "valid"],
            callbacks=[callback(exp)],
        )
    metrics = get_experiment_metrics(exp.uid)
    assert set(metrics.names) == {"train.l2", "train.l1", "valid.l2", "valid.l1"}
    assert steps_of(exp.uid, "valid.l2") == list(range(8))
    losses = [m.value for m in get_experiment_metrics(exp.uid, names=["train.l2"])]
    assert losses[-1] < losses[0]


def test_xgboost_logs_every_round_and_the_cross_validation_means() -> None:
    import xgboost as xgb
    from opsml.integrations.xgboost import OpsmlCallback

    features, target = regression_data()
    dtrain = xgb.DMatrix(features[:150], label=target[:150])
    dvalid = xgb.DMatrix(features[150:], label=target[150:])
    params = {"max_depth": 2, "eta": 0.3, "eval_metric": ["rmse", "mae"]}
    with start_experiment(name="xgboost") as exp:
        xgb.train(
            params,
            dtrain,
            num_boost_round=6,
            evals=[(dtrain, "train"), (dvalid, "valid")],
            callbacks=[OpsmlCallback(exp)],
            verbose_eval=False,
        )
    assert set(get_experiment_metrics(exp.uid).names) == {
        "train.rmse",
        "train.mae",
        "valid.rmse",
        "valid.mae",
    }
    assert steps_of(exp.uid, "valid.rmse") == list(range(6))
    with start_experiment(name="xgboost-cv") as cv:
        xgb.cv(params, dtrain, num_boost_round=4, nfold=3, callbacks=[OpsmlCallback(cv)])
    assert steps_of(cv.uid, "test.rmse") == list(range(4))


def test_optuna_trials_are_child_runs_with_their_parameters_and_values() -> None:
    import optuna
    from opsml.integrations.optuna import OpsmlCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -3, 3)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if trial.number == 3:
            raise optuna.TrialPruned()
        return (x - 1) ** 2 + (0.5 if kind == "b" else 0.0)

    with start_experiment(name="study") as exp:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
        study.optimize(objective, n_trials=5, callbacks=[OpsmlCallback(exp)])
    card = CardRegistry("experiment").load_card(uid=exp.uid)
    children = card.uids.experimentcard_uids
    assert len(children) == 5
    trials = {t.number: t for t in study.trials}
    for uid in children:
        child = CardRegistry("experiment").load_card(uid=uid)
        assert child.parent_uid == exp.uid
        params = get_experiment_parameters(uid).to_dict()
        trial = trials[params["optuna.trial"]]
        assert child.name == f"trial-{trial.number}"
        assert params["x"] == trial.params["x"]
        assert params["kind"] == trial.params["kind"]
        if trial.number == 3:
            assert params["optuna.state"] == "pruned"
            assert "pruned" in child.tags
            assert len(get_experiment_metrics(uid)) == 0
        else:
            [value] = get_experiment_metrics(uid, names=["value"])
            assert value.value == pytest.approx(trial.value)
    best = [m.value for m in get_experiment_metrics(exp.uid, names=["best_value"])]
    assert best[-1] == pytest.approx(study.best_value)
    assert best == sorted(best, reverse=True)


def test_sklearn_autolog_logs_each_outermost_fit_once() -> None:
    from opsml.integrations.sklearn import autolog
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = regression_data()
    autolog(space="sk")
    try:
        Ridge(alpha=0.5).fit(features, target)
        make_pipeline(StandardScaler(), Ridge(alpha=2.0)).fit(features, target)
        GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=2).fit(features, target)
        # scikit-learn's own checks still run: a bad parameter fails the fit and its run.
        with pytest.raises(ValueError, match="alpha"):
            Ridge(alpha=-1.0).fit(features, target)
    finally:
        autolog(disable=True)
    Ridge().fit(features, target)  # after disable: not logged
    cards = sorted(CardRegistry("experiment").list_cards(space="sk"), key=lambda c: c.created_at)
    assert [c.name for c in cards] == ["Ridge", "Pipeline", "GridSearchCV", "Ridge"]
    assert [c.status for c in cards] == ["completed"] * 3 + ["failed"]
    cards = cards[:3]
    ridge = get_experiment_parameters(cards[0].uid).to_dict()
    assert ridge["estimator"] == "Ridge"
    assert ridge["alpha"] == 0.5
    assert ridge["fit_intercept"] is True
    pipeline = get_experiment_parameters(cards[1].uid).to_dict()
    assert pipeline["ridge__alpha"] == 2.0
    assert "StandardScaler" in str(pipeline["standardscaler"])
    for card in cards:
        names = get_experiment_metrics(card.uid).names
        assert names == ["fit_time_seconds", "training_score"], card.name
    [score] = get_experiment_metrics(cards[0].uid, names=["training_score"])
    assert 0.9 < score.value <= 1.0


@pytest.mark.parametrize(
    ("module", "framework", "extra"),
    [
        ("lightgbm", "lightgbm", "lightgbm"),
        ("xgboost", "xgboost", "xgboost"),
        ("optuna", "optuna", "optuna"),
        ("sklearn", "sklearn", "sklearn"),
    ],
)
def test_an_integration_without_its_framework_names_the_extra(
    module: str, framework: str, extra: str
) -> None:
    # A fresh interpreter in which the framework cannot be imported.
    program = textwrap.dedent(f"""
        import sys
        sys.modules[{framework!r}] = None
        try:
            import opsml.integrations.{module}
        except ImportError as error:
            print(error)
        """)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert f'pip install "opsml-tracker[{extra}]"' in done.stdout, done.stdout + done.stderr
