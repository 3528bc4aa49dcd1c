"""Intake throughput over HTTP under gunicorn, with a no-lost, no-doubled check.

8 concurrent clients each post their share of incidents with unique
Idempotency-Keys; afterwards the database must hold exactly that many.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests import tinycity
from tests.bench.results import full_run, percentile, record
from tests.scratch import scratch_database

CLIENTS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_server(cluster):
    with scratch_database(cluster, "peta112_bench", seed=tinycity.seed) as url:
        eng = make_engine(url)
        yield from _serve(url, eng)
        eng.dispose()


def _serve(url: str, eng):
    port = _free_port()
    workers = "4" if full_run() else "2"
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", workers,
         "--worker-class", "gthread", "--threads", "4", "--log-level", "warning", "app.wsgi:app"],
        env=env, cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 60
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            finally:
                c.close()
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.2)
    try:
        yield port, eng
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.bench
def test_intake_throughput(gunicorn_server):
    port, eng = gunicorn_server
    per_client = 250 if full_run() else 10
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list[str] = []
    barrier = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        for j in range(per_client):
            body = json.dumps({"category": "kebakaran", "lat": -6.97 - (j % 20) * 0.001,
                               "lon": 110.405 + i * 0.004, "caller_phone": f"0812{i:02d}{j:05d}",
                               "source": "phone"})
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/incidents", body,
                         {"Content-Type": "application/json", "Idempotency-Key": f"bench-{i}-{j}"})
            resp = conn.getresponse()
            resp.read()
            latencies[i].append(time.perf_counter() - t0)
            if resp.status != 201:
                errors.append(f"{resp.status}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    total = CLIENTS * per_client
    with eng.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key LIKE 'bench-%'")).scalar_one()
    assert errors == []
    assert stored == total
    flat = [x * 1000 for lat in latencies for x in lat]
    figures = {"clients": CLIENTS, "incidents": total, "seconds": round(elapsed, 2),
               "incidents_per_s": round(total / elapsed, 1), "p50_ms": round(percentile(flat, 50), 1),
               "p95_ms": round(percentile(flat, 95), 1), "lost": total - stored, "doubled": 0,
               "server": "gunicorn gthread, 4 workers x 4 threads"}
    print("\nintake:", figures)
    record("intake_http", figures)
