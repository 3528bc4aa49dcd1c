"""Analytics speed, each beside the obvious alternative in the same run.

* Gi* with 999 permutations on 10,000 units: ours (numpy/scipy) against esda's G_Local.
* Density clustering of 100,000 incidents: PostGIS ST_ClusterDBSCAN (our service) against
  scikit-learn's DBSCAN on the same points in UTM.
* Agency performance (median/p90 per agency from task timestamps) over 1,000,000 incidents.
* One drive-time isochrone, warm: the reach of one station from our routing tables against
  pgRouting's pgr_drivingDistance from the same node.

`make bench` runs the full sizes; `make test` the same code on small data.
"""

from __future__ import annotations

import os
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.services.analytics import spatialstats as S
from geodata.demo import generate, load
from tests.bench.results import full_run, record
from tests.scratch import scratch_database

FULL = full_run()
GRID = 100 if FULL else 20  # GRID x GRID units
TARGET_INCIDENTS = 1_000_000 if FULL else 0
FIG: dict[str, Any] = {}

# Copies of the history (with their agency tasks) shifted back by 120-day steps (all within the
# service's ten-year window limit), so that the
# performance query reads a million incidents' worth of task timestamps.
PAD_INCIDENTS = text("""
    INSERT INTO incidents (category_code, status, priority, source, address, kelurahan_id, kecamatan_id,
                           is_prank, idempotency_key, received_at, resolved_at, closed_at, updated_at, geom)
    SELECT category_code, 'closed', priority, 'import', address, kelurahan_id, kecamatan_id, is_prank,
           'pad:' || id || ':' || g, received_at - make_interval(days => 120 * g),
           resolved_at - make_interval(days => 120 * g), closed_at - make_interval(days => 120 * g), now(),
           ST_Translate(geom, (random() - 0.5) * 0.002, (random() - 0.5) * 0.002)
    FROM incidents, generate_series(1, :copies) AS g
    WHERE status = 'closed' AND idempotency_key IS NULL
    LIMIT :n
""")
PAD_TASKS = text("""
    INSERT INTO incident_tasks (incident_id, agency_code, status, forwarded_at, acknowledged_at, en_route_at,
                                on_scene_at, resolved_at)
    SELECT p.id, t.agency_code, t.status, t.forwarded_at - d.shift, t.acknowledged_at - d.shift,
           t.en_route_at - d.shift, t.on_scene_at - d.shift, t.resolved_at - d.shift
    FROM incidents p
    CROSS JOIN LATERAL (SELECT split_part(p.idempotency_key, ':', 2)::bigint AS src,
                               make_interval(days => 120 * split_part(p.idempotency_key, ':', 3)::int) AS shift) d
    JOIN incident_tasks t ON t.incident_id = d.src
    WHERE p.idempotency_key LIKE 'pad:%'
""")


def _lattice(n: int) -> Any:
    pairs = []
    for r in range(n):
        for c in range(n):
            i = r * n + c
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < n:
                    pairs.append((i, rr * n + cc))
    return S.adjacency(n * n, pairs)


@pytest.mark.bench
def test_gi_star_10k_units_against_esda():
    adj = _lattice(GRID)
    y = np.random.default_rng(3).poisson(4, GRID * GRID).astype(float)
    t0 = time.perf_counter()
    ours = S.gi_star(y, adj, permutations=999, seed=11)
    ours_s = time.perf_counter() - t0
    fig = {"units": GRID * GRID, "permutations": 999, "ours_s": round(ours_s, 3)}
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    w = libpysal.weights.W({i: [int(j) for j in adj.indices[adj.indptr[i]:adj.indptr[i + 1]]]
                            for i in range(adj.shape[0])}, silence_warnings=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # esda warns that its default alternative will change
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=999, seed=11, n_jobs=1)
    fig["esda_s"] = round(time.perf_counter() - t0, 3)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6)
    FIG["gi_star"] = fig
    print("\ngi*:", fig)


