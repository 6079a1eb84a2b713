"""Metrics from several threads at once (a trainer thread, an evaluator, a logger of system
counters), each pausing now and then."""

import random
import threading
import time

from opsml import start_experiment
from report import report

THREADS = 6
POINTS = 400

with start_experiment(space="scenarios", name="threads") as exp:

    def work(index: int) -> None:
        rng = random.Random(index)
        exp.log_parameter(f"thread_{index}", index)
        for step in range(POINTS):
            exp.log_metric(f"metric_{index}", rng.random(), step=step)
            if step % 100 == 99:
                time.sleep(rng.uniform(0.1, 0.6))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
report(uid=exp.uid, threads=THREADS, points=POINTS)
