"""Intake over HTTP on the server ``make run`` starts: throughput, CPU per call, no call lost or doubled.

8 concurrent clients each post their share of incidents with unique Idempotency-Keys (no
nearest-unit advice: ``recommend=0``); afterwards the database must hold exactly that many.
Besides calls per second (which depend on what else the shared machine runs) the benchmark
measures the CPU the calls cost (on a city with a year of past calls, as a real database has):
user + system seconds of the server's processes and of the database backends serving the bench
database, so calls per CPU-second is the throughput one core would give, whatever the load
around it. Target (issue 16): >= 250 calls per CPU-second. Measured twice: with no map open, and
with dispatchers' maps open (every call then also scoped for them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from tests import tinycity
from tests.bench.results import full_run, percentile, record
from tests.bench.server import backend_cpu, cpu_seconds, post_incidents, serve_process
from tests.scratch import scratch_database

CLIENTS = 8
WORKERS = 2
MAPS = 8  # dispatchers' maps open in the second measure (spread over the server's processes by the kernel)
DB = "peta112_bench"
PATH = "/api/v1/incidents?recommend=0"


# Past calls, closed, over the last year, nine in ten with the caller's number: a city's database is
# never empty, and an empty table (or one without numbers) gives the planner plans that read every
# new call, which the prepared statements then keep while the bench grows the table.
HISTORY_SQL = """
INSERT INTO incidents (category_code, status, priority, source, received_at, closed_at, updated_at, caller_phone, geom)
SELECT c.code, 'closed', c.priority, 'phone', at, at + interval '1 hour', at + interval '1 hour',
       CASE WHEN g % 10 <> 0 THEN '0813' || lpad((g * 7919 % 100000000)::text, 8, '0') END,
       ST_SetSRID(ST_MakePoint(110.39 + random() * 0.05, -6.995 + random() * 0.04), 4326)
FROM generate_series(1, :n) g,
     LATERAL (SELECT now() - random() * interval '365 days' + g * interval '0 s' AS at) t,
     LATERAL (SELECT code, priority FROM incident_categories WHERE retired_at IS NULL
              ORDER BY md5(code || g) LIMIT 1) c
"""


def _seed(conn) -> None:  # noqa: ANN001
    tinycity.seed(conn)
    conn.execute(text(HISTORY_SQL), {"n": 50_000 if full_run() else 2_000})


@pytest.fixture()
def server(cluster):
    """A server on a database of its own for each measure: the calls of one do not weigh on the next."""
    with scratch_database(cluster, DB, seed=_seed) as url:
        eng = make_engine(url)
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # as a city's database is: autovacuum is not due mid-measure
        try:
            with serve_process(url, workers=WORKERS) as (port, proc):
                yield port, proc, eng, make_url(url).database
        finally:
            eng.dispose()


def _body(i: int, j: int) -> dict:
    # Handsets place a caller a few tens of metres apart, never twice on the same point: 160 spots,
    # each call within ~50 m of its spot (deterministic), so the bench is not 2,000 calls on 160 points.
    dy, dx = ((i * 7919 + j * 104729) % 1000 - 500) * 1e-6, ((i * 104729 + j * 7919) % 1000 - 500) * 1e-6
    return {"category": "kebakaran", "lat": -6.97 - (j % 20) * 0.001 + dy, "lon": 110.405 + i * 0.004 + dx,
            "caller_phone": f"0812{i:02d}{j:05d}", "source": "phone"}


def _measure(port: int, proc, eng, dbname: str, tag: str) -> dict:  # noqa: ANN001
    """Post the bench's calls and return the figures: throughput, latency and CPU of server and database."""
    per_client = 250 if full_run() else 10
    app0, db0, load0 = cpu_seconds(proc.pid), backend_cpu(dbname), os.getloadavg()[0]
    run = post_incidents(port, eng, tag, CLIENTS, per_client, _body, path=PATH)
    app1, db1, load1 = cpu_seconds(proc.pid), backend_cpu(dbname), os.getloadavg()[0]
    total = CLIENTS * per_client
    assert run.errors == []
    assert run.stored == total
    app_cpu = app1 - app0
    db_cpu = sum(v - db0.get(pid, 0.0) for pid, v in db1.items())  # a backend that ended meanwhile is missed
    assert app_cpu > 0 and db_cpu > 0
    flat = [x * 1000 for x in run.latencies]
    return {
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


@pytest.mark.bench
def test_intake_throughput_and_cpu_per_call(server):
    """No map open: what intake itself costs (a process with no stream reads nothing for the live map)."""
    port, proc, eng, dbname = server
    post_incidents(port, eng, "warm", CLIENTS, 2, _body, path=PATH)  # pools, caches, first requests
    figures = _measure(port, proc, eng, dbname, "bench")
    print("\nintake:", figures)
    record("intake_http", figures)


@pytest.mark.bench
def test_intake_cpu_per_call_with_maps_open(server):
    """The same calls while dispatchers' maps are open: each server process with a stream also reads
    every call's summary and audience for them (app/live/hub.py); every map must get every call."""
    import asyncio

    from tests import users
    from tests.sse import Client, run_client, run_in_own_loop

    port, proc, eng, dbname = server
    clients = [Client("dispatcher", users.auth("dispatcher")) for _ in range(MAPS)]
    out: dict[str, object] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(run_client("127.0.0.1", port, c, stop)) for c in clients]
        await asyncio.wait_for(asyncio.gather(*(c.opened.wait() for c in clients)), 60)
        assert all(c.status == 200 for c in clients), {c.status for c in clients}
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, post_incidents, port, eng, "mapswarm", CLIENTS, 2, _body, PATH)
        out["figures"] = await loop.run_in_executor(None, _measure, port, proc, eng, dbname, "maps")
        with eng.connect() as conn:
            out["ids"] = set(conn.execute(text("SELECT id FROM incidents WHERE idempotency_key LIKE 'maps-%'"))
                             .scalars())

        async def all_arrived() -> None:
            while any(not out["ids"] <= c.incident_ids() and not c.ended for c in clients):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(all_arrived(), 120)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_in_own_loop(scenario)
    assert all(out["ids"] <= c.incident_ids() for c in clients)  # type: ignore[operator]
    figures = {**out["figures"], "maps_open": MAPS, "maps_got_every_call": True}  # type: ignore[dict-item]
    print("\nintake with maps open:", figures)
    record("intake_http_maps_open", figures)


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
