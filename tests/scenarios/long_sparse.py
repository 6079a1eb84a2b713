"""A run of over a minute that logs once every few seconds (real default intervals). Another
process opens the store in the middle, as a teammate's `opsml experiments list` would: the
run must still be running for it, not taken for dead."""

import os
import subprocess
import sys
import time

from opsml import start_experiment
from report import report

PEEK = """
import sys
from opsml import CardRegistry
print(CardRegistry("experiment").load_card(uid=sys.argv[1]).status)
"""

started = time.monotonic()
with start_experiment(space="scenarios", name="long-sparse") as exp:
    seen_by_others = None
    step = 0
    while time.monotonic() - started < 70:
        exp.log_metric("reward", float(step), step=step)
        step += 1
        time.sleep(7)
        if seen_by_others is None and time.monotonic() - started > 62:
            peek = subprocess.run(
                [sys.executable, "-c", PEEK, exp.uid],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ.copy(),
            )
            seen_by_others = peek.stdout.strip()
report(uid=exp.uid, points=step, seen_by_others=seen_by_others)
