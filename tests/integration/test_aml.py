"""Advanced Mobile Location (issue 18): an AML SMS or HTTPS post places the caller, with its radius."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from tests import tinycity, users

KEY = "aml-gateway-key-0123456789"
CALLER = "+6281277770002"
LAT, LON = -6.9876, 110.4123  # inside the tiny city's kelurahan


def sms(lat: float = LAT, lon: float = LON, rd: str = "50", at: datetime | None = None, pm: str = "G") -> str:
    top = (at or datetime.now(UTC) - timedelta(seconds=20)).strftime("%Y%m%d%H%M%S")
    return (f'A"ML=1;lt={lat:+.5f};lg={lon:+.5f};rd={rd};top={top};lc=68;pm={pm};si=510100000000000;'
            f"ei=356708041746734;mcc=510;mnc=10;ml=124")


@pytest.fixture()
def gateway(make_app, db_conn: Connection):
    tinycity.seed(db_conn)
    app = make_app(telephony_keys=(KEY,))
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"
    return c


@pytest.fixture()
def desk(gateway):
    c = gateway.application.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = users.auth("call_taker")["Authorization"]
    return c


def _ring(client, call_id: str) -> int:
    res = client.post("/api/v1/calls/events", json={"event": "ring", "call_id": call_id, "from": CALLER})
    assert res.status_code == 201
    return res.get_json()["id"]


def test_aml_sms_places_the_ringing_caller_with_its_radius(gateway, desk):
    call_id = _ring(gateway, "AML-1")
    res = gateway.post("/api/v1/aml?from=081277770002", data=sms(), content_type="text/plain")
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["call_id"] == call_id and "call" not in res.get_json()
    loc = desk.get(f"/api/v1/calls/{call_id}").get_json()["location"]
    assert (loc["lat"], loc["lon"]) == pytest.approx((LAT, LON), abs=1e-5)
    assert loc["radius_m"] == 50 and loc["method"] == "gnss" and loc["source"] == "aml_sms"
    assert loc["confidence"] == 68 and loc["kelurahan"] is not None
    # The call now lies in the caller's kelurahan (the prank map by kelurahan uses it).
    assert desk.get(f"/api/v1/calls/{call_id}").get_json()["kelurahan"] == loc["kelurahan"]


def test_a_newer_fix_replaces_an_older_one_whatever_the_order_of_arrival(gateway, desk):
    call_id = _ring(gateway, "AML-2")
    now = datetime.now(UTC)
    gateway.post(f"/api/v1/aml?from={CALLER}", data=sms(rd="400", pm="C", at=now - timedelta(seconds=30)),
                 content_type="text/plain")
    newer = {"v": 1, "emergency_number": "112", "device_number": CALLER, "location_latitude": LAT + 0.001,
             "location_longitude": LON, "location_accuracy": 12.5, "location_source": "gps",
             "location_time": int((now - timedelta(seconds=5)).timestamp() * 1000), "location_confidence": 68}
    assert gateway.post("/api/v1/aml", json=newer).status_code == 201
    # A late SMS with an older fix must not move the caller back.
    gateway.post(f"/api/v1/aml?from={CALLER}", data=sms(rd="900", pm="C", at=now - timedelta(seconds=60)),
                 content_type="text/plain")
    loc = desk.get(f"/api/v1/calls/{call_id}").get_json()["location"]
    assert loc["radius_m"] == 12.5 and loc["source"] == "aml_https" and loc["lat"] == pytest.approx(LAT + 0.001)


def test_sms_gateway_form_and_a_desk_paste(gateway, desk):
    call_id = _ring(gateway, "AML-3")
    res = gateway.post("/api/v1/aml", data={"from": CALLER, "text": sms()})
    assert res.status_code == 201 and res.get_json()["call_id"] == call_id
    pasted = desk.post(f"/api/v1/aml?from={CALLER}", data=sms(rd="30"), content_type="text/plain")
    assert pasted.status_code == 201 and pasted.get_json()["call"]["location"]["radius_m"] == 30


GOOD = sms()


@pytest.mark.parametrize(("body", "field"), [
    ("hello", 'A"ML'),
    (GOOD.replace("lt=-6.98760", "lt=-96.98760"), "lt"),
    (GOOD.replace("lt=-6.98760", "lt=abc"), "lt"),
    (GOOD.replace("lt=-6.98760", "lt=+55.74317"), "lt"),  # Scotland: not a caller of an Indonesian 112
    (GOOD.replace("rd=50", "rd=0"), "rd"),
    (GOOD.replace("rd=50", "rd=N"), "rd"),
    (GOOD.replace("rd=50", "rd=1e9"), "rd"),
    (GOOD.replace(";pm=G", ";pm=N"), "pm"),
    (GOOD.replace(";pm=G", ";pm=X"), "pm"),
    (GOOD.replace(";lc=68", ";lc=101"), "lc"),
    (GOOD.replace(";mcc=510", ";mcc=51a"), "mcc"),
    (GOOD.replace(";ei=356708041746734", ";ei=35670804174673x"), "ei"),
    (GOOD + ";lt=-6.9", "lt"),
    (GOOD + ";evil=1", "body"),
    (GOOD.replace(";top=", ";xx=1;top="), "body"),
    (GOOD.split(";top=")[0] + ";pm=G", "top"),
    (GOOD[:GOOD.index("top=") + 4] + "20261399000000" + GOOD[GOOD.index("top=") + 18:], "top"),
    (GOOD[:GOOD.index("top=") + 4] + "29990101000000" + GOOD[GOOD.index("top=") + 18:], "top"),
    (GOOD + ";" + "x" * 500, "body"),
])
def test_hostile_aml_sms_is_422_naming_the_field(gateway, body, field):
    res = gateway.post(f"/api/v1/aml?from={CALLER}", data=body, content_type="text/plain")
    assert res.status_code == 422, (body, res.get_json())
    assert res.mimetype == "application/problem+json" and res.get_json()["field"] == field


@pytest.mark.parametrize(("change", "field"), [
    ({"location_latitude": "NaN"}, "location_latitude"),
    ({"location_latitude": True}, "location_latitude"),
    ({"location_longitude": 400}, "location_longitude"),
    ({"location_accuracy": -3}, "location_accuracy"),
    ({"location_time": "yesterday"}, "location_time"),
    ({"location_time": 99999999999999}, "location_time"),
    ({"location_source": "magic"}, "location_source"),
    ({"device_number": "not a phone"}, "device_number"),
    ({"device_number": None}, "device_number"),
])
def test_hostile_aml_https_is_422_naming_the_field(gateway, change, field):
    body = {"device_number": CALLER, "location_latitude": LAT, "location_longitude": LON, "location_accuracy": 20,
            "location_time": int(time.time() * 1000), "location_source": "wifi", **change}
    res = gateway.post("/api/v1/aml", json=body)
    assert res.status_code == 422, res.get_json()
    assert res.get_json()["field"] == field


def test_missing_sender_and_wrong_content_type(gateway):
    assert gateway.post("/api/v1/aml", data=GOOD, content_type="text/plain").get_json()["field"] == "from"
    res = gateway.post("/api/v1/aml", data=b"<aml/>", content_type="application/xml")
    assert res.status_code == 422 and res.get_json()["field"] == "Content-Type"


def test_only_the_desk_and_keyed_gateways_post_locations_and_only_the_desk_reads_them(gateway, db_conn):
    anon = gateway.application.test_client()
    assert anon.post(f"/api/v1/aml?from={CALLER}", data=GOOD, content_type="text/plain").status_code == 401
    for who in ("official", "agency", "bpbd"):
        res = anon.post(f"/api/v1/aml?from={CALLER}", data=GOOD, content_type="text/plain", headers=users.auth(who))
        assert res.status_code == 403, who
    assert gateway.post(f"/api/v1/aml?from={CALLER}", data=GOOD, content_type="text/plain").status_code == 201
    rows = db_conn.execute(text("SELECT count(*) FROM caller_locations WHERE caller_phone = :p"), {"p": CALLER})
    assert rows.scalar_one() == 1
