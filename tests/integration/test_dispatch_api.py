"""Intake, lifecycle, tasks, assignment and queue through the HTTP API on real PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests import tinycity, users

IN_EAST = {"lat": -6.978, "lon": 110.431}


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    return db_conn


def post(client, body, **headers):
    return client.post("/api/v1/incidents", json=body, headers=headers)


def test_intake_by_coordinates_routes_to_agencies(client, city):
    res = post(client, {"category": "kecelakaan", **IN_EAST, "caller": {"name": "Budi", "phone": "0812 3456 789"},
                        "description": "Motor vs angkot"})
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert inc["status"] == "received"
    assert inc["kelurahan"]["name"] == "Tanjung Mas"
    assert inc["kecamatan"]["name"] == "Tengah"
    assert {t["agency"] for t in inc["tasks"]} >= {"POLRI", "DINKES"}
    assert all(t["status"] == "forwarded" for t in inc["tasks"])
    assert inc["caller"]["phone"] == "08123456789"
    assert inc["address"] and "Jl. Merdeka" in inc["address"]
    events = client.get(f"/api/v1/incidents/{inc['id']}").get_json()["events"]
    assert [e["kind"] for e in events][:2] == ["created", "forwarded"]
    assert res.headers["Location"] == f"/api/v1/incidents/{inc['id']}"


def test_idempotency_key_returns_the_same_incident(client, city):
    body = {"category": "kebakaran", **IN_EAST}
    first = post(client, body, **{"Idempotency-Key": "call-42"})
    second = post(client, body, **{"Idempotency-Key": "call-42"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    n = city.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key = 'call-42'")).scalar_one()
    assert n == 1


def test_intake_by_address_with_abbreviation_and_typo(client, city):
    res = post(client, {"category": "pohon_tumbang", "address": "jln merdeka"})
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert inc["geocoded"]["name"] == "Jl. Merdeka"
    res2 = post(client, {"category": "kebakaran", "address": "dekat pasar johr"})
    assert res2.status_code == 201, res2.get_json()
    assert res2.get_json()["geocoded"]["name"] == "Pasar Johar"
    assert res2.get_json()["kelurahan"]["name"] == "Tanjung Mas"


@pytest.mark.parametrize("body,field", [
    ({"category": "alien_landing", "lat": -6.98, "lon": 110.42}, "category"),
    ({"lat": -6.98, "lon": 110.42}, "category"),
    ({"category": "kebakaran", "lat": -6.5, "lon": 110.42}, "lat"),
    ({"category": "kebakaran", "lat": 110.42, "lon": -6.98}, "lat"),
    ({"category": "kebakaran", "lat": "NaN", "lon": 110.42}, "lat"),
    ({"category": "kebakaran", "lat": -6.98}, "lon"),
    ({"category": "kebakaran", "address": "qqqq zzzz xxxx"}, "address"),
    ({"category": "kebakaran"}, "location"),
    ({"category": "kebakaran", "lat": -6.98, "lon": 110.42, "description": "x" * 5000}, "description"),
    ({"category": "kebakaran", "lat": -6.98, "lon": 110.42, "caller_phone": "call me"}, "caller_phone"),
])
def test_bad_intake_is_422_naming_the_field(client, city, body, field):
    res = post(client, body)
    assert res.status_code == 422
    assert res.mimetype == "application/problem+json"
    assert res.get_json()["field"] == field
    assert city.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0


def test_non_json_body_is_422(client, city):
    res = client.post("/api/v1/incidents", data="category=kebakaran", content_type="text/plain")
    assert res.status_code == 422
    assert res.get_json()["field"] == "body"


def test_lifecycle_and_illegal_transition(client, city):
    inc = post(client, {"category": "kebakaran", **IN_EAST}).get_json()
    url = f"/api/v1/incidents/{inc['id']}"
    assert client.patch(url, json={"status": "verified"}, headers=users.auth("dispatcher")).status_code == 200
    bad = client.patch(url, json={"status": "closed"})
    assert bad.status_code == 409
    assert bad.get_json()["field"] == "status"
    assert client.patch(url, json={"status": "teleported"}).status_code == 422
    for s in ("dispatched", "en_route", "on_scene", "resolved", "closed"):
        assert client.patch(url, json={"status": s}).status_code == 200, s
    detail = client.get(url).get_json()
    assert detail["status"] == "closed" and detail["closed_at"] and detail["on_scene_at"]
    changes = [(e["from_status"], e["to_status"]) for e in detail["events"] if e["kind"] == "status_changed"]
    assert changes[0] == ("received", "verified")
    assert changes[-1] == ("resolved", "closed")
    verified = next(e for e in detail["events"] if e["to_status"] == "verified")
    assert verified["actor"] == "t_dispatcher"  # the signed-in user, not a header the client chose
    assert any(e["kind"] == "viewed" and e["actor"] == "t_admin" for e in detail["events"])
    assert client.patch(url, json={"status": "verified"}).status_code == 409


def test_agency_tasks_ack_and_reject_with_reason(client, city):
    inc = post(client, {"category": "kecelakaan", **IN_EAST}).get_json()
    base = f"/api/v1/incidents/{inc['id']}/tasks"
    assert client.patch(f"{base}/POLRI", json={"status": "acknowledged"}).status_code == 200
    no_reason = client.patch(f"{base}/DINKES", json={"status": "rejected"})
    assert no_reason.status_code == 422 and no_reason.get_json()["field"] == "reason"
    ok = client.patch(f"{base}/DINKES", json={"status": "rejected", "reason": "bukan wilayah kami"})
    assert ok.status_code == 200
    tasks = {t["agency"]: t for t in ok.get_json()["tasks"]}
    assert tasks["POLRI"]["status"] == "acknowledged" and tasks["POLRI"]["acknowledged_at"]
    assert tasks["DINKES"]["reject_reason"] == "bukan wilayah kami"
    assert client.patch(f"{base}/PMI", json={"status": "acknowledged"}).status_code == 404


def test_assignment_marks_unit_busy_and_prevents_double_booking(client, city):
    a = post(client, {"category": "kebakaran", **IN_EAST}).get_json()
    b = post(client, {"category": "kebakaran", "lat": -6.99, "lon": 110.405}).get_json()
    res = client.post(f"/api/v1/incidents/{a['id']}/assignments", json={"unit_id": 801})
    assert res.status_code == 201
    assert res.get_json()["status"] == "dispatched"
    assert res.get_json()["assignments"][0]["callsign"] == "T-DAMKAR-1"
    again = client.post(f"/api/v1/incidents/{b['id']}/assignments", json={"unit_id": 801})
    assert again.status_code == 409 and again.get_json()["field"] == "unit_id"
    oos = client.post(f"/api/v1/incidents/{b['id']}/assignments", json={"unit_id": 804})
    assert oos.status_code == 409
    assert client.post(f"/api/v1/incidents/{b['id']}/assignments", json={"unit_id": 99999}).status_code == 422
    board = {u["id"]: u for u in client.get("/api/v1/units?agency=DAMKAR").get_json()["units"]}
    assert board[801]["status"] == "dispatched" and board[801]["current_incident_id"] == a["id"]
    url = f"/api/v1/incidents/{a['id']}"
    for s in ("en_route", "on_scene"):
        client.patch(url, json={"status": s})
    assert client.get("/api/v1/units?agency=DAMKAR").get_json()["units"][0]["status"] == "on_scene"
    client.patch(url, json={"status": "resolved"})
    board = {u["id"]: u for u in client.get("/api/v1/units").get_json()["units"]}
    assert board[801]["status"] == "available" and board[801]["current_incident_id"] is None
    assert client.post(f"/api/v1/incidents/{b['id']}/assignments", json={"unit_id": 801}).status_code == 201


def test_queue_orders_by_priority_and_flags_overdue(client, city):
    light = post(client, {"category": "pju_mati", **IN_EAST}).get_json()
    fire = post(client, {"category": "kebakaran", "lat": -6.99, "lon": 110.405}).get_json()
    city.execute(text("UPDATE incidents SET received_at = now() - interval '20 minutes' WHERE id = :i"),
                 {"i": fire["id"]})
    items = client.get("/api/v1/queue").get_json()["items"]
    ids = [i["id"] for i in items]
    assert ids.index(fire["id"]) < ids.index(light["id"])
    by_id = {i["id"]: i for i in items}
    assert by_id[fire["id"]]["overdue"] is True
    assert by_id[light["id"]]["overdue"] is False


def test_nearby_related_report_is_flagged_duplicate(client, city):
    first = post(client, {"category": "banjir", **IN_EAST}).get_json()
    second = post(client, {"category": "rob", "lat": IN_EAST["lat"] + 0.001, "lon": IN_EAST["lon"]}).get_json()
    far = post(client, {"category": "banjir", "lat": -6.995, "lon": 110.405}).get_json()
    assert first["duplicate_of"] is None
    assert second["duplicate_of"] == first["id"]
    assert far["duplicate_of"] is None


def test_duplicate_search_box_keeps_the_whole_circle(client, city):
    """The index's box around intake's 300 m circle must not cut it, east-west included (where a
    degree is shorter): 290 m east or north is a duplicate, 310 m is not."""
    first = post(client, {"category": "kebakaran", **IN_EAST}).get_json()
    probes = [(0.0, 0.002624, True), (0.0, 0.002805, False), (0.002622, 0.0, True), (-0.002803, 0.0, False)]
    for dlat, dlon, duplicate in probes:
        probe = post(client, {"category": "kebakaran", "lat": IN_EAST["lat"] + dlat,
                              "lon": IN_EAST["lon"] + dlon}).get_json()
        metres = city.execute(text("SELECT ST_Distance(a.geom::geography, b.geom::geography) FROM incidents a, "
                                   "incidents b WHERE a.id = :a AND b.id = :b"), {"a": first["id"], "b": probe["id"]})
        assert abs(metres.scalar_one() - (290 if duplicate else 310)) < 2
        assert probe["duplicate_of"] == (first["id"] if duplicate else None)
        city.execute(text("UPDATE incidents SET status = 'cancelled' WHERE id = :i"), {"i": probe["id"]})


def test_repeat_prank_number_is_flagged(client, city):
    for _ in range(3):
        inc = post(client, {"category": "prank", **IN_EAST, "caller_phone": "081111111"}).get_json()
        client.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "prank"})
    new = post(client, {"category": "kebakaran", **IN_EAST, "caller_phone": "081111111"}).get_json()
    assert new["prank_history"] == {"calls": 3, "pranks": 3, "suspect": True}


def test_list_filters_and_pagination(client, city):
    for i in range(3):
        post(client, {"category": "kebakaran", "lat": -6.97 - i * 0.005, "lon": 110.43})
    post(client, {"category": "pju_mati", "lat": -6.98, "lon": 110.41})
    page = client.get("/api/v1/incidents?category=kebakaran&limit=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and "offset=2" in page["next"]
    west = client.get("/api/v1/incidents?kelurahan=Sukamaju").get_json()
    assert [i["category"] for i in west["items"]] == ["pju_mati"]
    boxed = client.get("/api/v1/incidents?bbox=110.42,-7.0,110.44,-6.96").get_json()
    assert boxed["total"] == 3
    assert client.get("/api/v1/incidents?agency=PU").get_json()["total"] == 1
    assert client.get("/api/v1/incidents?since=2999-01-01T00:00:00Z").get_json()["total"] == 0
    assert client.get("/api/v1/incidents?bbox=1,2,3").status_code == 422
    assert client.get("/api/v1/incidents?limit=0").get_json()["field"] == "limit"
    assert client.get("/api/v1/incidents/987654").status_code == 404


def test_unit_position_update(client, city):
    res = client.post("/api/v1/units/803/position", json={"lat": -6.97, "lon": 110.43})
    assert res.status_code == 200
    assert res.get_json()["lat"] == pytest.approx(-6.97) and res.get_json()["position_at"]
    assert client.post("/api/v1/units/803/position", json={"lat": 95, "lon": 110.43}).get_json()["field"] == "lat"


def test_intake_recommends_units_filling_the_response_plan(client, city):
    from app.routing import cache

    cache.invalidate()
    inc = post(client, {"category": "kebakaran", **IN_EAST}).get_json()
    rec = inc["recommended"]
    assert rec["method"] == "drive_time"
    lines = {(line["agency"], line["unit_type"]): line for line in rec["plan"]}
    engines = lines[("DAMKAR", "fire_engine")]
    assert engines["count"] == 2 and engines["filled"] == 2
    assert {c["callsign"] for c in engines["candidates"]} == {"T-DAMKAR-1", "T-DAMKAR-2"}
    amb = lines[("DINKES", "ambulance")]["candidates"][0]
    assert amb["callsign"] == "T-AMB-1" and amb["eta_s"] < engines["candidates"][0]["eta_s"]
    assert amb["route"]["type"] == "LineString"
    assert lines[("POLRI", None)]["filled"] == 0  # its only patrol car is out of service


def test_incident_nearest_and_eta_after_assignment(client, city):
    from app.routing import cache

    cache.invalidate()
    inc = post(client, {"category": "ambulans", **IN_EAST}).get_json()
    near = client.get(f"/api/v1/incidents/{inc['id']}/nearest?agency=DINKES&k=1").get_json()
    assert near["incident_id"] == inc["id"] and near["method"] == "drive_time"
    unit = near["candidates"][0]
    assert client.get(f"/api/v1/incidents/{inc['id']}/nearest?k=0").get_json()["field"] == "k"
    res = client.post(f"/api/v1/incidents/{inc['id']}/assignments", json={"unit_id": unit["unit_id"]})
    assert res.get_json()["assignments"][0]["eta_s"] == pytest.approx(unit["eta_s"], abs=1.0)
    eta = client.get(f"/api/v1/incidents/{inc['id']}/eta").get_json()
    assert eta["first_eta_s"] == pytest.approx(unit["eta_s"], abs=1.0)
    assert eta["units"][0]["arrives_at"] and eta["units"][0]["method"] == "drive_time"
    client.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "on_scene"})
    assert client.get(f"/api/v1/incidents/{inc['id']}/eta").get_json()["first_eta_s"] == 0.0
    assert client.get("/api/v1/incidents/424242/eta").status_code == 404


def test_intake_can_skip_recommendations(client, city):
    inc = client.post("/api/v1/incidents?recommend=0", json={"category": "kebakaran", **IN_EAST}).get_json()
    assert "recommended" not in inc and inc["tasks"]
