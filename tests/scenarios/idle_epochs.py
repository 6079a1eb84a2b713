"""Epochs with idle gaps (evaluation, checkpointing) longer than every internal interval,
which the test shortens through the environment."""

import time
from pathlib import Path

from opsml import start_experiment
from report import report

with start_experiment(space="scenarios", name="idle-epochs") as exp:
    time.sleep(1.0)
    exp.log_parameter("epochs", 5)
    for epoch in range(5):
        for batch in range(40):
            step = epoch * 40 + batch
            exp.log_metric("loss", 1 / (step + 1), step=step)
        time.sleep(1.0)  # validation: nothing logged for many heartbeats and flushes
        exp.log_metric("val_loss", 1 / (epoch + 1), step=epoch)
        if epoch == 2:
            Path("checkpoint.txt").write_text("epoch 2")
            exp.log_artifact("checkpoint.txt", "checkpoints/epoch-2.txt")
report(uid=exp.uid)
