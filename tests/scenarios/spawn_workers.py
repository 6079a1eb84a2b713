"""Data-loader workers started by spawn (they inherit nothing): they hand their timings back
through a queue, and the parent logs them between steps."""

import multiprocessing
import time

from opsml import start_experiment
from report import report

WORKERS = 2
POINTS = 40


def load(index: int, queue: "multiprocessing.Queue[tuple[int, int, float]]") -> None:
    for step in range(POINTS):
        queue.put((index, step, float(step * 2)))
        if step == POINTS // 2:
            time.sleep(1.0)


if __name__ == "__main__":
    with start_experiment(space="scenarios", name="spawn-workers") as exp:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        workers = [context.Process(target=load, args=(i, queue)) for i in range(WORKERS)]
        for worker in workers:
            worker.start()
        for _ in range(WORKERS * POINTS):
            index, step, value = queue.get(timeout=60)
            exp.log_metric(f"worker_{index}_batch_ms", value, step=step)
        for worker in workers:
            worker.join()
    report(uid=exp.uid, workers=WORKERS, points=POINTS)
