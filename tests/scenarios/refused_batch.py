"""The store refuses a batch for a reason no retry cures (here a trigger the test installed
refuses the parameter named "poison"). The points around it are stored, the refused batch is
kept in a recovery file, and the end of the run says so."""

import time

from opsml import StoreError, start_experiment
from report import report

message = None
uid = None
try:
    with start_experiment(space="scenarios", name="refused-batch") as exp:
        uid = exp.uid
        for step in range(100):
            exp.log_metric("loss", 1 / (step + 1), step=step)
        exp.flush()
        exp.log_parameter("poison", "refused by the store")
        exp.log_metric("loss", 0.001, step=100)
        exp.flush()  # the store refused the batch: it is safe in the recovery file
        time.sleep(0.5)
        for step in range(101, 200):
            exp.log_metric("loss", 1 / (step + 1), step=step)
except StoreError as error:
    message = str(error)
report(uid=uid, message=message)
