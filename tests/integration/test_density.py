"""The heatmap's density endpoint and the trends' kecamatan filter, on a small demo city (rolled back)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, text

from geodata.demo import generate, load
from tests import users
from tests.apps import joined_app

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
Q = "since=2026-08-01&until=2026-11-01"


@pytest.fixture(scope="module")
def city_conn(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    try:
        load(conn, generate(seed=112, scale="small", years=0.25, until=UNTIL), replace=True, analyze=False)
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def api(settings, city_conn: Connection):
    with joined_app(settings, city_conn) as application:
        yield users.signed_in(application.test_client())


def test_density_sends_weighted_grid_points_not_every_incident(api, city_conn: Connection):
    body = api.get(f"/api/v1/analytics/density?{Q}").get_json()
    n = city_conn.execute(text(
        "SELECT count(*) FROM incidents WHERE received_at >= '2026-08-01T00:00:00+07:00' "
        "AND received_at < '2026-11-01T00:00:00+07:00' AND NOT is_prank AND status NOT IN ('prank', 'cancelled') "
        "AND duplicate_of IS NULL AND geom IS NOT NULL")).scalar_one()
    assert body["total"] == n > 0  # every real incident is counted once
    assert 0 < len(body["points"]) < n  # but travels as fewer, weighted cells
    assert body["max"] == max(p[2] for p in body["points"])
    lat, lon, w = body["points"][0]
    assert -8 < lat < -6 and 109 < lon < 112 and w == body["max"]
    coarse = api.get(f"/api/v1/analytics/density?{Q}&cell_m=1000").get_json()
    assert coarse["total"] == n and len(coarse["points"]) < len(body["points"])


def test_density_filters_and_validation(api):
    allc = api.get(f"/api/v1/analytics/density?{Q}").get_json()["total"]
    fire = api.get(f"/api/v1/analytics/density?{Q}&category=kebakaran").get_json()
    assert 0 < fire["total"] < allc and fire["parameters"]["category"] == ["kebakaran"]
    damkar = api.get(f"/api/v1/analytics/density?{Q}&agency=DAMKAR").get_json()
    assert fire["total"] <= damkar["total"] < allc
    for args, field in [("cell_m=5", "cell_m"), ("category=nope", "category"), ("agency=NOPE", "agency"),
                        ("kecamatan=NOPE", "kecamatan"), ("since=yesterday", "since")]:
        resp = api.get(f"/api/v1/analytics/density?{args}")
        assert resp.status_code == 422 and resp.get_json()["field"] == field, (args, resp.get_json())


def test_trends_accept_a_kecamatan(api, city_conn: Connection):
    code = city_conn.execute(text("SELECT code FROM admin_areas WHERE level = 'kecamatan' ORDER BY code")).first()[0]
    whole = api.get(f"/api/v1/analytics/trends?{Q}").get_json()
    part = api.get(f"/api/v1/analytics/trends?{Q}&kecamatan={code}").get_json()
    assert part["parameters"]["kecamatan"] == code
    total = sum(r["calls"] for r in whole["prank_rate"])
    sub = sum(r["calls"] for r in part["prank_rate"])
    assert 0 < sub < total
    assert sum(map(sum, part["hour_by_weekday"]["counts"])) < sum(map(sum, whole["hour_by_weekday"]["counts"]))
    assert api.get(f"/api/v1/analytics/trends?{Q}&kecamatan=NOPE").status_code == 422
