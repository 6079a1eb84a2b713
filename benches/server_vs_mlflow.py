"""One client logging 100,000 points through a tracking server on PostgreSQL: opsml against
MLflow, both servers on the same PostgreSQL, measured in the same run.

    python benches/server_vs_mlflow.py             # 100,000 points, 3 repetitions each
    python benches/server_vs_mlflow.py --points 20000 --reps 1 --mlflow-async

Starts PostgreSQL (scripts/start-postgres.sh), `opsml server start` (this checkout's build in
.venv) on a fresh schema and `mlflow server` (benches/.venvs/mlflow, pinned in
benches/requirements/mlflow.txt) on a fresh database, then times, in fresh processes:

- opsml: `start_experiment` ... `log_metric` per point ... the end of the `with` block, which
  returns once the server has every point;
- MLflow, batched: `MlflowClient.log_batch` with 1,000 metrics per call (MLflow's largest
  batch), the fastest way its client offers;
- with --mlflow-async also MLflow per point: `mlflow.log_metric(..., synchronous=False)`
  (MLflow's asynchronous logging, which batches in the background) between `start_run` and
  `end_run`, which waits for the queue to drain (about 10 ms a point here, so use it with
  fewer points).

Each run then reads its points back through its own server and fails unless all are there.
Reported: medians (min-max) and MLflow's time as a multiple of opsml's.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

from compare import requirements_env

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 50.0

OPSML_CLIENT = """
import sys, time
from opsml import get_experiment_metrics, start_experiment
n = int(sys.argv[1])
start = time.perf_counter()
with start_experiment(name="hundred-thousand") as exp:
    for step in range(n):
        exp.log_metric("loss", 1.0 / (step + 1), step=step)
seconds = time.perf_counter() - start
stored = len(get_experiment_metrics(exp.uid))
assert stored == n, f"{stored} of {n} points stored"
print(seconds)
"""

MLFLOW_ASYNC_CLIENT = """
import sys, time
import mlflow
n = int(sys.argv[1])
start = time.perf_counter()
with mlflow.start_run() as run:
    for step in range(n):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=False)
seconds = time.perf_counter() - start
stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
assert stored == n, f"{stored} of {n} points stored"
print(seconds)
"""

MLFLOW_BATCH_CLIENT = """
import sys, time
import mlflow
from mlflow.entities import Metric
n = int(sys.argv[1])
client = mlflow.MlflowClient()
start = time.perf_counter()
with mlflow.start_run() as run:
    now = int(time.time() * 1000)
    for first in range(0, n, 1000):
        metrics = [
            Metric("loss", 1.0 / (step + 1), now, step)
            for step in range(first, min(n, first + 1000))
        ]
        client.log_batch(run.info.run_id, metrics=metrics)
seconds = time.perf_counter() - start
stored = len(client.get_metric_history(run.info.run_id, "loss"))
assert stored == n, f"{stored} of {n} points stored"
print(seconds)
"""


def psql(admin_uri: str, sql: str) -> None:
    program = next(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    subprocess.run([str(program), admin_uri, "-qc", sql], check=True, capture_output=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in 120 s\n{log.read_text()[-3000:]}")


def timed(python: Path, code: str, points: int, env: dict[str, str], work: Path) -> float:
    proc = subprocess.run(
        [str(python), "-c", textwrap.dedent(code), str(points)],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"a client failed:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def summary(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.3f} s ({min(seconds):.3f}-{max(seconds):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--mlflow-async", action="store_true")
    args = parser.parse_args()

    mlflow_python = requirements_env("mlflow")
    opsml_python = ROOT / ".venv" / "bin" / "python"
    admin_uri = subprocess.run(
        [str(ROOT / "scripts/start-postgres.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    tag = uuid.uuid4().hex[:10]
    schema, database = f"cmp_opsml_{tag}", f"cmp_mlflow_{tag}"
    psql(admin_uri, f"CREATE SCHEMA {schema}")
    psql(admin_uri, f"CREATE DATABASE {database}")
    mlflow_uri = admin_uri.rsplit("/", 1)[0].replace("postgres://", "postgresql+psycopg2://")
    work = Path(tempfile.mkdtemp(prefix="server-vs-mlflow-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        opsml_port, mlflow_port = free_port(), free_port()
        password = base64.b64encode(os.urandom(18)).decode()
        opsml_log = (work / "opsml-server.log").open("wb")
        servers.append(
            subprocess.Popen(
                [str(ROOT / ".venv/bin/opsml"), "server", "start", "--port", str(opsml_port)],
                env={
                    **os.environ,
                    "OPSML_TRACKING_URI": f"{admin_uri}?options=-c%20search_path%3D{schema}",
                    "OPSML_STORAGE_URI": str(work / "opsml-objects"),
                    "OPSML_ADMIN_USERNAME": "bench",
                    "OPSML_ADMIN_PASSWORD": password,
                    "OPSML_LOG": "warn",
                },
                stdout=opsml_log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_for(f"http://127.0.0.1:{opsml_port}/readyz", servers[0], work / "opsml-server.log")
        mlflow_log = (work / "mlflow-server.log").open("wb")
        servers.append(
            subprocess.Popen(
                [
                    str(mlflow_python.parent / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    f"{mlflow_uri}/{database}",
                    "--default-artifact-root",
                    str(work / "mlflow-artifacts"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mlflow_port),
                ],
                cwd=work,
                stdout=mlflow_log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_for(f"http://127.0.0.1:{mlflow_port}/health", servers[1], work / "mlflow-server.log")

        opsml_env = {
            **os.environ,
            "OPSML_TRACKING_URI": f"http://127.0.0.1:{opsml_port}",
            "OPSML_USERNAME": "bench",
            "OPSML_PASSWORD": password,
            "OPSML_ENCRYPT_SECRET": base64.b64encode(os.urandom(32)).decode(),
            "OPSML_SPOOL_DIR": str(work / "spool"),
        }
        mlflow_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(work),
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{mlflow_port}",
        }
        clients = {"opsml": (opsml_python, OPSML_CLIENT, opsml_env)}
        clients["mlflow batch"] = (mlflow_python, MLFLOW_BATCH_CLIENT, mlflow_env)
        if args.mlflow_async:
            clients["mlflow async"] = (mlflow_python, MLFLOW_ASYNC_CLIENT, mlflow_env)
        results: dict[str, list[float]] = {key: [] for key in clients}
        for rep in range(args.reps):
            print(f"repetition {rep + 1} of {args.reps} ...", flush=True)
            for key, (python, code, env) in clients.items():
                results[key].append(timed(python, code, args.points, env, work))

        opsml = statistics.median(results["opsml"])
        mlflow_keys = [key for key in results if key != "opsml"]
        best_mlflow = min(statistics.median(results[k]) for k in mlflow_keys)
        print(f"{args.points:,} points from one client through a server on PostgreSQL:")
        print(f"  opsml server, log_metric per point:          {summary(results['opsml'])}")
        for key, what in [
            ("mlflow batch", "MLflow server, log_batch of 1,000:           "),
            ("mlflow async", "MLflow server, log_metric(synchronous=False):"),
        ]:
            if key not in results:
                continue
            ratio = statistics.median(results[key]) / opsml
            print(f"  {what} {summary(results[key])} = {ratio:,.0f}x opsml")
        print(
            f"  opsml against MLflow's fastest client: {best_mlflow / opsml:,.0f}x faster"
            f"   [target >= {TARGET_RATIO:.0f}x]"
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)
        psql(admin_uri, f"DROP SCHEMA {schema} CASCADE")
        psql(admin_uri, f"DROP DATABASE {database} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
