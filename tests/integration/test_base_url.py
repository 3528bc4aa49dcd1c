"""Absolute links come from PETA112_BASE_URL, never from the Host header; query strings are re-encoded.

Issue 14: a hostile Host header was reflected into the CAP feed, Open311 discovery and
``next`` links, and ``next`` re-emitted parameters unencoded.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

from tests import tinycity, users
from tests.apps import joined_app

BASE = "https://112.kotacontoh.go.id/peta"
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture()
def city(settings, db_conn):
    tinycity.seed(db_conn)
    for i in range(3):
        db_conn.execute(text(
            "INSERT INTO incidents (category_code, priority, source, kelurahan_id, geom) "
            "VALUES ('kebakaran', 1, 'phone', 9003, ST_SetSRID(ST_MakePoint(110.43, -6.97 - :d), 4326))"),
            {"d": i * 0.001})
    db_conn.execute(text("INSERT INTO flood_states (kelurahan_id, level, set_by) VALUES (9002, 2, 'test')"))
    with joined_app(settings, db_conn, base_url=BASE) as application:
        yield users.signed_in(application.test_client())


def test_cap_feed_links_use_the_base_url(city):
    feed = city.get("/api/v1/cap/feed.atom", headers=EVIL)
    assert feed.status_code == 200 and b"evil" not in feed.data
    hrefs = [el.get("href") for el in ET.fromstring(feed.data).iter("{http://www.w3.org/2005/Atom}link")]
    assert hrefs and all(h.startswith(BASE + "/api/v1/") for h in hrefs)


def test_open311_discovery_and_openapi_servers_use_the_base_url(city):
    disc = city.get("/open311/v2/discovery.json", headers=EVIL).get_json()
    assert disc["endpoints"][0]["url"] == BASE + "/open311/v2"
    assert b"evil" not in city.get("/open311/v2/discovery.xml", headers=EVIL).data
    assert city.get("/openapi.json", headers=EVIL).get_json()["servers"] == [{"url": BASE}]


def test_next_links_use_the_base_url_and_re_encode_the_query(city):
    res = city.get("/api/v1/incidents?limit=1&category=kebakaran&status=received,verified&x=a%26b%23c%20d",
                   headers=EVIL)
    nxt = res.get_json()["next"]
    assert nxt.startswith(BASE + "/api/v1/incidents?") and "evil" not in nxt
    assert " " not in nxt and "#" not in nxt
    query = dict(parse_qsl(urlsplit(nxt).query))
    assert query == {"limit": "1", "category": "kebakaran", "status": "received,verified", "x": "a&b#c d",
                     "offset": "1"}


def test_feature_links_use_the_base_url(city):
    body = city.get("/api/v1/collections/incidents/items?limit=1&bbox=110.3,-7.1,110.5,-6.9", headers=EVIL).get_json()
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert set(links) >= {"self", "collection", "next"}
    assert all(h.startswith(BASE + "/api/v1/collections/incidents") for h in links.values())
    assert dict(parse_qsl(urlsplit(links["next"]).query))["bbox"] == "110.3,-7.1,110.5,-6.9"
    listing = city.get("/api/v1/collections", headers=EVIL).get_data(as_text=True)
    assert "evil" not in listing and BASE in listing


def test_default_base_url_without_configuration(client):
    assert client.get("/openapi.json", headers=EVIL).get_json()["servers"] == [{"url": "http://127.0.0.1:5000"}]
