"""Stream capacity and fan-out: a few hundred maps open on one server process, every one gets every
event it may see and none it may not (the benchmark, tests/bench/test_stream_bench.py, times it)."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import text

from tests import users
from tests.sse import Client, run_client, run_in_own_loop

# Scaled down for `make test`; PETA112_FANOUT_CLIENTS=500 runs the benchmark's size.
CLIENTS = int(os.environ.get("PETA112_FANOUT_CLIENTS", "240"))
READERS = ["t_dispatcher", "t_official", "t_bpbd", "t_damkar", "t_polri", "t_dinkes"]
SEES_ALL = {"t_dispatcher", "t_official", "t_bpbd"}
AGENCY = {"t_damkar": "DAMKAR", "t_polri": "POLRI", "t_dinkes": "DINKES"}
# category, agencies with a task
CALLS = [("kebakaran", ["DAMKAR"]), ("kriminal", ["POLRI"]), ("ambulans", ["DINKES"]),
         ("kecelakaan", ["DINKES", "POLRI"]), ("pju_mati", []), ("sarang_tawon", ["DAMKAR"])]
MARKER = "T-FANOUT-END"


def test_every_open_map_gets_exactly_what_it_may_see(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    clients = [Client(READERS[i % len(READERS)], users.auth(READERS[i % len(READERS)])) for i in range(CLIENTS)]
    created: list[tuple[int, list[str]]] = []

    def write_calls() -> None:
        for category, agencies in CALLS:
            with live_server.engine.begin() as conn:
                iid = conn.execute(text(  # one call per transaction, as the desk logs them
                    "INSERT INTO incidents (category_code, priority, caller_name, caller_phone, geom) VALUES "
                    "(:c, 2, 'Ibu Wati', '0813-4444-0777', ST_SetSRID(ST_MakePoint(110.42, -6.98), 4326)) "
                    "RETURNING id"), {"c": category}).scalar_one()
                for a in agencies:
                    conn.execute(text("INSERT INTO incident_tasks (incident_id, agency_code) VALUES (:i, :a)"),
                                 {"i": iid, "a": a})
            created.append((iid, agencies))
        with live_server.engine.begin() as conn:  # every reader sees units: the last event of the run
            conn.execute(text("INSERT INTO units (agency_code, callsign, unit_type) "
                              "VALUES ('BPBD', :c, 'rescue')"), {"c": MARKER})

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(run_client(host, int(port), c, stop)) for c in clients]
        # Bounds only keep a broken server from hanging the suite; nothing here is timed.
        await asyncio.wait_for(asyncio.gather(*(c.opened.wait() for c in clients)), 300)
        assert all(c.status == 200 for c in clients), {c.status for c in clients}
        await asyncio.get_running_loop().run_in_executor(None, write_calls)

        async def until_marker(c: Client) -> None:
            while c.arrival("unit", lambda d: d.get("callsign") == MARKER) is None and not c.ended:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(asyncio.gather(*(until_marker(c) for c in clients)), 300)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        run_in_own_loop(scenario)
        ours = {iid for iid, _ in created}
        for c in clients:
            assert not c.ended, f"{c.who}'s stream ended early"
            expected = {iid for iid, agencies in created
                        if c.who in SEES_ALL or AGENCY.get(c.who) in agencies}
            assert c.incident_ids() & ours == expected, c.who
            for e, d, _ in c.events:
                if e == "incident" and d["id"] in ours:  # the map draws from the summary, not a re-fetch
                    assert d["incident"]["category"] and d["incident"]["tasks"] is not None
            assert b"4444" not in c.raw and b"Wati" not in c.raw, c.who
        # One event per change per map: no reader got a call twice.
        for c in clients:
            got = [d["id"] for e, d, _ in c.events if e == "incident" and d["id"] in ours]
            assert len(got) == len(set(got)), c.who
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE incidents SET status = 'cancelled' WHERE id = ANY(:i)"),
                         {"i": [iid for iid, _ in created]})
            conn.execute(text("DELETE FROM units WHERE callsign = :c"), {"c": MARKER})
