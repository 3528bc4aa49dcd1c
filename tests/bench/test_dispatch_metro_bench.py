"""Dispatch over HTTP on the metro-scale demo city with 1,000,000 incidents, side by side.

Full run (`make bench`): metro network (~200k directed edges), its 2-year history
padded to one million incidents, gunicorn with 2 workers.  Measured in one run:

* drive-time nearest over HTTP (`/api/v1/nearest?by=time`) against pgRouting's
  `pgr_dijkstraCost` from the same stations to the same point (SQL time only,
  which flatters pgRouting: it pays no HTTP);
* straight-line nearest over HTTP (`by=distance`, KNN `<->`) against an
  `ORDER BY ST_Distance` scan;
* intake throughput with 8 concurrent clients, with and without the nearest-unit
  advice, checking nothing is lost or doubled.

`make test` runs the same code on the small city as a smoke.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from geodata.demo import generate, load
from tests import users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import get_json, gunicorn, post_incidents
from tests.scratch import scratch_database

FULL = full_run()
TARGET_INCIDENTS = 1_000_000 if FULL else 0
N_QUERIES = 300 if FULL else 10
N_PGR = 15 if FULL else 2
CLIENTS = 8
PER_CLIENT = 150 if FULL else 5
EDGES_SQL = "SELECT id, source, target, cost, reverse_cost FROM road_edges"
FIG: dict[str, Any] = {}

# Pad the history by copying it with shifted times and jittered positions: the load a
# city accumulates over years, without generating years of tasks and events.
PAD_SQL = text("""
    INSERT INTO incidents (category_code, status, priority, source, address, kelurahan_id, kecamatan_id,
                           is_prank, received_at, verified_at, dispatched_at, en_route_at, on_scene_at,
                           resolved_at, closed_at, updated_at, geom)
    SELECT category_code, 'closed', priority, 'import', address, kelurahan_id, kecamatan_id, is_prank,
           received_at - make_interval(days => 730 * g), verified_at - make_interval(days => 730 * g),
           dispatched_at - make_interval(days => 730 * g), en_route_at - make_interval(days => 730 * g),
           on_scene_at - make_interval(days => 730 * g), resolved_at - make_interval(days => 730 * g),
           closed_at - make_interval(days => 730 * g), now(),
           ST_Translate(geom, (random() - 0.5) * 0.002, (random() - 0.5) * 0.002)
    FROM incidents, generate_series(1, :copies) AS g
    WHERE status = 'closed'
    LIMIT :n
""")


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2),
            "n": len(values)}


@pytest.fixture(scope="module")
def metro(cluster):
    with scratch_database(cluster, "peta112_metro_bench") as url:
        engine = make_engine(url)
        t0 = time.perf_counter()
        city = generate(seed=112, scale="metro" if FULL else "small", years=2 if FULL else 0.25)
        with engine.begin() as conn:
            load(conn, city, analyze=False)
            users.seed(conn)
            have = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
            if have < TARGET_INCIDENTS:
                copies = -(-TARGET_INCIDENTS // have)
                conn.execute(PAD_SQL, {"copies": copies, "n": TARGET_INCIDENTS - have})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        with engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("road_edges", "incidents", "stations", "units")}
            directed = conn.execute(text(
                "SELECT count(*) FILTER (WHERE cost >= 0) + count(*) FILTER (WHERE reverse_cost >= 0) "
                "FROM road_edges")).scalar_one()
            rows = conn.execute(text(
                "SELECT ST_Y(geom), ST_X(geom) FROM incidents WHERE source <> 'import' ORDER BY id")).all()
        rng = np.random.default_rng(7)
        points = [rows[i] for i in rng.choice(len(rows), size=N_QUERIES, replace=False)]
        FIG["data"] = {**counts, "directed_edges": directed, "scale": "metro" if FULL else "small",
                       "setup_s": round(time.perf_counter() - t0, 1)}
        try:
            with gunicorn(url, workers=2, threads=4) as port:
                yield port, engine, points
        finally:
            engine.dispose()
            if FULL:
                record("dispatch_metro_http", FIG)


def _warm(port: int) -> None:
    """Each gunicorn worker builds its routing tables on first use; don't time that."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(8):
        get_json(conn, "/api/v1/nearest?lat=-6.98&lon=110.42&agency=DINKES&k=5&by=time")
    conn.close()


