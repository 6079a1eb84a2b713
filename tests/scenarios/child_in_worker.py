"""A sweep: worker processes (started by fork) each run a trial as a child experiment of the
parent run, waiting longer than a heartbeat before their first log."""

import multiprocessing
import time

from opsml import start_experiment
from report import report

TRIALS = 3
POINTS = 30

with start_experiment(space="scenarios", name="sweep") as exp:

    def trial(index: int) -> None:
        with exp.start_experiment(name=f"trial-{index}") as child:
            time.sleep(1.0)
            child.log_parameter("lr", 10.0**-index)
            for step in range(POINTS):
                child.log_metric("loss", 1 / (step + 1), step=step)

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=trial, args=(i,)) for i in range(TRIALS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    exp.log_metric("best_loss", 1 / POINTS, step=0)
    exit_codes = [worker.exitcode for worker in workers]
report(uid=exp.uid, trials=TRIALS, points=POINTS, exit_codes=exit_codes)
