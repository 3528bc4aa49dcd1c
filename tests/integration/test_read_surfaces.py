"""The operational read surfaces on the read model: who sees a DAMKAR-only call, and its caller's phone.

A wasp nest (``sarang_tawon``) is forwarded to DAMKAR alone, so a POLRI officer must not
find it anywhere (JSON list, detail, queue, ETA, nearest, every incident-bearing tile layer,
the OGC collection), a DAMKAR officer sees it without the caller's phone, and a dispatcher
sees it with the phone.  The test app reads as the app's database role (tests/sessions.py),
so this is row-level security at work, not Python filters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from app.incidents import lifecycle
from app.layers import LayerError, load_layer, registry
from tests import tinycity, users
from tests.mvt import decode

from .test_tiles import tile_of

WASP = {"category": "sarang_tawon", "lat": -6.9712, "lon": 110.4377,
        "caller": {"name": "Ibu Ratna", "phone": "0812-5555-0199"}}
PHONE = "081255550199"  # as stored (intake drops spaces and dashes)
Z = 15


@pytest.fixture()
def wasp(client, db_conn):
    """The tiny city and one DAMKAR-only incident with a caller, logged by a dispatcher."""
    tinycity.seed(db_conn)
    res = client.post("/api/v1/incidents", json=WASP, headers=users.auth("dispatcher"))
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert [t["agency"] for t in inc["tasks"]] == ["DAMKAR"]
    return inc


def get(client, path: str, who: str):
    return client.get(path, headers=users.auth(who))


def cache_directives(resp) -> set[str]:
    return {d.strip() for d in resp.headers.get("Cache-Control", "").split(",") if d.strip()}


def varies(resp) -> set[str]:
    return {v.strip() for v in resp.headers.get("Vary", "").split(",") if v.strip()}


# -- the JSON incident API --------------------------------------------------------------------
def test_polri_does_not_find_a_damkar_only_incident_anywhere_in_the_api(client, wasp):
    iid = wasp["id"]
    listed = get(client, "/api/v1/incidents?limit=1000", "t_polri").get_json()
    assert iid not in {i["id"] for i in listed["items"]}
    assert get(client, "/api/v1/incidents?agency=DAMKAR", "t_polri").get_json()["total"] == 0
    assert iid not in {i["id"] for i in get(client, "/api/v1/queue", "t_polri").get_json()["items"]}
    for path in (f"/api/v1/incidents/{iid}", f"/api/v1/incidents/{iid}/eta",
                 f"/api/v1/incidents/{iid}/nearest?by=distance"):
        res = get(client, path, "t_polri")
        assert res.status_code == 404, path
        assert res.mimetype == "application/problem+json" and res.get_json()["field"] == "id"
    # Nothing was written on its behalf either: the view audit needs a visible incident.
    actors = {e["actor"] for e in get(client, f"/api/v1/incidents/{iid}", "dispatcher").get_json()["events"]}
    assert "t_polri" not in actors


def test_damkar_sees_it_without_the_phone_and_the_dispatcher_with_it(client, wasp):
    iid = wasp["id"]
    for who, phone in (("t_damkar", False), ("dispatcher", True), ("call_taker", True), ("official", False)):
        detail = get(client, f"/api/v1/incidents/{iid}", who)
        assert detail.status_code == 200, who
        body = detail.get_json()
        assert body["caller"] == ({"name": "Ibu Ratna", "phone": PHONE} if phone else {"name": "***", "phone": "***"})
        for path in ("/api/v1/incidents?limit=1000", "/api/v1/queue"):
            page = get(client, path, who)
            assert iid in {i["id"] for i in page.get_json()["items"]}, (who, path)
            assert (PHONE in page.get_data(as_text=True)) == (phone and path != "/api/v1/queue"), (who, path)
    for who in ("t_damkar", "t_polri", "official", "bpbd"):
        for path in ("/api/v1/incidents?limit=1000", "/api/v1/queue", f"/api/v1/incidents/{iid}"):
            assert PHONE not in get(client, path, who).get_data(as_text=True), (who, path)


def test_lifecycle_facts_in_list_detail_and_queue(client, db_conn, wasp):
    iid = wasp["id"]
    assert wasp["is_open"] is True and wasp["is_overdue"] is False and wasp["due_at"]  # the intake answer too
    db_conn.execute(text("UPDATE incidents SET received_at = now() - interval '2 hours' WHERE id = :i"), {"i": iid})
    detail = get(client, f"/api/v1/incidents/{iid}", "dispatcher").get_json()
    assert detail["is_open"] is True and detail["is_overdue"] is True  # wasp nest: target one hour
    (listed,) = [i for i in get(client, "/api/v1/incidents", "dispatcher").get_json()["items"] if i["id"] == iid]
    (queued,) = [i for i in get(client, "/api/v1/queue", "dispatcher").get_json()["items"] if i["id"] == iid]
    for item in (listed, queued):
        assert item["is_overdue"] is True and item["due_at"] == detail["due_at"]
    assert queued["overdue"] is True  # its older name
    client.patch(f"/api/v1/incidents/{iid}", json={"status": "on_scene"}, headers=users.auth("dispatcher"))
    on_scene = get(client, f"/api/v1/incidents/{iid}", "dispatcher").get_json()
    assert on_scene["is_open"] is True and on_scene["is_overdue"] is False  # someone is there
    done = client.patch(f"/api/v1/incidents/{iid}", json={"status": "resolved"}, headers=users.auth("dispatcher"))
    assert done.get_json()["is_open"] is False
    assert iid not in {i["id"] for i in get(client, "/api/v1/incidents?open=1", "dispatcher").get_json()["items"]}
    assert iid not in {i["id"] for i in get(client, "/api/v1/queue", "dispatcher").get_json()["items"]}


def test_the_map_reads_the_lifecycle_from_the_server(client, wasp):
    meta = get(client, "/map/layers.json", "dispatcher").get_json()
    assert meta["lifecycle"] == lifecycle.rules()
    assert meta["lifecycle"]["transitions"]["resolved"] == ["closed"]
    assert set(meta["lifecycle"]["open"]) == lifecycle.INCIDENT_OPEN


# -- the read audit ---------------------------------------------------------------------------
def audit_rows(db_conn) -> list[dict]:
    return [dict(r) for r in db_conn.execute(text(
        "SELECT username, role, surface, filter, count, personal_data FROM read_audit ORDER BY id")).mappings()]


def test_a_list_with_callers_data_leaves_one_audit_row(client, db_conn, wasp):
    before = len(audit_rows(db_conn))
    page = get(client, "/api/v1/incidents?category=sarang_tawon&open=1&limit=50", "dispatcher").get_json()
    rows = audit_rows(db_conn)[before:]
    assert rows == [{"username": "t_dispatcher", "role": "dispatcher", "surface": "api.list_incidents",
                     "filter": {"categories": ["sarang_tawon"], "open_only": True, "limit": 50, "offset": 0},
                     "count": len(page["items"]), "personal_data": True}]
    assert rows[0]["count"] == 1
    # Readers who get no callers' data leave no row; the single view keeps its 'viewed' event.
    for who in ("official", "t_damkar", "bpbd"):
        get(client, "/api/v1/incidents", who)
    get(client, "/api/v1/queue", "dispatcher")
    assert len(audit_rows(db_conn)) == before + 1
    get(client, f"/api/v1/incidents/{wasp['id']}", "call_taker")
    viewed = db_conn.execute(text("SELECT actor FROM incident_events WHERE incident_id = :i AND kind = 'viewed'"),
                             {"i": wasp["id"]}).scalars().all()
    assert viewed == ["t_operator"]


def test_officials_read_the_audit_per_user(client, db_conn, wasp):
    for _ in range(2):
        get(client, "/api/v1/incidents?limit=5", "dispatcher")
    get(client, "/api/v1/incidents?kelurahan=KL-T", "call_taker")
    res = get(client, "/api/v1/audit/reads", "official")
    assert res.status_code == 200
    body = res.get_json()
    per_user = {u["username"]: u for u in body["users"]}
    assert per_user["t_dispatcher"]["requests"] == 2 and per_user["t_dispatcher"]["personal_data_requests"] == 2
    assert per_user["t_dispatcher"]["role"] == "dispatcher"
    assert per_user["t_operator"]["incidents"] == 1
    assert body["items"][0]["username"] == "t_operator" and body["items"][0]["filter"] == {
        "kelurahan": "KL-T", "limit": 100, "offset": 0}
    mine = get(client, "/api/v1/audit/reads?user=t_dispatcher&limit=1", "admin").get_json()
    assert [u["username"] for u in mine["users"]] == ["t_dispatcher"] and len(mine["items"]) == 1
    later = get(client, "/api/v1/audit/reads?since=2999-01-01T00:00:00Z", "official").get_json()
    assert later["users"] == [] and later["items"] == []
    for who in ("dispatcher", "call_taker", "t_damkar", "bpbd"):
        assert get(client, "/api/v1/audit/reads", who).status_code == 403, who
    bad = get(client, "/api/v1/audit/reads?since=yesterday", "official")
    assert bad.status_code == 422 and bad.get_json()["field"] == "since"
    assert get(client, "/api/v1/audit/reads?limit=0", "official").get_json()["field"] == "limit"


def test_the_app_role_may_add_to_the_audit_but_not_remove_from_it(db_conn, wasp):
    db_conn.execute(text("SET LOCAL ROLE peta112_app"))
    try:
        db_conn.execute(text("INSERT INTO read_audit (username, role, surface, count, personal_data) "
                             "VALUES ('x', 'dispatcher', 'test', 0, true)"))
        with pytest.raises(Exception, match="permission denied"), db_conn.begin_nested():
            db_conn.execute(text("DELETE FROM read_audit"))
    finally:
        db_conn.execute(text("RESET ROLE"))


# -- tiles ----------------------------------------------------------------------------------------
def incident_layers() -> list[str]:
    """Every tiled layer whose SQL reads incidents (through the read model, as the loader insists)."""
    return [lid for lid, layer in registry().items() if layer.tiled and "incident_facts" in layer.sql]


def test_incident_tiles_follow_the_reader(client, wasp):
    assert "incidents" in incident_layers()
    x, y = tile_of(WASP["lon"], WASP["lat"], Z)
    for lid in incident_layers():
        path = f"/tiles/{lid}/{Z}/{x}/{y}.pbf"
        for who, sees in (("t_polri", False), ("t_damkar", True), ("dispatcher", True)):
            resp = get(client, path, who)
            assert resp.status_code == 200
            ids = {f["properties"].get("id") for f in decode(resp.data).get(lid, {"features": []})["features"]}
            assert (wasp["id"] in ids) == sees, (lid, who)
            assert "private" in cache_directives(resp) and "public" not in cache_directives(resp)
            assert {"Authorization", "Cookie"} <= varies(resp)


def test_no_tile_of_any_layer_carries_a_callers_phone(client, wasp):
    x, y = tile_of(WASP["lon"], WASP["lat"], Z)
    for lid, layer in registry().items():
        if not layer.tiled:
            continue
        for who in ("dispatcher", "admin", "t_damkar"):
            resp = get(client, f"/tiles/{lid}/{Z}/{x}/{y}.pbf", who)
            if resp.status_code == 403:  # the layer's own roles
                continue
            assert PHONE.encode() not in resp.data and b"Ratna" not in resp.data, (lid, who)


def test_only_basemap_tiles_every_role_sees_are_public(client, wasp):
    x, y = tile_of(WASP["lon"], WASP["lat"], Z)
    for lid, layer in registry().items():
        if not layer.tiled:
            continue
        resp = get(client, f"/tiles/{lid}/{Z}/{x}/{y}.pbf", "admin")
        if layer.group == "basemap":
            assert layer.shared and cache_directives(resp) == {"public", f"max-age={layer.cache_seconds}"}, lid
        else:
            assert "private" in cache_directives(resp) and {"Authorization", "Cookie"} <= varies(resp), lid


def test_a_layer_file_reading_incident_tables_is_refused(tmp_path):
    path = tmp_path / "leaky.toml"
    path.write_text("""