@pytest.fixture(scope="module")
def history(cluster):
    with scratch_database(cluster, "peta112_analytics_bench") as url:
        engine = make_engine(url)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            load(conn, generate(seed=112, scale="city" if FULL else "small", years=2 if FULL else 0.25),
                 analyze=False)
            have = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
            if have < TARGET_INCIDENTS:
                # copies of the closed calls only: enough of them to reach the target
                closed = conn.execute(text("SELECT count(*) FROM incidents WHERE status = 'closed'")).scalar_one()
                need = TARGET_INCIDENTS - have
                conn.execute(PAD_INCIDENTS, {"copies": -(-need // closed), "n": need})
                conn.execute(PAD_TASKS)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        with engine.connect() as conn:
            FIG["data"] = {"incidents": conn.execute(text("SELECT count(*) FROM incidents")).scalar_one(),
                           "tasks": conn.execute(text("SELECT count(*) FROM incident_tasks")).scalar_one(),
                           "setup_s": round(time.perf_counter() - t0, 1)}
        try:
            yield engine
        finally:
            engine.dispose()
            record("analytics", FIG)


@pytest.mark.bench
def test_clustering_100k_against_sklearn(history):
    from app.services.analytics.clusters import ClusterQuery, cluster_rows
    from app.services.analytics.common import make_window

    n = 100_000 if FULL else 2_000
    with Session(history) as s:
        newest = s.execute(text("SELECT max(received_at) FROM incidents")).scalar_one()
        n = min(n, s.execute(text("SELECT count(*) FROM incidents")).scalar_one())
        since = s.execute(text("SELECT received_at FROM incidents ORDER BY received_at DESC OFFSET :n LIMIT 1"),
                          {"n": n - 1}).scalar_one()
        window = make_window(since, newest + timedelta(seconds=1), 30, ZoneInfo("Asia/Jakarta"))
        q = ClusterQuery(window=window, eps_m=100.0, min_points=10, within="city")  # one pass, as sklearn
        t0 = time.perf_counter()
        rows, _ = cluster_rows(s, q)
        ours_s = time.perf_counter() - t0
        pts = np.array(s.execute(text(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 32749) AS g FROM incidents "
            "WHERE received_at >= :a AND received_at < :b AND NOT is_prank AND status NOT IN ('cancelled', 'prank') "
            "AND duplicate_of IS NULL) x"), {"a": window.since, "b": window.until}).all())
    fig = {"incidents": len(pts), "eps_m": 100, "min_points": 10, "clusters": len(rows),
           "st_clusterdbscan_s": round(ours_s, 3)}
    sklearn = pytest.importorskip("sklearn.cluster")
    t0 = time.perf_counter()
    labels = sklearn.DBSCAN(eps=100.0, min_samples=10).fit(pts).labels_
    fig["sklearn_dbscan_s"] = round(time.perf_counter() - t0, 3)
    fig["sklearn_clusters"] = int(labels.max() + 1)
    assert fig["clusters"] == fig["sklearn_clusters"]
    FIG["clustering"] = fig
    print("\nclusters:", fig)


def _session_cpu(s: Session) -> tuple[float, float]:
    """CPU seconds so far of this process and of the session's PostgreSQL backend."""
    pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return time.process_time(), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(s: Session, work: Any) -> tuple[Any, dict[str, float]]:
    cpu0, db0 = _session_cpu(s)
    t0 = time.perf_counter()
    out = work()
    wall = time.perf_counter() - t0
    cpu1, db1 = _session_cpu(s)
    return out, {"wall_s": round(wall, 3), "cpu_s": round(cpu1 - cpu0 + db1 - db0, 3),
                 "app_cpu_s": round(cpu1 - cpu0, 3), "db_cpu_s": round(db1 - db0, 3)}


def _raw_cold_warm(s: Session, fig: dict[str, Any], raw: Any, ours: Any) -> tuple[Any, Any, Any]:
    """The raw query, then ours cold (a process's first read of the rollup) and warm (median of 5)."""
    from app.services.analytics import rollup

    raw_answer, fig["raw"] = _timed(s, raw)
    rollup.forget()
    cold, fig["rollup_cold"] = _timed(s, ours)
    warm = [_timed(s, ours) for _ in range(5)]
    fig["rollup_warm"] = sorted((w[1] for w in warm), key=lambda w: w["wall_s"])[len(warm) // 2]
    return raw_answer, cold, warm[-1][0]


@pytest.mark.bench
def test_agency_performance_over_the_whole_history(history):
    """Ten years of agency performance: the rollup (cold: first read in a process; warm) against the
    raw query, same data, same run, same answer."""
    from app.services.analytics import rollup
    from app.services.analytics.common import make_window
    from app.services.analytics.performance import PerformanceQuery, performance

    t0 = time.perf_counter()
    cells = rollup.rebuild(history)  # what the server's refresher keeps up to date
    build_s = time.perf_counter() - t0
    until = datetime.now(UTC) + timedelta(days=1)
    # the longest window the service allows
    q = PerformanceQuery(window=make_window(until - timedelta(days=3650), until, 30, ZoneInfo("Asia/Jakarta")))
    fig: dict[str, Any] = {"incidents": FIG["data"]["incidents"], "tasks": FIG["data"]["tasks"],
                           "load_average": round(os.getloadavg()[0], 1),
                           "rollup_cells": cells, "rollup_build_s": round(build_s, 1)}
    with Session(history) as s:
        raw, cold, res = _raw_cold_warm(s, fig, lambda: performance(s, q, use_rollup=False),
                                        lambda: performance(s, q))
        with s.connection().connection.cursor() as cur:  # what a process holds
            cur.execute("SELECT pg_size_pretty(sum(length(data))) FROM rollup_cells")
            fig["rollup_bytes"] = cur.fetchone()[0]
    assert raw["ranking"]
    for r in (raw, cold, res):
        r["parameters"].pop("computed_from")
    assert cold == raw and res == raw  # the same answer, exactly
    fig["speedup_warm_cpu"] = round(fig["raw"]["cpu_s"] / max(fig["rollup_warm"]["cpu_s"], 1e-3), 1)
    FIG["agency_performance"] = fig
    print("\nperformance:", fig)


@pytest.mark.bench
def test_trends_over_the_whole_history(history):
    """Ten years of trends (hour x weekday, category mix, prank rate, flood curve): the rollup's
    incident cells against the four raw queries, same run, same answer."""
    from app.services.analytics import rollup
    from app.services.analytics.common import make_window
    from app.services.analytics.trends import TrendQuery, trends

    rollup.refresh(history)  # built by the performance bench when it ran first
    until = datetime.now(UTC) + timedelta(days=1)
    q = TrendQuery(make_window(until - timedelta(days=3650), until, 30, ZoneInfo("Asia/Jakarta")))
    fig: dict[str, Any] = {"incidents": FIG["data"]["incidents"], "load_average": round(os.getloadavg()[0], 1)}
    with Session(history) as s:
        raw, cold, res = _raw_cold_warm(s, fig, lambda: trends(s, q, use_rollup=False), lambda: trends(s, q))
    for r in (raw, cold, res):
        r["parameters"].pop("computed_from")
    assert cold == raw and res == raw and raw["summary"]["incidents"] > 0
    fig["speedup_warm_cpu"] = round(fig["raw"]["cpu_s"] / max(fig["rollup_warm"]["cpu_s"], 1e-3), 1)
    FIG["trends"] = fig
    print("\ntrends:", fig)


@pytest.mark.bench
def test_one_isochrone_warm_against_pgr_driving_distance(history):
    """An 8-minute isochrone polygon of one Damkar station: drawn once (cold), then warm from the table memo."""
    from app.services.analytics import coverage as cov

    with Session(history) as s:
        first = s.execute(text("SELECT min(id) FROM stations WHERE agency_code = 'DAMKAR'")).scalar_one()
        r = cov.reach(s, "DAMKAR", [first])  # builds the graph and the Damkar station table once
        cov._graph_geo(r.graph)  # the graph's metric geometry, built once per graph
        t0 = time.perf_counter()
        cold = cov.isochrone(s, "DAMKAR", 8.0, [first])
        cold_s = time.perf_counter() - t0
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            poly = cov.isochrone(s, "DAMKAR", 8.0, [first])
            times.append(time.perf_counter() - t0)
        nodes = int((r.times <= 480.0).sum())
        node = s.execute(text(
            "SELECT n.id FROM stations st CROSS JOIN LATERAL (SELECT id FROM road_nodes ORDER BY geom <-> st.geom "
            "LIMIT 1) n WHERE st.id = :s"), {"s": first}).scalar_one()
        t0 = time.perf_counter()
        pgr = s.execute(text(
            "SELECT count(*) FROM pgr_drivingDistance('SELECT id, source, target, cost, reverse_cost FROM road_edges', "
            ":node, 480, directed => true)"), {"node": node}).scalar_one()
        pgr_s = time.perf_counter() - t0
    assert not poly.is_empty and poly.equals(cold)
    FIG["isochrone_8min"] = {"ours_polygon_warm_ms": round(min(times) * 1000, 3),
                             "ours_polygon_warm_p50_ms": round(sorted(times)[len(times) // 2] * 1000, 3),
                             "ours_polygon_cold_ms": round(cold_s * 1000, 1), "nodes_within": nodes,
                             "area_km2": round(poly.area / 1e6, 2),
                             "pgr_drivingDistance_nodes_only_ms": round(pgr_s * 1000, 1), "pgr_nodes": int(pgr)}
    print("\nisochrone:", FIG["isochrone_8min"])
