"""Intake throughput over HTTP under gunicorn, with a no-lost, no-doubled check.

8 concurrent clients each post their share of incidents with unique
Idempotency-Keys; afterwards the database must hold exactly that many.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

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


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.bench
def test_intake_cpu_per_call(cluster, settings):
    """Calls per CPU-second: the app in-process plus every PostgreSQL backend of its database.

    Wall-clock throughput on a shared 2-core machine says more about the neighbours
    than about intake; CPU seconds per call do not, and their inverse is the "calls/s
    per core" of the target (client and HTTP parsing by gunicorn excluded).
    """
    from sqlalchemy import text

    from app import create_app
    from tests import users

    calls = 300 if full_run() else 5
    with scratch_database(cluster, "peta112_intake_cpu", seed=tinycity.seed) as url:
        eng = make_engine(url)
        with eng.begin() as conn:
            users.seed(conn)
        app = create_app(settings.with_overrides(database_url=url, rate_limit_intake=0))
        client = app.test_client()
        headers = users.auth("call_taker")
        figures: dict[str, object] = {"calls": calls, "database": "tinycity (tests/tinycity.py)",
                                      "measures": "CPU of the Flask app in-process + its PostgreSQL backends"}
        try:
            for advice in (False, True):
                def post(i: int, advice: bool = advice) -> int:
                    return client.post(f"/api/v1/incidents?recommend={int(advice)}", json={
                        "category": "kebakaran", "lat": -6.97 - (i % 20) * 0.001, "lon": 110.405 + (i % 7) * 0.004,
                        "caller_phone": f"0812{i:07d}", "source": "phone"},
                        headers={**headers, "Idempotency-Key": f"cpu-{advice}-{i}"}).status_code

                assert all(post(1_000_000 + i) == 201 for i in range(5))  # warm: pool, routing cache
                with eng.connect() as db:
                    pids = [p for (p,) in db.execute(text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"))]
                before = {p: _cpu_s(p) for p in pids}
                t0 = time.process_time()
                assert all(post(i) == 201 for i in range(calls))
                py_s = time.process_time() - t0
                db_s = sum(_cpu_s(p) - before[p] for p in pids)
                key = "with_advice" if advice else "without_advice"
                figures[key] = {"app_cpu_ms_per_call": round(py_s / calls * 1000, 2),
                                "db_cpu_ms_per_call": round(db_s / calls * 1000, 2),
                                "calls_per_cpu_s": round(calls / (py_s + db_s), 1)}
        finally:
            app.extensions["peta112.engine"].dispose()
            eng.dispose()
    print("\nintake cpu:", figures)
    assert figures["without_advice"]["calls_per_cpu_s"] > 0  # type: ignore[index]
    record("intake_cpu", figures)
