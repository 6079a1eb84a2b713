"""A run that starts while its server is down, as on a node whose server restarts: it
starts, logs parameters, metrics and an artifact, and carries on; the server comes up in
the middle of the run, and the run ends with everything on it and a version assigned."""

from pathlib import Path

from opsml import start_experiment
from outage import reached, wait_for
from report import report

with start_experiment(space="scenarios", name="server-down-at-start") as exp:
    version_at_start = exp.card.version
    exp.log_parameters({"lr": 0.1, "epochs": 2})
    for step in range(50):
        exp.log_metric("loss", 1 / (step + 1), step=step)
    Path("config.yaml").write_text("lr: 0.1\nepochs: 2\n")
    exp.log_artifact("config.yaml")
    reached("started")
    wait_for("server-up")
    for step in range(50, 100):
        exp.log_metric("loss", 1 / (step + 1), step=step)
    Path("model.txt").write_text("weights after 100 steps")
    exp.log_artifact("model.txt")
report(uid=exp.uid, version_at_start=version_at_start, version_at_end=exp.card.version)
