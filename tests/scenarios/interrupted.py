"""Ctrl-C in the middle of an epoch: what was logged before it is kept and the run says it
was killed."""

import os
import signal
import time

from opsml import start_experiment
from report import report

uid = None
try:
    with start_experiment(space="scenarios", name="interrupted") as exp:
        uid = exp.uid
        exp.log_parameter("epochs", 10)
        for epoch in range(10):
            for batch in range(100):
                step = epoch * 100 + batch
                exp.log_metric("loss", 1 / (step + 1), step=step)
                if step == 250:
                    time.sleep(0.5)
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(1)  # the interrupt lands here, inside the epoch
except KeyboardInterrupt:
    report(uid=uid, points=251)
