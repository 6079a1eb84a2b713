"""Load test of the opsml server on PostgreSQL: many clients sending batches of points.

    python benches/server_load.py            # 16 clients x 1,000,000 points, batches of 10,000
    python benches/server_load.py --quick    # 4 clients x 100,000 points
    python benches/server_load.py --rate 500000 --batch 2000   # paced at the target rate

Starts PostgreSQL (scripts/start-postgres.sh) and a release build of `opsml-server` on
loopback, creates one experiment per client, then each client (a thread) sends its batches
one after another over a kept-alive connection. Reported: sustained points per second
(all points over the wall time of the sending phase), p50/p99 latency of one batch, and
the server's CPU time and peak memory (from /proc). Request bodies are encoded before the
clock starts, so the figure is the server's, not the encoder's.

Without --rate each client sends its next batch as soon as the last is answered, so the
machine is saturated and a batch's latency is mostly its wait behind the other clients' (16
batches in flight). With --rate the clients together send that many points per second, each
batch at its scheduled time, and a batch's latency counts from that time (a server that falls
behind is charged for the wait): the latency a team sees at that load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_POINTS_PER_SECOND = 500_000
TARGET_P99_SECONDS = 0.050


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def psql(admin_uri: str, sql: str) -> None:
    program = next(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    subprocess.run([str(program), admin_uri, "-qc", sql], check=True, capture_output=True)


def fresh_schema(admin_uri: str, schema: str) -> str:
    psql(admin_uri, f"CREATE SCHEMA {schema}")
    return f"{admin_uri}?options=-c%20search_path%3D{schema}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, token: str | None
) -> tuple[int, bytes]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def batch_bodies(writer_id: str, batches: int, size: int) -> list[bytes]:
    """One body per batch: `size` points of one metric with consecutive steps."""
    bodies = []
    for seq in range(1, batches + 1):
        first = (seq - 1) * size
        body = {
            "writer_id": writer_id,
            "seq": seq,
            "lease": {"host": "load", "pid": 1, "started": 1},
            "names": ["loss"],
            "points": {
                "name_ids": [0] * size,
                "steps": list(range(first, first + size)),
                "values": [float(i % 1000) / 7 for i in range(first, first + size)],
                "timestamps": [None] * size,
                "created_at": [1_700_000_000_000_000 + i for i in range(size)],
            },
        }
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--points", type=int, help="points per client")
    parser.add_argument("--batch", type=int, help="points per batch")
    parser.add_argument("--rate", type=float, help="points per second of all clients together")
    args = parser.parse_args()
    clients, points, size = (4, 100_000, 10_000) if args.quick else (16, 1_000_000, 10_000)
    clients = args.clients or clients
    points = args.points or points
    size = args.batch or size
    batches = points // size

    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "opsml-server"], cwd=ROOT, check=True
    )
    admin_uri = subprocess.run(
        [str(ROOT / "scripts/start-postgres.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    port = free_port()
    schema = f"load_{uuid.uuid4().hex[:12]}"
    env = dict(
        os.environ,
        OPSML_TRACKING_URI=fresh_schema(admin_uri, schema),
        OPSML_ADMIN_USERNAME="load",
        OPSML_ADMIN_PASSWORD="load-test-password",
        OPSML_LOG="warn",
    )
    server = subprocess.Popen(
        [str(ROOT / "target/release/opsml-server"), "--port", str(port)], env=env
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if request(conn, "GET", "/readyz", None, None)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        credentials = json.dumps({"username": "load", "password": "load-test-password"}).encode()
        status, body = request(conn, "POST", "/api/v1/auth/token", credentials, None)
        assert status == 200, body
        token = json.loads(body)["token"]

        uids = []
        for n in range(clients):
            uid = str(uuid.uuid4())
            experiment = {
                "uid": uid,
                "space": "load",
                "name": f"client{n}",
                "opsml_version": "bench",
                "created_at": "2026-01-01T00:00:00Z",
                "lease": {"host": "load", "pid": 1, "started": 1},
            }
            status, body = request(
                conn, "POST", "/api/v1/experiments", json.dumps(experiment).encode(), token
            )
            assert status == 201, body
            uids.append(uid)
        print(f"encoding {clients} x {batches} batches of {size:,} points ...", flush=True)
        bodies = [batch_bodies(str(uuid.uuid4()), batches, size) for _ in range(clients)]

        latencies: list[float] = []
        lock = threading.Lock()
        failures: list[str] = []

        # With --rate, client `index` sends its batch k at started + (k + index / clients) * gap.
        gap = clients * size / args.rate if args.rate else 0.0

        def client(index: int) -> None:
            own = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            mine = []
            for k, body in enumerate(bodies[index]):
                start = time.perf_counter()
                if gap:
                    start = started + (k + index / clients) * gap
                    time.sleep(max(0.0, start - time.perf_counter()))
                status, answer = request(
                    own, "POST", f"/api/v1/experiments/{uids[index]}/batches", body, token
                )
                mine.append(time.perf_counter() - start)
                if status != 200:
                    failures.append(f"{status}: {answer[:200]!r}")
                    return
            with lock:
                latencies.extend(mine)

        print("sending ...", flush=True)
        cpu_before = cpu_seconds(server.pid)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        started = time.perf_counter() + 0.1
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu_before
        assert not failures, failures[:3]

        total = clients * batches * size
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        rate = total / wall
        pacing = f", paced at {args.rate:,.0f} points/s" if args.rate else ", unpaced"
        print(
            f"opsml server load test: {clients} clients x {points:,} points, "
            f"batches of {size:,}{pacing}"
        )
        print(
            f"  sustained: {rate:,.0f} points/s over {wall:.1f} s"
            f"   [target >= {TARGET_POINTS_PER_SECOND:,}]"
        )
        print(
            f"  batch latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
            f"   [target p99 <= {TARGET_P99_SECONDS * 1000:.0f} ms]"
        )
        print(
            f"  server: {cpu:.1f} s CPU ({cpu / wall:.2f} cores), "
            f"peak memory {peak_rss_mb(server.pid):.0f} MB"
        )
        print("  (MLflow comparison: not measured here; MLflow is not installed by this project)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        # Each run writes gigabytes: none is kept.
        psql(admin_uri, f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    sys.exit(main())
