"""Drive-time coverage on a small demo city (a quarter year), loaded once per module and rolled back.

The node reach times are checked against pgRouting's pgr_drivingDistance, the
isochrone polygon against those nodes, the population figures for monotonicity,
and the proposed station by actually adding it and measuring again.
"""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics import coverage as cov
from geodata.demo import DemoCity, generate

UNTIL = date(2026, 11, 25)
T = 240.0  # seconds: the 4-minute isochrone


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate(seed=112, scale="small", years=0.25, until=UNTIL)


def _station_on_two_way_node(db: Session) -> tuple[int, int]:
    """Move a DAMKAR station onto a road node whose edges are all two-way, so it starts exactly there."""
    sid = db.execute(text("SELECT min(id) FROM stations WHERE agency_code = 'DAMKAR'")).scalar_one()
    node = db.execute(text("""
        SELECT n.id FROM road_nodes n, stations s
        WHERE s.id = :sid
          AND (SELECT count(*) FROM road_edges e WHERE n.id IN (e.source, e.target)) >= 3
          AND NOT EXISTS (SELECT 1 FROM road_edges e WHERE n.id IN (e.source, e.target)
                          AND (e.cost < 0 OR e.reverse_cost < 0))
        ORDER BY n.geom <-> s.geom LIMIT 1"""), {"sid": sid}).scalar_one()
    db.execute(text("UPDATE stations SET geom = (SELECT geom FROM road_nodes WHERE id = :n) WHERE id = :s"),
               {"n": node, "s": sid})
    return int(sid), int(node)


def test_station_reach_matches_pgr_driving_distance(db: Session):
    sid, node = _station_on_two_way_node(db)
    r = cov.reach(db, "DAMKAR", [sid])
    ours = {int(r.graph.node_ids[i]): float(t) for i, t in enumerate(r.times) if t <= T + 1}
    assert ours[node] == pytest.approx(0, abs=1e-3)
    pgr = dict(db.execute(text("""
        SELECT node, agg_cost FROM pgr_drivingDistance(
            'SELECT id, source, target, cost, reverse_cost FROM road_edges', :node, :t, directed => true)"""),
        {"node": node, "t": T + 1}).all())
    strict_ours = {n for n, t in ours.items() if t <= T - 1}
    strict_pgr = {n for n, t in pgr.items() if t <= T - 1}
    assert strict_ours == strict_pgr  # equal sets away from the boundary ...
    assert {n for n, t in ours.items() if t <= T} <= set(pgr)  # ... and within 1 s at it
    assert {n for n, t in pgr.items() if t <= T} <= set(ours)
    for n in strict_ours:
        assert ours[n] == pytest.approx(pgr[n], abs=0.01)
    assert len(strict_ours) > 20


def test_station_isochrone_contains_the_station_and_its_reachable_nodes(api, db: Session):
    sid, node = _station_on_two_way_node(db)
    body = api.get("/api/v1/analytics/coverage?agency=DAMKAR&minutes=2&levels=2&per=station&sites=0").get_json()
    feat = next(f for f in body["isochrones"]["features"] if f["properties"]["station_id"] == sid)
    poly = shape(feat["geometry"]).buffer(1e-7)
    assert poly.geom_type in ("Polygon", "MultiPolygon")
    lon, lat = db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM stations WHERE id = :s"), {"s": sid}).one()
    assert poly.contains(shapely.Point(lon, lat))
    r = cov.reach(db, "DAMKAR", [sid])
    geo = cov._graph_geo(r.graph)
    reached = geo.node_lonlat[r.times <= 120]
    assert len(reached) > 10
    assert shapely.contains_xy(poly, reached[:, 0], reached[:, 1]).all()
    # and it is a drive-time shape, not the whole city
    far = geo.node_lonlat[r.times > 180]  # a minute (~400 m) beyond the 2-minute edge
    assert len(far) and not shapely.contains_xy(poly, far[:, 0], far[:, 1]).any()


