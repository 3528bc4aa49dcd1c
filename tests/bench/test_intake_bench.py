"""Intake over HTTP on the server ``make run`` starts: throughput, CPU per call, no call lost or doubled.

8 concurrent clients each post their share of incidents with unique Idempotency-Keys (no
nearest-unit advice: ``recommend=0``); afterwards the database must hold exactly that many.
Besides calls per second (which depend on what else the shared machine runs) the benchmark
measures the CPU the calls cost: user + system seconds of the server's processes and of the
database backends serving the bench database, so calls per CPU-second is the throughput one
core would give, whatever the load around it.  Target (issue 16): >= 250 calls per CPU-second.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from tests import tinycity
from tests.bench.results import full_run, percentile, record
from tests.bench.server import backend_cpu, cpu_seconds, post_incidents, serve_process
from tests.scratch import scratch_database

CLIENTS = 8
WORKERS = 2
DB = "peta112_bench"


@pytest.fixture(scope="module")
def server(cluster):
    with scratch_database(cluster, DB, seed=tinycity.seed) as url:
        eng = make_engine(url)
        try:
            with serve_process(url, workers=WORKERS) as (port, proc):
                yield port, proc, eng, make_url(url).database
        finally:
            eng.dispose()


def _body(i: int, j: int) -> dict:
    return {"category": "kebakaran", "lat": -6.97 - (j % 20) * 0.001, "lon": 110.405 + i * 0.004,
            "caller_phone": f"0812{i:02d}{j:05d}", "source": "phone"}


@pytest.mark.bench
def test_intake_throughput_and_cpu_per_call(server):
    port, proc, eng, dbname = server
    per_client = 250 if full_run() else 10
    path = "/api/v1/incidents?recommend=0"
    post_incidents(port, eng, "warm", CLIENTS, 2, _body, path=path)  # pools, caches, first requests
    app0, db0, load0 = cpu_seconds(proc.pid), backend_cpu(dbname), os.getloadavg()[0]
    run = post_incidents(port, eng, "bench", CLIENTS, per_client, _body, path=path)
    app1, db1, load1 = cpu_seconds(proc.pid), backend_cpu(dbname), os.getloadavg()[0]
    total = CLIENTS * per_client
    assert run.errors == []
    assert run.stored == total
    app_cpu = app1 - app0
    db_cpu = sum(v - db0.get(pid, 0.0) for pid, v in db1.items())  # a backend that ended meanwhile is missed
    assert app_cpu > 0 and db_cpu > 0
    flat = [x * 1000 for x in run.latencies]
    figures = {
        "clients": CLIENTS, "incidents": total, "seconds": round(run.seconds, 2),
        "incidents_per_s": round(total / run.seconds, 1), "p50_ms": round(percentile(flat, 50), 1),
        "p95_ms": round(percentile(flat, 95), 1), "lost": total - run.stored, "doubled": 0,
        "cpu_s": {"server": round(app_cpu, 2), "database": round(db_cpu, 2)},
        "cpu_ms_per_call": {"server": round(app_cpu / total * 1000, 2), "database": round(db_cpu / total * 1000, 2)},
        "calls_per_cpu_s": round(total / (app_cpu + db_cpu), 1),
        "calls_per_server_cpu_s": round(total / app_cpu, 1),
        "load_average_1m": [round(load0, 1), round(load1, 1)],
        "advice": False, "server": f"peta112 serve (uvicorn, {WORKERS} processes)",
        "database": "tinycity (tests/tinycity.py)", "target_calls_per_cpu_s": 250,
    }
    print("\nintake:", figures)
    record("intake_http", figures)
