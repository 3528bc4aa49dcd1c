"""Live stream at call-centre scale, on the server `make run` starts (2 processes, default settings).

1. **Capacity**: ``SSE_CLIENTS`` maps hold ``/api/v1/stream`` open (six reader classes: desk,
   official, BPBD and three agencies) while eight call-takers log calls over HTTP; figures:
   intake p50/p95 with the streams open, database connections held, every stream still open.
2. **Fan-out**: ``FANOUT_CALLS`` calls are committed one at a time (SQL, 0.25 s apart); for each,
   the time from just before its COMMIT to its arrival at each stream that may see it (all
   clients in this process, one clock). p95 over (call, stream) and p95 of "the last stream
   to get it" per call; none may be missed.

Full run (``make bench``): 500 streams, 200 calls of intake, 40 fan-out calls, figures under
``sse_capacity`` and ``sse_fanout`` in bench/results.json.  In ``make test``: 30 streams, a
handful of calls, as a smoke.  Loopback only; bounded; it stops by itself.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests import tinycity, users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import post_incidents, serve
from tests.scratch import scratch_database
from tests.sse import Client, run_client, run_in_own_loop

pytestmark = pytest.mark.bench

FULL = full_run()
SSE_CLIENTS = 500 if FULL else 30
INTAKE_CLIENTS, INTAKE_PER_CLIENT = (8, 25) if FULL else (2, 3)
FANOUT_CALLS = 40 if FULL else 4
READERS = ["t_dispatcher", "t_official", "t_bpbd", "t_damkar", "t_polri", "t_dinkes"]
SEES_ALL = {"t_dispatcher", "t_official", "t_bpbd"}
AGENCY = {"t_damkar": "DAMKAR", "t_polri": "POLRI", "t_dinkes": "DINKES"}
FANOUT_MIX = [("kebakaran", "DAMKAR"), ("kriminal", "POLRI"), ("ambulans", "DINKES"), ("pju_mati", None)]


def test_sse_capacity_and_fanout(cluster):
    with scratch_database(cluster, "peta112_ssebench", seed=tinycity.seed) as url:
        eng = make_engine(url)
        try:
            with serve(url, workers=2) as port:
                _run(port, eng)
        finally:
            eng.dispose()


def _run(port: int, eng) -> None:  # noqa: ANN001
    clients = [Client(READERS[i % len(READERS)], users.auth(READERS[i % len(READERS)]))
               for i in range(SSE_CLIENTS)]
    commits: list[tuple[int, str | None, float]] = []  # incident id, agency, perf_counter before COMMIT
    results: dict[str, object] = {}

    def fan_out_calls() -> None:
        for n in range(FANOUT_CALLS):
            category, agency = FANOUT_MIX[n % len(FANOUT_MIX)]
            with eng.connect() as conn:
                iid = conn.execute(text(
                    "INSERT INTO incidents (category_code, priority, caller_phone, geom) VALUES "
                    "(:c, 2, '0812-0000-1111', ST_SetSRID(ST_MakePoint(110.42, -6.98), 4326)) RETURNING id"),
                    {"c": category}).scalar_one()
                if agency:
                    conn.execute(text("INSERT INTO incident_tasks (incident_id, agency_code) VALUES (:i, :a)"),
                                 {"i": iid, "a": agency})
                t0 = time.perf_counter()
                conn.commit()
            commits.append((iid, agency, t0))
            time.sleep(0.25)

    def intake(tag: str):  # noqa: ANN202
        return post_incidents(port, eng, tag, INTAKE_CLIENTS, INTAKE_PER_CLIENT, lambda i, j: {
            "category": "pohon_tumbang", "lat": -6.97 - (j % 20) * 0.001, "lon": 110.405 + i * 0.004,
            "caller_phone": f"0813{i:02d}{j:05d}", "source": "phone"})

    # The same intake with no stream open, first: what this machine gives at this moment.
    baseline = intake("ssebase")

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(run_client("127.0.0.1", port, c, stop)) for c in clients]
        t_open = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(c.opened.wait() for c in clients)), 600)
        results["open_s"] = time.perf_counter() - t_open
        assert all(c.status == 200 for c in clients), {c.status for c in clients}
        loop = asyncio.get_running_loop()
        with eng.connect() as conn:
            results["db_connections"] = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalar_one()
        # Intake over HTTP while every stream is open (and receives the calls' events).
        run = await loop.run_in_executor(None, intake, "ssebench")
        results["intake"] = run
        await loop.run_in_executor(None, fan_out_calls)

        async def settled() -> None:
            last = commits[-1][0]
            while any(c.arrival("incident", lambda d: d["id"] == last) is None
                      and (c.who in SEES_ALL or AGENCY.get(c.who) == commits[-1][1]) and not c.ended
                      for c in clients):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # stragglers of earlier calls, if any

        await asyncio.wait_for(settled(), 120)
        results["still_open"] = sum(not c.ended for c in clients)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_in_own_loop(scenario)
    run = results["intake"]
    assert run.errors == [] and run.stored == INTAKE_CLIENTS * INTAKE_PER_CLIENT  # type: ignore[attr-defined]
    per_delivery: list[float] = []
    last_per_call: list[float] = []
    missed = 0
    for iid, agency, t0 in commits:
        arrivals = []
        for c in clients:
            if not (c.who in SEES_ALL or AGENCY.get(c.who) == agency):
                assert c.arrival("incident", lambda d, i=iid: d["id"] == i) is None, c.who
                continue
            t = c.arrival("incident", lambda d, i=iid: d["id"] == i)
            if t is None:
                missed += 1
                continue
            arrivals.append((t - t0) * 1000)
        per_delivery += arrivals
        if arrivals:
            last_per_call.append(max(arrivals))
    assert missed == 0
    assert results["still_open"] == SSE_CLIENTS
    intake_ms = [x * 1000 for x in run.latencies]  # type: ignore[attr-defined]
    capacity = {
        "streams_open": SSE_CLIENTS, "server": "peta112 serve (uvicorn, 2 processes)",
        "seconds_to_open_all": round(results["open_s"], 2),  # type: ignore[arg-type]
        "database_connections_of_the_server": results["db_connections"],
        "intake_calls": len(intake_ms), "intake_clients": INTAKE_CLIENTS,
        "intake_p50_ms": round(percentile(intake_ms, 50), 1), "intake_p95_ms": round(percentile(intake_ms, 95), 1),
        "intake_calls_per_s": round(len(intake_ms) / run.seconds, 1),  # type: ignore[attr-defined]
        "intake_without_streams_p50_ms": round(percentile([x * 1000 for x in baseline.latencies], 50), 1),
        "intake_without_streams_p95_ms": round(percentile([x * 1000 for x in baseline.latencies], 95), 1),
        "intake_without_streams_calls_per_s": round(len(baseline.latencies) / baseline.seconds, 1),
        "streams_still_open_after": results["still_open"], "target": ">= 500 streams, intake p95 <= 100 ms",
    }
    fanout = {
        "streams": SSE_CLIENTS, "calls": len(commits), "deliveries": len(per_delivery), "missed": missed,
        "p50_ms": round(percentile(per_delivery, 50), 1), "p95_ms": round(percentile(per_delivery, 95), 1),
        "max_ms": round(max(per_delivery), 1),
        "last_stream_p50_ms": round(percentile(last_per_call, 50), 1),
        "last_stream_p95_ms": round(percentile(last_per_call, 95), 1),
        "measured": "from just before COMMIT to arrival at each stream that may see the call (same clock)",
        "target": "p95 <= 500 ms to every stream, none missed",
    }
    print("\nsse capacity", capacity, "\nsse fan-out", fanout)
    record("sse_capacity", capacity)
    record("sse_fanout", fanout)