@pytest.mark.bench
def test_drive_time_nearest_vs_pgrouting(metro):
    port, engine, points = metro
    _warm(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ours: list[float] = []
    answers = []
    for lat, lon in points:
        t0 = time.perf_counter()
        status, body = get_json(conn, f"/api/v1/nearest?lat={lat}&lon={lon}&agency=DINKES&k=5&by=time")
        ours.append(time.perf_counter() - t0)
        assert status == 200, body[:300]
        answers.append(json.loads(body))
    conn.close()
    assert all(a["method"] == "drive_time" for a in answers)
    pgr: list[float] = []
    with engine.connect() as db:
        station_nodes = db.execute(text(
            "SELECT DISTINCT ON (s.id) n.id FROM stations s CROSS JOIN LATERAL "
            "(SELECT id FROM road_nodes ORDER BY geom <-> s.geom LIMIT 1) n WHERE s.agency_code = 'DINKES'"
        )).scalars().all()
        for lat, lon in points[:N_PGR]:
            t0 = time.perf_counter()
            db.execute(text(
                "SELECT * FROM pgr_dijkstraCost(:edges, CAST(:starts AS bigint[]), "
                "(SELECT id FROM road_nodes ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1),"
                " directed => true) ORDER BY agg_cost LIMIT 5"),
                {"edges": EDGES_SQL, "starts": list(station_nodes), "lat": lat, "lon": lon}).all()
            pgr.append(time.perf_counter() - t0)
    FIG["drive_time_nearest"] = {"ours_http": _ms(ours), "pgr_dijkstraCost_sql": _ms(pgr),
                                 "speedup_p50": round(percentile(pgr, 50) / percentile(ours, 50), 1),
                                 "stations": len(station_nodes), "k": 5}
    print("\ndrive-time nearest:", FIG["drive_time_nearest"])


@pytest.mark.bench
def test_straight_line_nearest_vs_distance_scan(metro):
    port, engine, points = metro
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ours: list[float] = []
    for lat, lon in points:
        t0 = time.perf_counter()
        status, body = get_json(conn, f"/api/v1/nearest?lat={lat}&lon={lon}&k=5&by=distance")
        ours.append(time.perf_counter() - t0)
        assert status == 200 and json.loads(body)["method"] == "straight_line"
    conn.close()
    scan: list[float] = []
    with engine.connect() as db:
        for lat, lon in points:
            t0 = time.perf_counter()
            db.execute(text(
                "SELECT id FROM units WHERE status = 'available' ORDER BY "
                "ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) LIMIT 5"),
                {"lat": lat, "lon": lon}).all()
            scan.append(time.perf_counter() - t0)
    FIG["straight_line_nearest"] = {"ours_http": _ms(ours), "st_distance_scan_sql": _ms(scan)}
    print("\nstraight-line nearest:", FIG["straight_line_nearest"])


@pytest.mark.parametrize("recommend", [True, False], ids=["with_advice", "intake_only"])
@pytest.mark.bench
def test_intake_throughput_metro(metro, recommend):
    port, engine, points = metro
    _warm(port)
    tag = f"metro-{int(recommend)}"

    def call(i: int, j: int) -> dict:
        lat, lon = points[(i * PER_CLIENT + j) % len(points)]
        return {"category": "kecelakaan", "lat": lat, "lon": lon, "caller_phone": f"08{i:02d}{j:06d}"}

    run = post_incidents(port, engine, tag, CLIENTS, PER_CLIENT, call,
                         path=f"/api/v1/incidents?recommend={int(recommend)}")
    total = CLIENTS * PER_CLIENT
    assert run.errors == [] and run.stored == total
    latencies, elapsed = run.latencies, run.seconds
    FIG[f"intake_{'with_advice' if recommend else 'only'}"] = {
        "clients": CLIENTS, "incidents": total, "per_s": round(total / elapsed, 1), **_ms(latencies),
        "lost": 0, "doubled": 0}
    print("\nintake:", recommend, FIG[f"intake_{'with_advice' if recommend else 'only'}"])
