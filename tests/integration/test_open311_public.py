"""What an anonymous reader gets from Open311: the public projection, nothing else.

A DAMKAR-only fire with the caller's phone, a street light out with the caller's
phone and an exact house location, a flood (public, description withheld), an old
street light (outside the 90-day window), a prank and a duplicate are planted; the
anonymous client reads the JSON and XML lists and every id.  Also: the rate limit
on anonymous reads, and an Open311 POST under the real row-level security (the
web app's role, on a committed scratch database) going through as the
``integration`` viewer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import Connection, text

from app import create_app
from tests import tinycity
from tests.apps import joined_app
from tests.scratch import scratch_database

PHONE = "0812-5555-0142"
HOUSE = (110.43172, -6.97938)  # the exact house of the street light caller
PLANT = """
INSERT INTO incidents (id, category_code, status, priority, source, address, caller_name, caller_phone,
                       description, kelurahan_id, kecamatan_id, received_at, geom)
VALUES (880001, 'kebakaran', 'received', 1, 'phone', 'Jl. Rahasia 7', 'Bu Siti', :phone, 'dapur terbakar',
        9003, 9001, now() - interval '1 hour', ST_SetSRID(ST_MakePoint(110.432, -6.978), 4326)),
       (880002, 'pju_mati', 'received', 5, 'phone', 'Jl. Terang 12 depan rumah Pak Budi', 'Pak Budi', :phone,
        'lampu mati tiga tiang', 9003, 9001, now() - interval '2 hours',
        ST_SetSRID(ST_MakePoint(:x, :y), 4326)),
       (880003, 'banjir', 'verified', 2, 'phone', 'Gg. Air 3', 'Bu Ani', :phone, 'air masuk rumah Bu Ani 40 cm',
        9003, 9001, now() - interval '3 hours', ST_SetSRID(ST_MakePoint(110.433, -6.979), 4326)),
       (880004, 'pju_mati', 'closed', 5, 'phone', 'Jl. Lama 1', 'Pak Lama', :phone, 'lampu mati',
        9003, 9001, now() - interval '100 days', ST_SetSRID(ST_MakePoint(110.431, -6.978), 4326)),
       (880005, 'pju_mati', 'prank', 5, 'phone', 'Jl. Iseng 1', NULL, :phone, 'iseng',
        9003, 9001, now() - interval '4 hours', ST_SetSRID(ST_MakePoint(110.431, -6.978), 4326)),
       (880006, 'pju_mati', 'received', 5, 'phone', 'Jl. Terang 12', NULL, :phone, 'lampu mati lagi',
        9003, 9001, now() - interval '90 minutes', ST_SetSRID(ST_MakePoint(:x, :y), 4326));
UPDATE incidents SET is_prank = true WHERE id = 880005;
UPDATE incidents SET duplicate_of = 880002 WHERE id = 880006;
INSERT INTO incident_tasks (incident_id, agency_code, status) VALUES
  (880001, 'DAMKAR', 'forwarded'), (880002, 'PU', 'forwarded'), (880003, 'BPBD', 'forwarded');
