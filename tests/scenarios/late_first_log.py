"""A script that loads its data for longer than a heartbeat before it logs anything
(real default intervals)."""

import time
from pathlib import Path

from opsml import start_experiment
from report import report

with start_experiment(space="scenarios", name="late-first-log") as exp:
    time.sleep(7)  # loading data or a model
    exp.log_parameters({"lr": 0.1, "optimizer": "adam"})
    for step in range(100):
        exp.log_metric("loss", 1 / (step + 1), step=step)
    Path("model.txt").write_text("weights after 100 steps")
    exp.log_artifact("model.txt")
report(uid=exp.uid)
