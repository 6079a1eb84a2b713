"""A run that stops after a few epochs and is resumed by its uid a while later (another
job on the cluster), where it goes on logging."""

import time

from opsml import start_experiment
from report import report

with start_experiment(space="scenarios", name="resumed") as first:
    first.log_parameter("lr", 0.01)
    for step in range(50):
        first.log_metric("loss", 1 / (step + 1), step=step)
time.sleep(1.0)
with start_experiment(experiment_uid=first.uid) as again:
    time.sleep(1.0)
    again.log_parameter("resumed_at", 50)
    for step in range(50, 100):
        again.log_metric("loss", 1 / (step + 1), step=step)
report(uid=first.uid, version=first.card.version)
