"""CPU cost of hardware monitoring over an idle experiment.

    python benches/hardware.py            # 60 s runs: off, default interval, 0.1 s interval
    python benches/hardware.py --quick    # 5 s runs

Each run is a fresh process that starts an experiment, sleeps, and ends it;
the figure is the process's CPU time (user + system, all threads). The cost
of monitoring is the difference to the run without it, measured in the same
invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

TARGET_DEFAULT = 0.03 / 60  # seconds of CPU per second of run: 0.05 % of one core
TARGET_FAST = 0.02  # 2 % of one core at a 0.1 s interval


def run(seconds: float, log_hardware: bool, interval: float | None) -> dict[str, float]:
    code = textwrap.dedent(
        f"""
        import json, os, resource, tempfile, time
        tmp = tempfile.mkdtemp()
        os.environ["OPSML_TRACKING_URI"] = f"sqlite:///{{tmp}}/opsml.db"
        os.environ["OPSML_STORAGE_URI"] = f"{{tmp}}/storage"
        from opsml import start_experiment, get_experiment_hardware_metrics

        def cpu():
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        with start_experiment(name="warm-up"):
            pass
        before = cpu()
        with start_experiment(
            name="idle", log_hardware={log_hardware!r}, hardware_interval={interval!r}
        ) as exp:
            time.sleep({seconds!r})
        spent = cpu() - before
        samples = len(get_experiment_hardware_metrics(exp.uid))
        print(json.dumps({{"cpu_seconds": spent, "samples": samples}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s runs instead of 60 s")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 60.0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TMPDIR", tmp)
        off = run(seconds, False, None)
        default = run(seconds, True, None)
        fast = run(seconds, True, 0.1)
    extra_default = default["cpu_seconds"] - off["cpu_seconds"]
    extra_fast = fast["cpu_seconds"] - off["cpu_seconds"]
    per_sample_us = extra_fast / max(fast["samples"], 1) * 1e6
    print(f"opsml hardware monitoring over a {seconds:.0f} s idle experiment (CPU seconds)")
    print(f"  without monitoring: {off['cpu_seconds']:.3f} s")
    print(
        f"  default interval (5 s): {default['cpu_seconds']:.3f} s, {default['samples']} samples;"
        f" extra {extra_default:.4f} s = {extra_default / seconds * 100:.4f} % of one core"
        f"   [target < {TARGET_DEFAULT * 100:.2f} %]"
    )
    print(
        f"  0.1 s interval: {fast['cpu_seconds']:.3f} s, {fast['samples']} samples;"
        f" extra {extra_fast:.3f} s = {extra_fast / seconds * 100:.3f} % of one core"
        f"   [target < {TARGET_FAST * 100:.0f} %]"
    )
    print(f"  one sample costs about {per_sample_us:.0f} us of CPU")


if __name__ == "__main__":
    main()
