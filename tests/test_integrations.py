"""The framework integrations, each with the real framework on a tiny model built here."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

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
        ("lightning", "lightning", "lightning"),
        ("transformers", "transformers", "transformers"),
        ("keras", "keras", "keras"),
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


# PyTorch Lightning, Transformers and Keras (on its PyTorch backend): tiny models on random
# data, on the CPU. Lightning warns about the tiny data and the CPU; those warnings are no news.
LIGHTNING_NOISE = [
    "ignore::lightning.fabric.utilities.warnings.PossibleUserWarning",
    "ignore:GPU available but not used:UserWarning",
    "ignore:.*does not have many workers:UserWarning",
    "ignore:Checkpoint directory .* exists and is not empty:UserWarning",
    # Lightning on a newer torch than it knows.
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning",
]

# A module as text: the tests run it here, and the DDP test as a script whose spawned workers
# import it again.
LIGHTNING_MODULE = """
import torch
from lightning.pytorch import LightningModule
from torch.utils.data import DataLoader, TensorDataset


class TwoLayers(LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.05, fail_at_step: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def loss(self, batch):
        features, target = batch
        return torch.nn.functional.mse_loss(self.net(features).squeeze(-1), target)

    def training_step(self, batch, batch_idx):
        if self.global_step == self.hparams.fail_at_step:
            raise RuntimeError("the loss diverged")
        loss = self.loss(batch)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.loss(batch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loaders(rows: int = 32):
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(rows, 4, generator=generator)
    target = features @ torch.tensor([1.5, -2.0, 0.5, 0.0])
    data = TensorDataset(features, target)
    return DataLoader(data, batch_size=8), DataLoader(data, batch_size=16)
"""


def lightning_module() -> dict[str, Any]:
    names: dict[str, Any] = {"__name__": "tiny_lightning"}
    exec(LIGHTNING_MODULE, names)
    return names


def lightning_trainer(logger: object, **options: Any) -> Any:
    from lightning.pytorch import Trainer

    settings: dict[str, Any] = {
        "max_epochs": 2,
        "accelerator": "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "log_every_n_steps": 1,
    }
    return Trainer(logger=logger, **{**settings, **options})


@pytest.mark.filterwarnings(*LIGHTNING_NOISE)
def test_lightning_logger_records_hyperparameters_metrics_and_checkpoints() -> None:
    from opsml.integrations.lightning import OpsmlLogger

    module = lightning_module()
    train, valid = module["loaders"]()
    logger = OpsmlLogger(space="lightning", name="two-layers", tags=["tiny"], log_checkpoints=True)
    trainer = lightning_trainer(logger)
    trainer.fit(module["TwoLayers"](hidden=8, lr=0.05), train, valid)
    uid = logger.version
    assert uid is not None
    card = CardRegistry("experiment").load_card(uid=uid)
    assert (card.space, card.name, card.tags, card.status) == (
        "lightning",
        "two-layers",
        ["tiny"],
        "completed",
    )
    assert logger.name == "two-layers"
    params = get_experiment_parameters(uid).to_dict()
    assert (params["hidden"], params["lr"], params["fail_at_step"]) == (8, 0.05, -1)
    # 4 batches an epoch, 2 epochs: a loss at every step, a validation loss after each epoch.
    assert steps_of(uid, "train_loss") == list(range(8))
    assert steps_of(uid, "val_loss") == [3, 7]
    assert set(get_experiment_metrics(uid).names) == {"train_loss", "val_loss", "epoch"}
    assert card.list_artifacts("checkpoints") == [
        "checkpoints/epoch=0-step=4.ckpt",
        "checkpoints/epoch=1-step=8.ckpt",
    ]
    # A validation after the fit goes into the same run, which ends completed again.
    trainer.validate(module["TwoLayers"](), valid, verbose=False)
    assert len(steps_of(uid, "val_loss")) == 3
    assert CardRegistry("experiment").load_card(uid=uid).status == "completed"


@pytest.mark.filterwarnings(*LIGHTNING_NOISE)
def test_lightning_logger_fails_the_run_of_a_training_that_raises() -> None:
    from opsml import Experiment
    from opsml.integrations.lightning import OpsmlLogger

    module = lightning_module()
    train, _ = module["loaders"]()
    logger = OpsmlLogger(space="lightning")
    with pytest.raises(RuntimeError, match="diverged"):
        lightning_trainer(logger).fit(module["TwoLayers"](fail_at_step=3), train)
    uid = logger.version
    assert uid is not None
    assert CardRegistry("experiment").load_card(uid=uid).status == "failed"
    assert steps_of(uid, "train_loss") == [0, 1, 2]
    assert not CardRegistry("experiment").load_card(uid=uid).list_artifacts("checkpoints")
    # Into a run of the caller's: the logger leaves it running.
    with start_experiment(space="lightning", name="own") as exp:
        assert isinstance(exp, Experiment)
        own = OpsmlLogger(experiment=exp)
        lightning_trainer(own, max_epochs=1).fit(module["TwoLayers"](), train)
        assert (own.version, own.name) == (exp.uid, "own")
        assert exp.card.status == "running"
    assert steps_of(exp.uid, "train_loss") == list(range(4))
    assert CardRegistry("experiment").load_card(uid=exp.uid).status == "completed"


@pytest.mark.filterwarnings(*LIGHTNING_NOISE)
@pytest.mark.sqlite_only(
    "three interpreters importing torch: the hand-over is the same on every store"
)
@pytest.mark.parametrize("strategy", ["ddp_spawn", "ddp_fork"])
def test_lightning_logger_logs_from_rank_zero_of_a_ddp_training(
    tmp_path: Path, strategy: str
) -> None:
    # Two CPU processes (gloo). Spawned, the logger is pickled into each, the run started by
    # the launching process and resumed by rank 0; forked, rank 0 starts it. Only rank 0 logs.
    script = tmp_path / "ddp.py"
    script.write_text(
        LIGHTNING_MODULE
        + f"STRATEGY = {strategy!r}\n"
        + textwrap.dedent("""
            if __name__ == "__main__":
                import warnings
                from lightning.pytorch import Trainer
                from opsml.integrations.lightning import OpsmlLogger

                warnings.simplefilter("ignore")
                train, valid = loaders()
                logger = OpsmlLogger(space="ddp", name="spawned")
                trainer = Trainer(
                    max_epochs=2, accelerator="cpu", strategy=STRATEGY, devices=2,
                    logger=logger, enable_progress_bar=False, enable_model_summary=False,
                    enable_checkpointing=False, log_every_n_steps=1,
                )
                trainer.fit(TwoLayers(hidden=4), train, valid)
                print(logger.version)
            """)
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [record] = CardRegistry("experiment").list_cards(space="ddp")
    assert (record.name, record.status) == ("spawned", "completed")
    uid = record.uid
    if strategy == "ddp_spawn":
        # The launching process started the run, so it knows it too.
        assert done.stdout.split()[-1] == uid
    assert get_experiment_parameters(uid).to_dict()["hidden"] == 4
    # Each rank trains on half of the 4 batches of an epoch: 2 steps an epoch, logged once.
    assert steps_of(uid, "train_loss") == list(range(4))
    assert steps_of(uid, "val_loss") == [1, 3]


def tiny_bert_and_data(rows: int = 32) -> tuple[Any, list[dict[str, Any]]]:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    tokens = torch.randint(0, 64, (rows, 8))
    data = [{"input_ids": t, "labels": int(t[0] % 2)} for t in tokens]
    return BertForSequenceClassification(config), data


def test_transformers_callback_logs_arguments_config_losses_and_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from opsml.integrations.transformers import OpsmlCallback
    from transformers import Trainer, TrainingArguments

    model, data = tiny_bert_and_data()
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=4,
        logging_steps=1,
        save_steps=2,
        per_device_train_batch_size=8,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    callback = OpsmlCallback(space="hf", name="bert", log_checkpoints=True)
    trainer = Trainer(model, args, train_dataset=data, eval_dataset=data, callbacks=[callback])
    trainer.train()
    assert callback.experiment is not None
    uid = callback.experiment.uid
    card = CardRegistry("experiment").load_card(uid=uid)
    assert (card.space, card.name, card.status) == ("hf", "bert", "completed")
    params = get_experiment_parameters(uid).to_dict()
    assert (params["args.max_steps"], params["args.learning_rate"]) == (4, 1e-3)
    assert (params["model.hidden_size"], params["model.model_type"]) == (16, "bert")
    # Nested values flattened to dotted names.
    assert (params["model.id2label.1"], params["args.accelerator_config.even_batches"]) == (
        "LABEL_1",
        True,
    )
    assert all(name.startswith(("args.", "model.")) for name in params)
    names = get_experiment_metrics(uid).names
    assert {"loss", "learning_rate", "grad_norm", "epoch", "train_runtime"} <= set(names)
    assert steps_of(uid, "loss") == [1, 2, 3, 4]
    stored = card.list_artifacts("checkpoints")
    assert {path.split("/")[1] for path in stored} == {"checkpoint-2", "checkpoint-4"}
    assert "checkpoints/checkpoint-4/config.json" in stored
    # An evaluation after the training is added to its run, which stays completed.
    trainer.evaluate()
    assert steps_of(uid, "eval_loss") == [4]
    assert CardRegistry("experiment").load_card(uid=uid).status == "completed"
    assert len(CardRegistry("experiment").list_cards(space="hf")) == 1


def test_transformers_callback_logs_into_a_given_run_from_the_main_process_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from opsml.integrations.transformers import OpsmlCallback
    from transformers import Trainer, TrainingArguments

    model, data = tiny_bert_and_data(16)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        logging_steps=1,
        save_strategy="no",
        per_device_train_batch_size=8,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    with start_experiment(space="hf", name="given") as exp:
        Trainer(model, args, train_dataset=data, callbacks=[OpsmlCallback(exp)]).train()
        assert exp.card.status == "running"
    assert steps_of(exp.uid, "loss") == [1, 2]
    assert get_experiment_parameters(exp.uid).to_dict()["args.max_steps"] == 2
    # Another process of a distributed training logs nothing.
    callback = OpsmlCallback(space="hf", name="rank-1")
    trainer = Trainer(model, args, train_dataset=data, callbacks=[callback])
    trainer.state.is_world_process_zero = False
    callback.on_train_begin(args, trainer.state, trainer.control, model=model)
    callback.on_log(args, trainer.state, trainer.control, logs={"loss": 1.0})
    assert callback.experiment is None
    assert [c.name for c in CardRegistry("experiment").list_cards(space="hf")] == ["given"]


# Keras's own variables meet NumPy 2's `__array__(copy=...)`: its warning, not this module's.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_keras_callback_logs_epochs_batches_and_the_optimizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keras on its PyTorch backend, chosen before keras is first imported.
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    import keras
    from opsml.integrations.keras import OpsmlCallback

    assert keras.backend.backend() == "torch"
    keras.utils.set_random_seed(0)
    features, target = regression_data(64)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    callback = OpsmlCallback(space="keras", name="dense", log_batches=True)
    # 48 rows to train on after the validation split: 3 batches an epoch.
    fit = {"batch_size": 16, "validation_split": 0.25, "verbose": 0}
    model.fit(features, target, epochs=2, callbacks=[callback], **fit)
    [record] = CardRegistry("experiment").list_cards(space="keras")
    assert (record.name, record.status) == ("dense", "completed")
    uid = record.uid
    params = get_experiment_parameters(uid).to_dict()
    assert (params["fit.epochs"], params["fit.steps"]) == (2, 3)
    assert params["optimizer.name"] == "adam"
    assert params["optimizer.learning_rate"] == pytest.approx(0.01)
    assert (params["model.name"], params["model.parameters"]) == (model.name, 4 * 8 + 8 + 8 + 1)
    names = set(get_experiment_metrics(uid).names)
    assert {"epoch.loss", "epoch.mae", "epoch.val_loss", "epoch.val_mae"} <= names
    assert {"batch.loss", "batch.mae", "epoch.learning_rate"} <= names
    assert steps_of(uid, "epoch.val_loss") == [0, 1]
    assert steps_of(uid, "batch.loss") == list(range(6))
    losses = get_experiment_metrics(uid, names=["epoch.loss"])
    history = model.history.history["loss"]
    assert [m.value for m in losses] == pytest.approx(history)
    # Into a given run: epochs only unless asked, and the run is left to its owner.
    with start_experiment(space="keras", name="given") as exp:
        model.fit(features, target, epochs=1, callbacks=[OpsmlCallback(exp)], **fit)
        assert exp.card.status == "running"
    assert steps_of(exp.uid, "epoch.loss") == [0]
    assert "batch.loss" not in get_experiment_metrics(exp.uid).names
