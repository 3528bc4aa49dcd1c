"""Nearest responders: our cached drive-time tables vs pgRouting, KNN vs a distance scan.

Full run (``make bench``): a 400x400 grid (~160k nodes, ~300k edges) in a scratch
database; figures go to bench/results.json under ``routing_nearest``.  In ``make test``
the same code runs once on a small grid as a smoke test.  Correctness is asserted
(our ETAs equal pgr_withPointsCost within 1 s); times are only recorded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.routing import cache, store
from app.routing import nearest as routing
from tests.bench.results import full_run, percentile, record
from tests.routing_net import GridNetwork, add_station, add_unit, load_network, make_grid
from tests.scratch import scratch_database

pytestmark = pytest.mark.bench

FULL = full_run()
SIZE = 400 if FULL else 20
N_POINTS = 200 if FULL else 3
N_PGR = 10 if FULL else 2
N_DINKES = 20 if FULL else 3
N_PATROL = 2000 if FULL else 20
EDGES_SQL = "SELECT id, source, target, cost, reverse_cost FROM road_edges"
FIG: dict[str, Any] = {}


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(times, 50) * 1000, 3), "p95_ms": round(percentile(times, 95) * 1000, 3),
            "n": len(times)}


@pytest.fixture(autouse=True)
def recheck_as_deployed(monkeypatch):
    """Fingerprints at most every RECHECK_S, as in a process without notices (the tests' 0 would time them too)."""
    monkeypatch.setattr(cache, "RECHECK_S", float(os.environ.get("PETA112_ROUTING_RECHECK_S", "2")))


@pytest.fixture(scope="module")
def bench_db(cluster) -> Iterator[tuple[Engine, GridNetwork, list[tuple[float, float]]]]:
    with scratch_database(cluster, "peta112_routing_bench") as url:
        engine = make_engine(url)
        net = make_grid(SIZE, SIZE, seed=2024, island=False)
        rng = np.random.default_rng(5)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            load_network(conn, net)
            for i in range(N_DINKES):
                sid = add_station(conn, "DINKES", f"PSC {i}", net.grid_lonlat(*rng.uniform(0, SIZE - 1, 2)))
                add_unit(conn, "DINKES", f"AMB-{i:02d}", "ambulance", sid)
                add_unit(conn, "DINKES", f"AMB-{i:02d}b", "ambulance", sid)
            for i in range(N_PATROL):  # patrol cars are on the road (mobile), not at a station
                add_unit(conn, "POLRI", f"PATROL-{i:04d}", "patrol_car", None,
                         net.grid_lonlat(*rng.uniform(0, SIZE - 1, 2)))
            conn.execute(text("ANALYZE units"))
        FIG["network"] = {"nodes": len(net.node_ids), "edges": len(net.edge_ids), "dinkes_stations": N_DINKES,
                          "patrol_units": N_PATROL, "load_s": round(time.perf_counter() - t0, 2)}
        points = [net.grid_lonlat(*rng.uniform(0.5, SIZE - 1.5, 2)) for _ in range(N_POINTS)]
        try:
            yield engine, net, points
        finally:
            cache.invalidate()
            engine.dispose()


def test_build_graph_and_tables(bench_db, monkeypatch):
    engine, _, _ = bench_db
    with Session(engine) as s:
        cache.invalidate()
        t0 = time.perf_counter()
        state = cache.state(s)
        t1 = time.perf_counter()
        state.table(s, "DINKES")
        t2 = time.perf_counter()
        monkeypatch.setattr(cache, "RECHECK_S", 0.0)
        t3 = time.perf_counter()
        same = cache.state(s)  # the fingerprint check when nothing changed (at most every RECHECK_S, no notices)
        t4 = time.perf_counter()
    assert same is state
    assert state.graph is not None and 0.99 * FIG["network"]["nodes"] < state.graph.n_nodes <= FIG["network"]["nodes"]
    FIG["build"] = {"graph_s": round(t1 - t0, 3), "dinkes_table_s": round(t2 - t1, 3),
                    "arcs": state.graph.n_arcs, "freshness_check_ms": round((t4 - t3) * 1000, 2)}


def test_drive_time_nearest(bench_db, benchmark):
    engine, _, points = bench_db
    times: list[float] = []
    it = iter(points * 2)
    with Session(engine) as s:
        routing.nearest(s, points[0][1], points[0][0], agency="DINKES", k=5)  # warm: tables built

        def one() -> None:
            lon, lat = next(it)
            t0 = time.perf_counter()
            res = routing.nearest(s, lat, lon, agency="DINKES", k=5)
            times.append(time.perf_counter() - t0)
            assert res["method"] == "drive_time" and res["candidates"]

        benchmark.pedantic(one, rounds=len(points), iterations=1)
    FIG["drive_time_nearest"] = _ms(times)


def test_drive_time_nearest_mobile_units(bench_db, benchmark):
    """POLRI patrol cars are all away from stations: one bounded reverse Dijkstra per query."""
    engine, _, points = bench_db
    times: list[float] = []
    it = iter(points * 2)
    with Session(engine) as s:

        def one() -> None:
            lon, lat = next(it)
            t0 = time.perf_counter()
            res = routing.nearest(s, lat, lon, agency="POLRI", k=5)
            times.append(time.perf_counter() - t0)
            assert res["method"] == "drive_time" and len(res["candidates"]) == 5

        benchmark.pedantic(one, rounds=min(len(points), 50), iterations=1)
    FIG["drive_time_nearest_mobile"] = _ms(times)


def test_pgr_dijkstracost_same_question(bench_db, benchmark):
    """pgRouting answering the same question per call: every DINKES station to the point."""
    engine, _, points = bench_db
    times: list[float] = []
    worst = 0.0
    with Session(engine) as s:
        st = s.execute(text("SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stations "
                            "WHERE agency_code = 'DINKES' ORDER BY id")).all()
        g = cache.state(s).graph
        assert g is not None
        # Exactness: our ETA per station equals pgr_withPointsCost between the snapped points.
        for lon, lat in points[:N_PGR]:
            snaps = store.snap_points(s, g, [(0, lon, lat)] + [(r.id, r.lon, r.lat) for r in st])
            pts = ", ".join(f"({k + 1}, {g.edge_ids[v.edge]}, {v.fraction!r})" for k, v in snaps.items())
            rows = s.execute(text(
                "SELECT start_pid, agg_cost FROM pgr_withPointsCost(:e, :p, CAST(:starts AS bigint[]), -1, "
                "directed => true, driving_side => 'b')"),
                {"e": EDGES_SQL, "p": f"SELECT * FROM (VALUES {pts}) AS p(pid, edge_id, fraction)",
                 "starts": [-(r.id + 1) for r in st]}).all()
            pgr = {-int(pid) - 1: float(c) for pid, c in rows}
            res = routing.nearest(s, lat, lon, agency="DINKES", k=2 * N_DINKES)
            ours = {c["station_id"]: c["eta_s"] for c in res["candidates"]}
            for sid, eta in ours.items():
                worst = max(worst, abs(eta - pgr[sid]))
            assert set(ours) == set(pgr)
        assert worst < 1.0
        # Timing: pgr_dijkstraCost from the stations' nearest nodes to the point's nearest node.
        node_of = text("SELECT id FROM road_nodes ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) "
                       "LIMIT 1")
        station_nodes = [s.execute(node_of, {"lon": r.lon, "lat": r.lat}).scalar_one() for r in st]
        it = iter(points * 2)

        def one() -> None:
            lon, lat = next(it)
            t0 = time.perf_counter()
            node = s.execute(node_of, {"lon": lon, "lat": lat}).scalar_one()
            rows = s.execute(text(
                "SELECT start_vid, agg_cost FROM pgr_dijkstraCost(:e, CAST(:starts AS bigint[]), "
                "CAST(:t AS bigint), directed => true) ORDER BY agg_cost LIMIT 5"),
                {"e": EDGES_SQL, "starts": station_nodes, "t": node}).all()
            times.append(time.perf_counter() - t0)
            assert rows

        benchmark.pedantic(one, rounds=N_PGR, iterations=1)
    FIG["pgr_dijkstracost"] = _ms(times)
    FIG["max_eta_difference_vs_pgr_withpointscost_s"] = round(worst, 4)


def test_straight_line_knn(bench_db, benchmark):
    engine, _, points = bench_db
    times: list[float] = []
    it = iter(points * 2)
    with Session(engine) as s:

        def one() -> None:
            lon, lat = next(it)
            t0 = time.perf_counter()
            res = routing.nearest(s, lat, lon, agency="POLRI", k=5, by="distance")
            times.append(time.perf_counter() - t0)
            assert len(res["candidates"]) == 5

        benchmark.pedantic(one, rounds=len(points), iterations=1)
    FIG["straight_line_knn"] = _ms(times)


def test_straight_line_st_distance_scan(bench_db, benchmark):
    engine, _, points = bench_db
    times: list[float] = []
    it = iter(points * 2)
    scan = text("SELECT u.id FROM units u WHERE u.agency_code = 'POLRI' AND u.status = 'available' "
                "ORDER BY ST_Distance(u.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography), "
                "u.id LIMIT 5")
    with Session(engine) as s:

        def one() -> None:
            lon, lat = next(it)
            t0 = time.perf_counter()
            ids = s.execute(scan, {"lon": lon, "lat": lat}).scalars().all()
            times.append(time.perf_counter() - t0)
            knn = routing.nearest(s, lat, lon, agency="POLRI", k=5, by="distance")
            assert [c["unit_id"] for c in knn["candidates"]] == ids

        benchmark.pedantic(one, rounds=len(points), iterations=1)
    FIG["straight_line_st_distance_scan"] = _ms(times)


def test_write_results():
    needed = {"drive_time_nearest", "pgr_dijkstracost", "straight_line_knn", "straight_line_st_distance_scan"}
    if not needed <= FIG.keys():
        pytest.skip("a benchmark above did not run")
    FIG["speedup_drive_time_vs_pgr_p50"] = round(
        FIG["pgr_dijkstracost"]["p50_ms"] / FIG["drive_time_nearest"]["p50_ms"], 1)
    FIG["speedup_knn_vs_scan_p50"] = round(
        FIG["straight_line_st_distance_scan"]["p50_ms"] / FIG["straight_line_knn"]["p50_ms"], 1)
    record("routing_nearest", FIG)
    print("\nrouting_nearest:", FIG)
