"""Duplicates before save: open calls near the call being typed, and merging a further caller into one.

Through the HTTP API as the web app runs (``peta112_app`` under row-level security, the
request's viewer), on the tiny city.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.incidents import facts, viewer
from tests import tinycity, users

FIRE = {"lat": -6.978, "lon": 110.431}  # Tanjung Mas, near Jl. Merdeka
NEAR = {"lat": -6.9785, "lon": 110.4313}  # ~65 m away
FAR = {"lat": -6.990, "lon": 110.405}  # Sukamaju, ~3 km away
CALLER_PHONE = "081299990001"
SECOND_PHONE = "081299990002"


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    return db_conn


def log_call(client, category, where, phone=CALLER_PHONE, **extra):
    res = client.post("/api/v1/incidents?recommend=0", json={
        "category": category, **where, "caller": {"name": "Pak Slamet", "phone": phone}, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def nearby(client, headers=None, **params):
    return client.get("/api/v1/incidents/nearby-open", query_string=params, headers=headers or {})


def merge(client, incident_id, body, headers=None):
    return client.post(f"/api/v1/incidents/{incident_id}/reports", json=body, headers=headers or {})


def test_nearby_open_lists_related_open_calls_nearest_first(client, city):
    fire = log_call(client, "kebakaran", FIRE)
    amb = log_call(client, "ambulans", NEAR)  # related to a fire (people hurt)
    log_call(client, "pju_mati", NEAR)  # a street light: unrelated
    log_call(client, "kebakaran", FAR)  # the same kind, 3 km away
    closed = log_call(client, "kebakaran", NEAR)
    assert client.patch(f"/api/v1/incidents/{closed['id']}", json={"status": "cancelled"}).status_code == 200

    res = nearby(client, category="kebakaran", **NEAR)
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert set(body["categories"]) == {"kebakaran", "ambulans"}
    ids = [i["id"] for i in body["items"]]
    assert ids == [amb["id"], fire["id"]]  # nearest first; not the street light, the far fire, the cancelled one
    first = body["items"][1]
    assert 40 < first["distance_m"] < 90
    assert first["report_count"] == 1 and first["caller"]["phone"] == CALLER_PHONE
    assert first["category_name"] and first["status"] == "received"

    # No category: every open call around; a wider radius reaches the far fire.
    assert len(nearby(client, **NEAR).get_json()["items"]) == 3
    wide = nearby(client, category="kebakaran", radius_m=5000, **NEAR).get_json()["items"]
    assert len(wide) == 3 and wide[-1]["distance_m"] > 2500


def test_merge_keeps_the_caller_as_a_report_on_the_incident(client, city):
    fire = log_call(client, "kebakaran", FIRE)
    n_incidents = city.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    res = merge(client, fire["id"], {"caller": {"name": "Bu Ani", "phone": "0812 9999 0002"},
                                     "description": "asap terlihat dari gang belakang", **NEAR},
                headers={"Idempotency-Key": "merge-1"})
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert inc["id"] == fire["id"] and inc["report_count"] == 2
    assert inc["report"]["caller"] == {"name": "Bu Ani", "phone": SECOND_PHONE}
    assert [r["description"] for r in inc["reports"]] == ["asap terlihat dari gang belakang"]
    # No new incident; the trail says who merged, without the caller's data (agencies read the trail).
    assert city.execute(text("SELECT count(*) FROM incidents")).scalar_one() == n_incidents
    merged = [e for e in inc["events"] if e["kind"] == "report_merged"]
    assert len(merged) == 1 and merged[0]["actor"] == "t_admin"
    assert merged[0]["data"]["report_id"] == inc["report"]["id"] and 40 < merged[0]["data"]["distance_m"] < 90
    assert SECOND_PHONE not in str(merged[0]) and "Bu Ani" not in str(merged[0])

    # A retry with the same key: the same report, not a second one.
    again = merge(client, fire["id"], {"caller": {"name": "Bu Ani", "phone": "0812 9999 0002"},
                                       "description": "asap terlihat dari gang belakang", **NEAR},
                  headers={"Idempotency-Key": "merge-1"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["report_count"] == 2
    # The same key with another report is refused, naming the header.
    other = merge(client, fire["id"], {"caller": {"phone": "0811"}}, headers={"Idempotency-Key": "merge-1"})
    assert other.status_code == 422 and other.get_json()["field"] == "Idempotency-Key"

    # Without a location of its own the report is placed at the incident.
    third = merge(client, fire["id"], {"caller": {"name": "Pak RT"}}).get_json()
    assert third["report_count"] == 3
    assert (third["report"]["lat"], third["report"]["lon"]) == pytest.approx((FIRE["lat"], FIRE["lon"]))

    # The dispatcher sees the count in the list, the queue, the detail and the nearby list.
    disp = users.auth("dispatcher")
    listed = client.get("/api/v1/incidents?open=1", headers=disp).get_json()["items"]
    assert next(i for i in listed if i["id"] == fire["id"])["report_count"] == 3
    queued = client.get("/api/v1/queue", headers=disp).get_json()["items"]
    assert next(i for i in queued if i["id"] == fire["id"])["report_count"] == 3
    assert client.get(f"/api/v1/incidents/{fire['id']}", headers=disp).get_json()["report_count"] == 3
    assert nearby(client, disp, category="kebakaran", **NEAR).get_json()["items"][0]["report_count"] == 3


def test_merge_into_a_closed_or_missing_incident_is_refused(client, city):
    fire = log_call(client, "kebakaran", FIRE)
    client.patch(f"/api/v1/incidents/{fire['id']}", json={"status": "cancelled"})
    res = merge(client, fire["id"], {"caller": {"name": "Bu Ani"}})
    assert res.status_code == 409 and res.get_json()["field"] == "id"
    assert merge(client, 999999999, {"caller": {"name": "Bu Ani"}}).status_code == 404
    assert city.execute(text("SELECT count(*) FROM incident_reports")).scalar_one() == 0


def test_agency_reader_sees_only_its_calls_and_no_caller_data(client, city):
    fire = log_call(client, "kebakaran", FIRE)  # DAMKAR (and others by the routing rules)
    light = log_call(client, "pju_mati", NEAR)  # street light: PU / PLN, not DAMKAR
    merge(client, fire["id"], {"caller": {"name": "Bu Ani", "phone": SECOND_PHONE}})

    damkar = nearby(client, users.auth("t_damkar"), **NEAR)
    assert damkar.status_code == 200
    items = damkar.get_json()["items"]
    assert [i["id"] for i in items] == [fire["id"]]  # not the street light: no DAMKAR task
    assert items[0]["caller"] == {"name": "***", "phone": "***"} and items[0]["report_count"] == 2
    assert CALLER_PHONE not in damkar.get_data(as_text=True)
    detail = client.get(f"/api/v1/incidents/{fire['id']}", headers=users.auth("t_damkar"))
    assert detail.status_code == 200
    text_ = detail.get_data(as_text=True)
    assert SECOND_PHONE not in text_ and "Bu Ani" not in text_
    assert detail.get_json()["reports"][0]["caller"] == {"name": "***", "phone": "***"}
    # The official sees the calls but no callers either.
    official = nearby(client, users.auth("official"), **NEAR)
    assert {i["id"] for i in official.get_json()["items"]} == {fire["id"], light["id"]}
    assert CALLER_PHONE not in official.get_data(as_text=True)
    # Merging is the desk's work.
    for who in ("t_damkar", "official", "bpbd"):
        assert merge(client, fire["id"], {"caller": {"name": "x"}}, headers=users.auth(who)).status_code == 403


def test_anonymous_is_refused(anon, city):
    assert nearby(anon, **NEAR).status_code == 401
    assert merge(anon, 1, {"caller": {"name": "x"}}).status_code == 401


@pytest.mark.parametrize(("params", "field"), [
    ({"lon": 110.43}, "lat"),
    ({"lat": "abc", "lon": 110.43}, "lat"),
    ({"lat": -6.97, "lon": "1e999"}, "lon"),
    ({"lat": 95, "lon": 110.43}, "lat"),
    ({"lat": -6.97, "lon": 110.43, "category": "bukan_kategori"}, "category"),
    ({"lat": -6.97, "lon": 110.43, "category": "x' OR 1=1 --"}, "category"),
    ({"lat": -6.97, "lon": 110.43, "radius_m": "-1"}, "radius_m"),
    ({"lat": -6.97, "lon": 110.43, "radius_m": "NaN"}, "radius_m"),
    ({"lat": -6.97, "lon": 110.43, "radius_m": "1e9"}, "radius_m"),
    ({"lat": -6.97, "lon": 110.43, "limit": "0"}, "limit"),
])
def test_hostile_nearby_input_is_400_naming_the_field(client, city, params, field):
    res = nearby(client, **params)
    assert res.status_code in (400, 422), res.get_json()
    assert res.get_json()["field"] == field
    assert res.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(("body", "field"), [
    ({"caller": {"phone": "not a phone"}}, "caller_phone"),
    ({"caller": {"name": "x" * 201}}, "caller_name"),
    ({"description": "x" * 2001}, "description"),
    ({"lat": -6.97}, "lon"),
    ({"lat": 10.0, "lon": 110.43}, "lat"),  # outside the city
    ({"source": "telepati"}, "source"),
])
def test_hostile_report_is_rejected_naming_the_field(client, city, body, field):
    fire = log_call(client, "kebakaran", FIRE)
    res = merge(client, fire["id"], body)
    assert res.status_code in (400, 422), res.get_json()
    assert res.get_json()["field"] == field
    assert city.execute(text("SELECT count(*) FROM incident_reports")).scalar_one() == 0


def test_non_object_report_body_is_refused(client, city):
    fire = log_call(client, "kebakaran", FIRE)
    res = client.post(f"/api/v1/incidents/{fire['id']}/reports", data="[1]", content_type="application/json")
    assert res.status_code in (400, 422) and res.get_json()["field"] == "body"


def test_reports_are_under_row_level_security(city):
    """In SQL: an agency without a task sees no report rows; one with a task sees them masked."""
    city.execute(text(
        "INSERT INTO incidents (id, category_code, status, priority, source, geom) VALUES "
        "(990101, 'kebakaran', 'received', 1, 'phone', ST_SetSRID(ST_MakePoint(110.43, -6.978), 4326))"))
    city.execute(text("INSERT INTO incident_tasks (incident_id, agency_code) VALUES (990101, 'DAMKAR')"))
    city.execute(text("INSERT INTO incident_reports (incident_id, actor, source, caller_name, caller_phone) "
                      "VALUES (990101, 't', 'phone', 'Bu Ani', :p)"), {"p": SECOND_PHONE})

    def as_reader(role, agency=None):
        city.exec_driver_sql("SET LOCAL ROLE peta112_app")
        facts.apply_viewer(city, viewer.Viewer(role, agency))
        try:
            return city.execute(text("SELECT caller_phone FROM incident_report_facts WHERE incident_id = 990101"
                                     )).scalars().all(), city.execute(text(
                "SELECT report_count FROM incident_facts WHERE id = 990101")).scalars().all()
        finally:
            city.exec_driver_sql("RESET ROLE")

    assert as_reader("dispatcher") == ([SECOND_PHONE], [2])
    assert as_reader("agency", "DAMKAR") == ([None], [2])
    assert as_reader("agency", "DINKES") == ([], [])
    assert as_reader("anonymous") == ([], [])
    # Only the desk may file a report.
    city.exec_driver_sql("SET LOCAL ROLE peta112_app")
    facts.apply_viewer(city, viewer.Viewer("agency", "DAMKAR"))
    with pytest.raises(Exception, match="row-level security"), city.begin_nested():
        city.execute(text("INSERT INTO incident_reports (incident_id, actor, source) "
                          "VALUES (990101, 'x', 'phone')"))
    city.exec_driver_sql("RESET ROLE")


def test_privacy_purge_erases_reports_callers(session, city):
    from app.services.privacy import purge_personal_data

    city.execute(text(
        "INSERT INTO incidents (id, category_code, status, priority, source, caller_phone, received_at, geom) VALUES "
        "(990102, 'kebakaran', 'closed', 1, 'phone', NULL, now() - interval '400 days', "
        " ST_SetSRID(ST_MakePoint(110.43, -6.978), 4326))"))
    city.execute(text("INSERT INTO incident_reports (incident_id, actor, source, caller_name, caller_phone, "
                      "received_at) VALUES (990102, 't', 'phone', 'Bu Ani', :p, now() - interval '400 days')"),
                 {"p": SECOND_PHONE})
    assert purge_personal_data(session, 365) == 1
    left = city.execute(text("SELECT caller_name, caller_phone FROM incident_reports WHERE incident_id = 990102"))
    assert left.one() == (None, None)
