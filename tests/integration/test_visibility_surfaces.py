"""Who sees a 112 call, checked on every surface the app has (issue 13's acceptance test).

The surfaces are not listed by hand: every GET route of the app (from its URL map,
which the deny-by-default policy table covers) and every map layer and feature
collection (from ``layers/``) is requested as each kind of reader.  A planted fire
with a task for DAMKAR only and a caller's phone must then appear exactly where it
may: never for another agency or an anonymous reader, never on the public Open311
surface, and the phone only for the people who talk to callers.

A new route or layer is covered automatically; a new route whose URL needs a
parameter this test cannot fill fails here until it is added to ``ARGUMENTS`` or,
with a reason, to ``NOT_SCANNED``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.layers import registry
from app.services.features import collections
from app.web.policy import POLICY
from tests import mvt, tinycity, users

PLANTED = 987654321
PHONE = "081277770001"
NAME = "Ibu Rahasia Pelapor"
ADDRESS = "Jl. Rahasia Damkar 7"
# A second caller merged into the planted call (incident_reports): the same rules as the first.
REPORT_PHONE = "081277770002"
REPORT_NAME = "Pak Saksi Kedua"
LON, LAT = 110.4123, -6.9876
ZOOM = 15

# reader -> (authorization headers, sees the planted incident, sees the caller's phone)
READERS: dict[str, tuple[dict[str, str], bool, bool]] = {
    "anonymous": ({}, False, False),
    "call_taker": (users.auth("call_taker"), True, True),
    "dispatcher": (users.auth("dispatcher"), True, True),
    "admin": (users.auth("admin"), True, True),
    "official": (users.auth("official"), True, False),
    "bpbd": (users.auth("bpbd"), True, False),
    "agency DAMKAR": (users.auth("t_damkar"), True, False),
    "agency DINKES": (users.auth("t_dinkes"), False, False),
}

# Routes this scan does not request, and why (each is covered elsewhere).
NOT_SCANNED = {
    "stream.events": "never ends; the live stream is checked per viewer in test_stream.py",
    "static": "files from disk",
    "open311.unknown": "a GeoReport 404 for any other path",
}


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _urls(rule: Any) -> list[str]:
    """Concrete URLs for one URL rule, or [] when it needs a value this test does not know."""
    x, y = _tile(LON, LAT, ZOOM)
    bbox = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    args = set(rule.arguments)
    if rule.endpoint == "tiles.tile":
        return [f"/tiles/{lid}/{ZOOM}/{x}/{y}.pbf" for lid, layer in registry().items() if layer.tiled]
    if rule.endpoint in ("features.get_collection", "features.get_items"):
        tail = "/items?limit=1000&bbox=" + bbox if rule.endpoint.endswith("items") else ""
        return [f"/api/v1/collections/{cid}{tail}" for cid in collections()]
    values = {"incident_id": str(PLANTED), "request_id": str(PLANTED), "fmt": None, "number": "1",
              "state_id": "1", "ref": "KL-S", "service_code": "kebakaran", "call_id": str(PLANTED),
              "conversation_id": str(PLANTED), "message_id": str(PLANTED), "token": "not-a-real-report-token"}
    if not args <= values.keys():
        return []
    formats = ["json", "xml"] if "fmt" in args else [None]
    out = []
    for fmt in formats:
        url = rule.rule
        for name in args - {"fmt"}:
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", values[name], url)
        if fmt:
            url = re.sub(r"<any\([^)]*\):fmt>", fmt, url)
        out.append(url)
    extra = {"api.list_incidents": f"?limit=1000&bbox={bbox}", "api.triage_queue": "?limit=1000",
             "api.nearby_open": f"?lat={LAT}&lon={LON}&category=kebakaran&radius_m=5000&limit=20",
             "api.monthly_report": "?format=", "api.prank_numbers": "?min_pranks=1",
             "api.analytics_clusters": "?min_points=1&format=",
             "alerts.cluster_alert": "?min_points=2", "open311.list_requests": "?status=open"}
    if rule.endpoint == "api.analytics_clusters":
        return [out[0] + extra[rule.endpoint] + f for f in ("json", "geojson", "csv")]
    if rule.endpoint == "api.monthly_report":
        return [out[0] + extra[rule.endpoint] + f for f in ("json", "csv")]
    return [u + extra.get(rule.endpoint, "") for u in out]


def _body_text(res: Any) -> str:
    if res.mimetype == "application/vnd.mapbox-vector-tile":
        if not res.data:
            return ""
        layers = mvt.decode(res.data).values()
        return json.dumps([f["properties"] for layer in layers for f in layer["features"]], default=str)
    return res.get_data(as_text=True)


@pytest.fixture()
def surfaces(app, db_conn: Connection):
    tinycity.seed(db_conn)
    db_conn.execute(text(
        "INSERT INTO incidents (id, category_code, status, priority, source, address, caller_name, caller_phone, "
        "  description, kelurahan_id, kecamatan_id, received_at, geom) "
        "VALUES (:id, 'kebakaran', 'received', 1, 'phone', :addr, :name, :phone, 'api di dapur', 9002, 9001, "
        "  now(), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
        {"id": PLANTED, "addr": ADDRESS, "name": NAME, "phone": PHONE, "lon": LON, "lat": LAT})
    db_conn.execute(text("INSERT INTO incident_tasks (incident_id, agency_code, status) "
                         "VALUES (:id, 'DAMKAR', 'forwarded')"), {"id": PLANTED})
    db_conn.execute(text("INSERT INTO incident_reports (incident_id, actor, source, caller_name, caller_phone) "
                         "VALUES (:id, 't_operator', 'phone', :name, :phone)"),
                    {"id": PLANTED, "name": REPORT_NAME, "phone": REPORT_PHONE})
    # The call that reported it: the same number, on the call centre's surfaces (issue 18).
    db_conn.execute(text("INSERT INTO calls (id, caller_phone, incident_id, disposition, created_by) "
                         "VALUES (:id, :phone, :id, 'incident', 'test')"), {"id": PLANTED, "phone": PHONE})
    # Its handset's AML fix, and a chat from the same person (conversation, message): desk only.
    db_conn.execute(text("INSERT INTO caller_locations (caller_phone, call_id, source, method, radius_m, "
                         "positioned_at, actor, geom) VALUES (:phone, :id, 'aml_sms', 'gnss', 20, now(), 'test', "
                         "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                    {"id": PLANTED, "phone": PHONE, "lon": LON, "lat": LAT})
    db_conn.execute(text("INSERT INTO conversations (id, channel, external_chat, contact_name, caller_phone, call_id, "
                         "geom) VALUES (:id, 'telegram', 'planted-chat', :name, :phone, :id, "
                         "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                    {"id": PLANTED, "name": NAME, "phone": PHONE, "lon": LON, "lat": LAT})
    db_conn.execute(text("INSERT INTO conversation_messages (id, conversation_id, direction, body, actor) "
                         "VALUES (:id, :id, 'in', :body, 'telegram')"),
                    {"id": PLANTED, "body": f"Saya {NAME} di {ADDRESS}, nomor {PHONE}"})
    return app.test_client()


def test_every_get_route_and_layer_shows_the_planted_call_only_where_allowed(surfaces):
    rules = [r for r in surfaces.application.url_map.iter_rules() if "GET" in r.methods]
    unknown = sorted(r.endpoint for r in rules if r.endpoint not in NOT_SCANNED and not _urls(r))
    assert unknown == [], f"routes this scan cannot reach: add them to ARGUMENTS or NOT_SCANNED: {unknown}"
    assert {r.endpoint for r in rules} - set(NOT_SCANNED) <= set(POLICY)

    seen: dict[tuple[str, str], str] = {}
    caching: dict[str, dict[str, tuple[str, str, str]]] = {}
    for reader, (headers, sees_incident, sees_phone) in READERS.items():
        for rule in rules:
            if rule.endpoint in NOT_SCANNED:
                continue
            for url in _urls(rule):
                res = surfaces.get(url, headers=headers)
                assert res.status_code < 500, (reader, url, res.status_code)
                if res.status_code >= 400:  # a problem body names the URL asked for, nothing more
                    continue
                body = _body_text(res)
                seen[(reader, url)] = body
                where = f"{reader} {url}"
                public = rule.endpoint.startswith("open311.")
                if not sees_incident or public:
                    assert not re.search(rf"\b{PLANTED}\b", body), f"planted incident leaks to {where}"
                    assert ADDRESS not in body, f"planted address leaks to {where}"
                if not sees_phone or public:
                    assert PHONE not in body and NAME not in body, f"caller data leaks to {where}"
                    assert REPORT_PHONE not in body and REPORT_NAME not in body, f"a report's caller leaks to {where}"
                caching.setdefault(url, {})[reader] = (body, res.headers.get("Cache-Control", ""),
                                                      res.headers.get("Vary", ""))

    # An answer that differs between readers is never cached for everyone (a shared proxy
    # would hand one agency's tile to another): private, and varying by the credentials.
    for url, answers in caching.items():
        if len({body for body, _cc, _vary in answers.values()}) > 1:
            for reader, (_body, cc, vary) in answers.items():
                if reader != "anonymous":
                    assert "private" in cc or "no-store" in cc, f"{reader} {url}: Cache-Control {cc!r}"
                    assert {"Authorization", "Cookie"} <= {v.strip() for v in vary.split(",")}, f"{reader} {url}"

    # Where the planted call must be: the incident list, its detail, OGC items, the incidents tile.
    x, y = _tile(LON, LAT, ZOOM)
    must = ["/api/v1/incidents?limit=1000&bbox=", f"/api/v1/incidents/{PLANTED}", "/api/v1/collections/incidents/items",
            "/api/v1/incidents/nearby-open"]
    for reader, (_headers, sees_incident, sees_phone) in READERS.items():
        if not sees_incident:
            continue
        for prefix in must:
            hits = [body for (r, url), body in seen.items() if r == reader and url.startswith(prefix)]
            assert hits and any(str(PLANTED) in b for b in hits), f"{reader} should see the call at {prefix}"
            if sees_phone and not prefix.startswith("/api/v1/collections"):
                assert any(PHONE in b for b in hits), f"{reader} should see the caller at {prefix}"
        detail = seen[(reader, f"/api/v1/incidents/{PLANTED}")]
        assert '"report_count":2' in detail.replace(" ", ""), f"{reader}: the detail misses the merged report"
        assert (REPORT_PHONE in detail) == sees_phone, f"{reader}: the merged caller's phone"
        if sees_phone:  # the call centre's surfaces: the number, its position and the chat, for the desk
            assert PHONE in seen[(reader, f"/api/v1/calls/{PLANTED}")], f"{reader}: the call's number"
            assert '"radius_m":20' in seen[(reader, f"/api/v1/calls/{PLANTED}")].replace(" ", ""), reader
            assert NAME in seen[(reader, "/api/v1/conversations")], f"{reader}: the conversation list"
            assert ADDRESS in seen[(reader, f"/api/v1/conversations/{PLANTED}")], f"{reader}: the chat's words"
        tile = seen.get((reader, f"/tiles/incidents/{ZOOM}/{x}/{y}.pbf"))
        if tile is not None:
            assert str(PLANTED) in tile, f"{reader}: the incidents tile misses the call"
