"""Intake throughput over HTTP under gunicorn, with a no-lost, no-doubled check.

8 concurrent clients each post their share of incidents with unique
Idempotency-Keys; afterwards the database must hold exactly that many.
"""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests import tinycity, users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import gunicorn
from tests.scratch import scratch_database

CLIENTS = 8


@pytest.fixture(scope="module")
def gunicorn_server(cluster):
    with scratch_database(cluster, "peta112_bench", seed=tinycity.seed) as url:
        eng = make_engine(url)
        try:
            with gunicorn(url, workers=4 if full_run() else 2) as port:
                yield port, eng
        finally:
            eng.dispose()


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
                         {"Content-Type": "application/json", "Idempotency-Key": f"bench-{i}-{j}",
                          **users.auth("call_taker")})
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
               "server": "gunicorn gthread, 4 workers x 4 threads", "database": "tinycity (tests/tinycity.py)"}
    print("\nintake:", figures)
    record("intake_http", figures)
