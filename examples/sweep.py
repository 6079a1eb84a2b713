"""A small hyper-parameter sweep: each run logs its config (a dataclass, nested fields
flattened to dotted names) and its loss curve; the sweep ends by picking its best run with
`opsml.runs`, one data frame of every run, read in one query."""

import dataclasses
import itertools
import math

from opsml import runs, start_experiment


@dataclasses.dataclass
class Optimizer:
    name: str
    lr: float


@dataclasses.dataclass
class Config:
    optimizer: Optimizer
    hidden: list[int]
    epochs: int = 3


def train(config: Config) -> None:
    with start_experiment(space="sweep-example", name="mlp", tags=["sweep"]) as exp:
        exp.log_parameters(config)
        speed = config.optimizer.lr * (2.0 if config.optimizer.name == "adam" else 1.0)
        for step in range(config.epochs * 100):
            exp.log_metric("loss", math.exp(-speed * step) + 0.05 * len(config.hidden), step=step)


def main() -> None:
    for name, lr, hidden in itertools.product(["adam", "sgd"], [0.01, 0.03], [[64], [64, 32]]):
        train(Config(optimizer=Optimizer(name=name, lr=lr), hidden=hidden))
    table = runs(space="sweep-example", order_by="metrics.loss.min asc")
    print(f"{len(table)} runs in the sweep")
    columns = ["name", "params.optimizer.name", "params.optimizer.lr", "metrics.loss.min"]
    print(table[columns].to_string(index=False))
    best = table.iloc[0]
    print(
        f"best: {best['params.optimizer.name']} at lr {best['params.optimizer.lr']} "
        f"with hidden sizes of {int(best['params.hidden.0'])}, loss {best['metrics.loss.min']:.4f}"
    )


if __name__ == "__main__":
    main()