def test_uncovered_population_falls_with_minutes(db: Session):
    res = cov.coverage(db, cov.CoverageQuery("DAMKAR", minutes=2, levels=(0.5, 1, 2, 3, 4, 6), sites=0))
    levels = res["population"]["by_level"]
    unc = [lv["uncovered"] for lv in levels]
    assert unc == sorted(unc, reverse=True) and unc[0] > unc[-1]
    areas = [lv["area_km2"] for lv in levels]
    assert areas == sorted(areas)
    assert res["population"]["total"] == db.execute(text(
        "SELECT sum(population) FROM admin_areas WHERE level = 'kelurahan'")).scalar_one()
    assert res["population"]["uncovered"] == levels[2]["uncovered"]  # the 2-minute target
    assert sum(k["uncovered_population"] for k in res["uncovered_kelurahan"]) == pytest.approx(
        res["population"]["uncovered"], abs=len(res["uncovered_kelurahan"]))
    feats = res["isochrones"]["features"]
    assert [f["properties"]["minutes"] for f in feats] == [0.5, 1, 2, 3, 4, 6]


def test_proposed_site_adds_people_outside_current_coverage(db: Session):
    q = cov.CoverageQuery("DAMKAR", minutes=1, levels=(1,), candidates=150)
    res = cov.coverage(db, q)
    site = res["proposed_site"]
    assert site and site["added_population"] > 0
    assert site["reach_before_s"] is None or site["reach_before_s"] > 60  # not already covered
    assert site["covered_share_after"] > site["covered_share_before"] == res["population"]["covered_share"]
    assert site["street"] and site["kelurahan"]
    # Build the proposed station and measure again: the gain is real.
    db.execute(text("INSERT INTO stations (agency_code, kind, name, geom) "
                    "VALUES ('DAMKAR', 'pos_damkar', 'Usulan', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
               {"lon": site["lon"], "lat": site["lat"]})
    after = cov.coverage(db, cov.CoverageQuery("DAMKAR", minutes=1, levels=(1,), sites=0))
    gained = after["population"]["covered"] - res["population"]["covered"]
    assert gained == pytest.approx(site["added_population"], rel=0.05)


def test_coverage_api_formats_and_problems(api):
    r = api.get("/api/v1/analytics/coverage?agency=DAMKAR&minutes=1&levels=0.5,1&format=geojson&candidates=50")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("isochrone") == 2 and kinds.count("proposed_site") == 1
    assert fc["parameters"]["levels"] == [0.5, 1] and fc["parameters"]["minutes"] == 1
    assert fc["data"]["stations"] >= 1 and "window" in fc["data"]["incidents"]
    for query, field in [("", "agency"), ("agency=NOPE", "agency"), ("agency=DAMKAR&minutes=0", "minutes"),
                         ("agency=DAMKAR&minutes=x", "minutes"), ("agency=DAMKAR&levels=4,,x", "levels"),
                         ("agency=DAMKAR&levels=1,2,3,4,5,6,7", "levels"), ("agency=DAMKAR&per=kelurahan", "per"),
                         ("agency=DAMKAR&format=kml", "format"), ("agency=DAMKAR&sites=9", "sites"),
                         ("agency=DAMKAR&since=2026-01-02&until=2026-01-01", "since")]:
        resp = api.get(f"/api/v1/analytics/coverage?{query}")
        assert resp.status_code == 422, (query, resp.get_json())
        assert resp.mimetype == "application/problem+json" and resp.get_json()["field"] == field, query


def test_isochrone_is_remembered_with_its_table_and_redrawn_when_stations_move(db: Session):
    first = cov.isochrone(db, "DAMKAR", 1.5)
    assert cov.isochrone(db, "DAMKAR", 1.5) is first  # warm: the same polygon, not drawn again
    assert cov.isochrone(db, "DAMKAR", 3.0).area > first.area
    sid, _ = _station_on_two_way_node(db)  # a station moves: the table is rebuilt, the shape redrawn
    moved = cov.isochrone(db, "DAMKAR", 1.5)
    assert moved is not first and not moved.equals(first)
    assert cov.isochrone(db, "DAMKAR", 1.5, [sid]).area < moved.area
