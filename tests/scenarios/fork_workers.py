"""Data-loader workers started by fork log through the experiment object they inherited,
pausing longer than the intervals between their points, while the parent trains."""

import multiprocessing
import time

from opsml import start_experiment
from report import report

WORKERS = 3
POINTS = 60

with start_experiment(space="scenarios", name="fork-workers") as exp:

    def load(index: int) -> None:
        for step in range(POINTS):
            exp.log_metric(f"worker_{index}_batch_ms", float(step), step=step)
            if step == POINTS // 2:
                time.sleep(1.0)

    exp.log_metric("loss", 1.0, step=0)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=load, args=(i,)) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    for step in range(1, 50):
        exp.log_metric("loss", 1 / (step + 1), step=step)
        time.sleep(0.02)
    for worker in workers:
        worker.join()
    exit_codes = [worker.exitcode for worker in workers]
report(uid=exp.uid, workers=WORKERS, points=POINTS, exit_codes=exit_codes)