"""
VISIBLE = {"880002", "880003"}
HIDDEN = {"880001", "880004", "880005", "880006"}
SECRETS = (PHONE, "5555", "Siti", "Budi", "Ani", "Rahasia", "Terang 12", "Gg. Air", "40 cm", "dapur")


def _plant(conn: Connection) -> None:
    tinycity.seed(conn)
    for stmt in PLANT.split(";"):
        if stmt.strip():
            conn.execute(text(stmt), {"phone": PHONE, "x": HOUSE[0], "y": HOUSE[1]})


@pytest.fixture()
def public(settings, db_conn):
    """An anonymous Open311 client on the tiny city with the planted calls (as peta112_app, under RLS)."""
    _plant(db_conn)
    with joined_app(settings, db_conn, open311_keys=("kunci-1",)) as application:
        yield application.test_client()


def _ids_json(body: list[dict]) -> set[str]:
    return {r["service_request_id"] for r in body}


def _ids_xml(data: bytes) -> set[str]:
    return {r.findtext("service_request_id") for r in ET.fromstring(data).findall("request")}


def test_lists_show_only_public_counted_recent_calls(public):
    def ago(days: int) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    since, old, old_end = ago(120), ago(101), ago(99)
    every = ",".join(sorted(VISIBLE | HIDDEN))
    for query in ("", f"?service_request_id={every}", f"?start_date={old}&end_date={old_end}",
                  "?service_code=kebakaran,pju_mati,banjir", f"?start_date={since}"):
        res_json = public.get(f"/open311/v2/requests.json{query}")
        res_xml = public.get(f"/open311/v2/requests.xml{query}")
        assert res_json.status_code == res_xml.status_code == 200, (query, res_json.get_json())
        got = _ids_json(res_json.get_json())
        assert got == _ids_xml(res_xml.data)
        assert not got & HIDDEN, query
        for body in (res_json.data.decode(), res_xml.data.decode()):
            for secret in SECRETS:
                assert secret not in body, (query, secret)
    assert _ids_json(public.get("/open311/v2/requests.json").get_json()) >= VISIBLE
    assert not _ids_json(public.get(f"/open311/v2/requests.json?start_date={old}&end_date={old_end}").get_json())


def test_lookup_by_id_obeys_the_same_rule_and_window(public):
    missing = public.get("/open311/v2/requests/889999.json")
    assert missing.status_code == 404
    for rid in HIDDEN:
        for fmt in ("json", "xml"):
            res = public.get(f"/open311/v2/requests/{rid}.{fmt}")
            assert res.status_code == 404, rid
            body = res.data.decode()
            assert body.replace(rid, "ID") == public.get(f"/open311/v2/requests/889999.{fmt}").data.decode().replace(
                "889999", "ID")  # indistinguishable from a missing id
    [light] = public.get("/open311/v2/requests/880002.json").get_json()
    assert light["service_code"] == "pju_mati" and light["description"] == "lampu mati tiga tiang"
    assert light["address"] == "Kel. Tanjung Mas, Kec. Tengah"
    # the centre of the 0.001-degree cell, never the stored house point
    assert (light["long"], light["lat"]) == pytest.approx(
        (math.floor(HOUSE[0] * 1000) / 1000 + 0.0005, math.floor(HOUSE[1] * 1000) / 1000 + 0.0005), abs=1e-9)
    assert abs(light["long"] - HOUSE[0]) + abs(light["lat"] - HOUSE[1]) > 1e-4
    [flood] = public.get("/open311/v2/requests/880003.json").get_json()
    assert flood["service_code"] == "banjir" and flood["description"] is None  # floods: no description
    xml = ET.fromstring(public.get("/open311/v2/requests/880002.xml").data)
    assert xml.findtext("request/lat") == str(light["lat"]) and xml.findtext("request/address") == light["address"]
    for rid in VISIBLE:
        body = public.get(f"/open311/v2/requests/{rid}.xml").data.decode()
        for secret in SECRETS:
            assert secret not in body, (rid, secret)


def test_anonymous_reads_are_rate_limited(settings, db_conn):
    _plant(db_conn)
    with joined_app(settings, db_conn, open311_keys=("kunci-1",), rate_limit_public=3) as application:
        c = application.test_client()
        codes = [c.get("/open311/v2/requests.json").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        res = c.get("/open311/v2/requests/880002.xml")  # each endpoint has its own count
        assert res.status_code == 200
        for _ in range(3):
            res = c.get("/open311/v2/requests/880002.xml")
        assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
        assert ET.fromstring(res.data).findtext("error/code") == "429"
        res = c.get("/open311/v2/requests.json")
        assert res.status_code == 429 and res.get_json()[0]["code"] == 429 and "per minute" in res.get_json()[0][
            "description"]
        # another client (address) is not affected
        other = c.get("/open311/v2/requests.json", environ_base={"REMOTE_ADDR": "10.1.1.2"})
        assert other.status_code == 200


@pytest.fixture(scope="module")
def rls_url(cluster) -> Iterator[str]:
    with scratch_database(cluster, "peta112_open311_rls", seed=_plant) as url:
        yield url


def test_post_and_read_under_row_level_security(base_settings, rls_url):
    """The real engine (role peta112_app, row-level security): anonymous reads the public view,
    a keyed client files as the integration viewer, and the fire stays invisible."""
    application = create_app(base_settings.with_overrides(database_url=rls_url, open311_keys=("kunci-1",)))
    try:
        c = application.test_client()
        assert _ids_json(c.get("/open311/v2/requests.json").get_json()) == VISIBLE
        assert c.get("/open311/v2/requests/880001.json").status_code == 404
        res = c.post("/open311/v2/requests.json", data={
            "api_key": "kunci-1", "service_code": "pohon_tumbang", "lat": "-6.978", "long": "110.431",
            "description": "pohon tumbang menutup jalan", "phone": "0812 1111 2222"})
        assert res.status_code == 201, res.get_json()
        rid = res.get_json()[0]["service_request_id"]
        [req] = c.get(f"/open311/v2/requests/{rid}.json").get_json()
        assert req["service_code"] == "pohon_tumbang" and "1111" not in str(req)
        assert c.post("/open311/v2/requests.json", data={"service_code": "pju_mati", "lat": "-6.978",
                                                         "long": "110.431"}).status_code == 403
    finally:
        application.extensions["peta112.engine"].dispose()
