"""OGC API Features style collections: listing, GeoJSON items, paging, bbox, datetime, errors, privacy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from app.services.features import parse_datetime
from tests import tinycity

WANTED = {"incidents", "stations", "units", "kelurahan", "kecamatan", "roads", "landmarks"}


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    db_conn.execute(text("""
        INSERT INTO incidents (category_code, status, priority, source, address, caller_name, caller_phone,
                               received_at, geom)
        SELECT 'kebakaran', s, 1, 'phone', 'Jl. Merdeka', 'Siti Rahayu', '081399990000',
               timestamptz '2026-03-01 00:00Z' + make_interval(days => n), ST_SetSRID(ST_MakePoint(lon, -6.98), 4326)
        FROM (VALUES (0, 'received', 110.405), (1, 'closed', 110.41), (2, 'resolved', 110.425),
                     (3, 'received', 110.43), (4, 'on_scene', 110.435)) AS v(n, s, lon)
    """))
    return db_conn


def test_collections_list_every_layer_with_extent_and_links(client, city):
    res = client.get("/api/v1/collections")
    assert res.status_code == 200
    body = res.get_json()
    cols = {c["id"]: c for c in body["collections"]}
    assert set(cols) >= WANTED
    assert cols["kelurahan"]["title"] == "Kelurahan" and cols["roads"]["title"] == "Jalan"
    assert cols["kelurahan"]["itemType"] == "feature"
    assert cols["kelurahan"]["extent"]["spatial"]["bbox"] == [[110.4, -7.0, 110.44, -6.96]]
    inc = client.get("/api/v1/collections/incidents").get_json()
    assert inc["extent"]["temporal"]["interval"][0][0].startswith("2026-03-01T00:00:00")
    assert any(link["rel"] == "items" and link["href"].endswith("/collections/incidents/items")
               for link in inc["links"])
    assert client.get("/api/v1/conformance").get_json()["conformsTo"]


def test_items_are_geojson_without_caller_data(client, city):
    res = client.get("/api/v1/collections/incidents/items")
    assert res.status_code == 200 and res.mimetype == "application/geo+json"
    fc = res.get_json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == 5 and fc["numberReturned"] == 5
    assert fc["timeStamp"].endswith("Z")
    f = fc["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "Point" and isinstance(f["id"], int)
    assert f["properties"]["received_at"].startswith("2026-03-05")  # newest first
    assert "kelurahan" in f["properties"] and f["properties"]["category_name"] == "Kebakaran"
    assert "Siti" not in res.data.decode() and "0813" not in res.data.decode()
    assert not {"caller_name", "caller_phone"} & set(f["properties"])
    stations = client.get("/api/v1/collections/stations/items").get_json()
    assert {f["properties"]["name"] for f in stations["features"]} >= {"Pos Damkar Tengah", "PSC 119 Tengah"}
    roads = client.get("/api/v1/collections/roads/items").get_json()
    assert roads["numberMatched"] == 3 and roads["features"][0]["geometry"]["type"] == "LineString"
    kel = client.get("/api/v1/collections/kelurahan/items").get_json()
    assert kel["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_paging_links(client, city):
    page = client.get("/api/v1/collections/incidents/items?limit=2&offset=2").get_json()
    assert page["numberReturned"] == 2 and page["numberMatched"] == 5
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert parse_qs(urlparse(rels["next"]).query)["offset"] == ["4"]
    assert parse_qs(urlparse(rels["prev"]).query)["offset"] == ["0"]
    last = client.get(rels["next"]).get_json()
    assert last["numberReturned"] == 1 and "next" not in {link["rel"] for link in last["links"]}
    clamped = client.get("/api/v1/collections/incidents/items?limit=5000").get_json()
    assert clamped["numberReturned"] == 5  # above the maximum is not an error: 1000 is used


def test_bbox_and_datetime_filters(client, city):
    def count(query: str) -> int:
        res = client.get(f"/api/v1/collections/incidents/items?{query}")
        assert res.status_code == 200, res.get_json()
        return res.get_json()["numberMatched"]

    assert count("bbox=110.42,-7.0,110.44,-6.96") == 3
    assert count("bbox=110.0,-6.0,110.1,-5.9") == 0
    assert count("datetime=2026-03-02") == 1
    assert count("datetime=2026-03-02T00:00:00Z") == 1
    assert count("datetime=2026-03-02T00:00:00Z/2026-03-03T00:00:00Z") == 2
    assert count("datetime=../2026-03-01T12:00:00Z") == 1
    assert count("datetime=2026-03-04/..") == 2
    assert count("datetime=../..") == 5
    assert count("datetime=2026-03-02T07:00:00%2B07:00") == 1
    # collections without a time column ignore datetime
    assert client.get("/api/v1/collections/roads/items?datetime=2026-03-02").get_json()["numberMatched"] == 3


@pytest.mark.parametrize(("query", "field"), [
    ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=0,10,1,5", "bbox"), ("bbox=0,0,200,1", "bbox"),
    ("datetime=kemarin", "datetime"), ("datetime=2026-03-02T00:00:00", "datetime"),
    ("datetime=2026-03-05/2026-03-01", "datetime"), ("datetime=a/b/c", "datetime"),
    ("limit=0", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"), ("colour=red", "colour"),
])
def test_bad_parameters_are_400_problems(client, city, query, field):
    res = client.get(f"/api/v1/collections/incidents/items?{query}")
    assert res.status_code == 400 and res.mimetype == "application/problem+json"
    assert res.get_json()["field"] == field


def test_unknown_collection_is_404(client, city):
    for url in ("/api/v1/collections/nope", "/api/v1/collections/nope/items"):
        res = client.get(url)
        assert res.status_code == 404 and res.mimetype == "application/problem+json"


def test_parse_datetime_intervals():
    assert parse_datetime(None) is None and parse_datetime("../..") is None
    tf = parse_datetime("2026-01-01/2026-01-31")
    assert tf is not None and tf.start.isoformat() == "2026-01-01T00:00:00+00:00"
    assert tf.end.isoformat() == "2026-02-01T00:00:00+00:00"
