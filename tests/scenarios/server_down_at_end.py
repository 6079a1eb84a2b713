"""A run whose server goes down in the middle of an epoch and stays down past its end: it
logs on (metrics, a parameter, an artifact), ends, and `opsml sync` delivers the rest."""

from pathlib import Path

from opsml import start_experiment
from outage import reached, wait_for
from report import report

with start_experiment(space="scenarios", name="server-down-at-end") as exp:
    exp.log_parameters({"lr": 0.01})
    for step in range(50):
        exp.log_metric("loss", 1 / (step + 1), step=step)
    Path("before.txt").write_text("logged while the server was up")
    exp.log_artifact("before.txt")
    exp.flush()  # the server has these before it goes down
    reached("logged")
    wait_for("server-down")
    for step in range(50, 100):
        exp.log_metric("loss", 1 / (step + 1), step=step)
    exp.log_parameters({"best_epoch": 3})
    Path("model.txt").write_text("weights logged while the server was down")
    exp.log_artifact("model.txt")
report(uid=exp.uid)
