"""A real experiment on the default store (./opsml.db), then what was stored."""

import math
import random

from opsml import (
    CardRegistry,
    RegistryType,
    plot_metrics,
    search_experiments,
    start_experiment,
)


def main() -> None:
    with start_experiment(space="quickstart", name="sine-fit", tags=["demo"]) as exp:
        exp.log_parameters({"lr": 0.01, "epochs": 5, "optimizer": "adam", "augment": True})
        step = 0
        for epoch in range(5):
            for _ in range(200):
                loss = math.exp(-step / 300) + random.random() * 0.01
                exp.log_metric("loss", loss, step=step)
                step += 1
            exp.log_metric("val_accuracy", 0.6 + 0.08 * epoch, step=epoch)

    card = CardRegistry(RegistryType.Experiment).load_card(uid=exp.card.uid)
    print(card)
    print()
    print(card.get_parameters())
    print()
    metrics = card.get_metrics()
    print(f"{len(metrics)} metric points stored for {', '.join(metrics.names)}")
    print(f"last loss: {card.get_metrics('loss')[-1]}")
    print()
    print(CardRegistry("experiment").list_cards(space="quickstart"))
    print()
    found = search_experiments("metrics.val_accuracy.max > 0.9", space="quickstart")
    print(f"{len(found)} quickstart run(s) with val_accuracy above 0.9")
    chart = plot_metrics([exp.uid], path="quickstart.png")
    print(f"metric chart written to {chart}; try `opsml experiments list` and `--help`")


if __name__ == "__main__":
    main()