id = "leaky"
title = { id = "Bocor", en = "Leaky" }
geometry = "point"
minzoom = 8
maxzoom = 22
[source]
sql = "SELECT i.geom, i.caller_phone FROM bounds b, incidents i WHERE i.geom && b.box"
[style]
base = {}
""")
    with pytest.raises(LayerError, match="incident_facts"):
        load_layer(path)


# -- OGC API Features -------------------------------------------------------------------------------
def test_ogc_incidents_follow_the_reader(client, wasp):
    path = "/api/v1/collections/incidents/items?limit=1000"
    for who, sees in (("t_polri", False), ("t_damkar", True), ("dispatcher", True)):
        resp = get(client, path, who)
        fc = resp.get_json()
        by_id = {f["id"]: f["properties"] for f in fc["features"]}
        assert (wasp["id"] in by_id) == sees, who
        if sees:
            p = by_id[wasp["id"]]
            assert p["open"] is True and p["overdue"] is False and p["due_at"]
        assert PHONE not in resp.get_data(as_text=True) and "Ratna" not in resp.get_data(as_text=True)
        assert "private" in cache_directives(resp) and {"Authorization", "Cookie"} <= varies(resp)
    one = get(client, "/api/v1/collections/incidents", "t_polri").get_json()
    assert "extent" not in one  # POLRI has nothing in it at all: not even an extent leaks


def test_no_collection_carries_a_callers_phone(client, wasp):
    for c in get(client, "/api/v1/collections", "dispatcher").get_json()["collections"]:
        body = get(client, f"/api/v1/collections/{c['id']}/items?limit=1000", "dispatcher").get_data(as_text=True)
        assert PHONE not in body and "Ratna" not in body, c["id"]


# -- every signed-in answer is private -----------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/categories", "/api/v1/incidents", "/api/v1/units", "/map/layers.json",
                                  "/api/v1/me", "/map"])
def test_answers_to_signed_in_readers_are_private(client, wasp, path):
    resp = get(client, path, "t_damkar")
    assert resp.status_code == 200
    assert "private" in cache_directives(resp) and "public" not in cache_directives(resp)
    assert {"Authorization", "Cookie"} <= varies(resp)


def test_anonymous_public_answers_are_not_marked_private(anon, wasp):
    resp = anon.get("/open311/v2/services.json")
    assert resp.status_code == 200 and "private" not in cache_directives(resp)


def test_audit_filter_is_json(client, db_conn, wasp):
    get(client, "/api/v1/incidents?bbox=110.40,-7.0,110.44,-6.96&since=2026-01-01T00:00:00Z", "admin")
    row = audit_rows(db_conn)[-1]
    assert json.loads(json.dumps(row["filter"])) == {"bbox": [110.40, -7.0, 110.44, -6.96],
                                                      "since": "2026-01-01T00:00:00+00:00", "limit": 100,
                                                      "offset": 0}


# -- one home for the rules -----------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
# The surfaces this module covers; analytics, reports and Open311 move onto the read model separately.
SURFACE_FILES = [*ROOT.glob("layers/*.toml"), *ROOT.glob("static/js/*.js"), *ROOT.glob("app/web/**/*.py"),
                 ROOT / "app/incidents/queries.py", ROOT / "app/incidents/sql/queries.sql",
                 ROOT / "app/services/features.py", ROOT / "app/services/tiles.py"]
OPEN_LIST = re.compile(r"""["']received["']\s*,\s*["']verified["']""")
OVERDUE_RULE = re.compile(r"target_response_s\s*[<>]|[<>]=?\s*[\w.]*target_response_s"
                          r"|secs\s*=>\s*[\w.]*target_response_s")


@pytest.mark.parametrize("path", SURFACE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_surfaces_keep_no_copy_of_the_lifecycle_rules(path):
    source = path.read_text(encoding="utf-8")
    assert not OPEN_LIST.search(source), "a status list: read is_open / lifecycle.rules() instead"
    assert not OVERDUE_RULE.search(source), "an overdue rule: read is_overdue / due_at instead"


def test_the_rules_have_one_home_each():
    assert OPEN_LIST.search((ROOT / "app/incidents/lifecycle.py").read_text())
    assert OVERDUE_RULE.search((ROOT / "app/incidents/sql/facts.sql").read_text())


def test_the_audit_is_in_the_api_document(client):
    op = client.get("/openapi.json").get_json()["paths"]["/api/v1/audit/reads"]["get"]
    assert op["x-roles"] == ["admin", "official"]
    assert {p["name"] for p in op["parameters"]} == {"user", "since", "until", "limit"}
