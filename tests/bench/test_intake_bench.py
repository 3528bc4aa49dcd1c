"""Intake throughput over HTTP under gunicorn, with a no-lost, no-doubled check.

8 concurrent clients each post their share of incidents with unique
Idempotency-Keys; afterwards the database must hold exactly that many.
"""

from __future__ import annotations

import pytest

from app.db.engine import make_engine
from tests import tinycity
from tests.bench.results import full_run, percentile, record
from tests.bench.server import gunicorn, post_incidents
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
    run = post_incidents(port, eng, "bench", CLIENTS, per_client, lambda i, j: {
        "category": "kebakaran", "lat": -6.97 - (j % 20) * 0.001, "lon": 110.405 + i * 0.004,
        "caller_phone": f"0812{i:02d}{j:05d}", "source": "phone"})
    total = CLIENTS * per_client
    assert run.errors == []
    assert run.stored == total
    elapsed, stored = run.seconds, run.stored
    flat = [x * 1000 for x in run.latencies]
    figures = {"clients": CLIENTS, "incidents": total, "seconds": round(elapsed, 2),
               "incidents_per_s": round(total / elapsed, 1), "p50_ms": round(percentile(flat, 50), 1),
               "p95_ms": round(percentile(flat, 95), 1), "lost": total - stored, "doubled": 0,
               "server": "gunicorn gthread, 4 workers x 4 threads", "database": "tinycity (tests/tinycity.py)"}
    print("\nintake:", figures)
    record("intake_http", figures)
