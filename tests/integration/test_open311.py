"""Open311 GeoReport v2: services, requests in JSON and XML, api keys, errors, and no caller data out.

Reads come from ``incident_public`` only: public categories, counted calls of the last 90
days, a generalised location and the area for an address (tests/integration/test_open311_public.py
plants private calls and checks they never come out).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

from tests import tinycity, users
from tests.apps import joined_app

KEY = "kunci-rahasia-1"
REPORT = {"api_key": KEY, "service_code": "kebakaran", "lat": "-6.978", "long": "110.431",
          "description": "Asap tebal dari gudang", "first_name": "Budi", "last_name": "Santoso",
          "phone": "0812 7777 1234", "email": "budi@example.id"}


@pytest.fixture()
def o311(settings, db_conn):
    tinycity.seed(db_conn)
    with joined_app(settings, db_conn, open311_keys=("other-key", KEY)) as application:
        yield users.signed_in(application.test_client())


PUBLIC = {"pju_mati", "pohon_tumbang", "banjir", "rob", "tanah_longsor", "sarang_tawon", "lingkungan"}


def test_discovery_and_services_in_json_and_xml(o311):
    disc = o311.get("/open311/v2/discovery.json").get_json()
    assert disc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert disc["endpoints"][0]["url"].endswith("/open311/v2")
    # The public may file (and read back) only the public categories.
    res = o311.get("/open311/v2/services.json")
    assert res.status_code == 200 and res.mimetype == "application/json"
    public = {s["service_code"]: s for s in res.get_json()}
    assert set(public) == PUBLIC
    assert "112" in public["banjir"]["description"] and public["banjir"]["group"] == "Kedaruratan"
    assert "112" not in public["pju_mati"]["description"]
    assert o311.get("/open311/v2/services/kebakaran.json").status_code == 404
    # A client with an api_key (a city app) sees every reportable category.
    res = o311.get(f"/open311/v2/services.json?api_key={KEY}")
    services = {s["service_code"]: s for s in res.get_json()}
    assert "prank" not in services and len(services) == 18
    fire = services["kebakaran"]
    assert fire["service_name"] == "Kebakaran" and fire["metadata"] is False and fire["type"] == "realtime"
    assert "Damkar" in fire["description"] or "Pemadam" in fire["description"]
    assert "112" in fire["description"] and "tidak ditampilkan untuk umum" in fire["description"]
    assert "api" in fire["keywords"].split(",") and fire["group"] == "Kedaruratan"
    xml = o311.get(f"/open311/v2/services.xml?api_key={KEY}")
    assert xml.mimetype == "text/xml"
    root = ET.fromstring(xml.data)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == set(services)
    assert root.find("service/metadata").text == "false"
    definition = o311.get(f"/open311/v2/services/kebakaran.json?api_key={KEY}").get_json()
    assert definition == {"service_code": "kebakaran", "attributes": []}


def test_errors_are_georeport_lists_in_the_requested_format(o311):
    res = o311.get("/open311/v2/services/nope.json")
    assert res.status_code == 404 and res.get_json() == [{"code": 404, "description": "service_code 'nope' not found"}]
    res = o311.get("/open311/v2/services/nope.xml")
    root = ET.fromstring(res.data)
    assert res.status_code == 404 and root.tag == "errors" and root.findtext("error/code") == "404"
    res = o311.get("/open311/v2/requests.json?start_date=kemarin")
    assert res.status_code == 400 and res.get_json()[0]["code"] == 400
    res = o311.get("/open311/v2/nothing-here.json")
    assert res.status_code == 404 and res.get_json()[0]["code"] == 404


def test_post_form_encoded_creates_an_incident_without_leaking_the_caller(o311, db_conn):
    res = o311.post("/open311/v2/requests.json", data=REPORT)
    assert res.status_code == 201, res.get_json()
    [item] = res.get_json()
    rid = item["service_request_id"]
    assert item["service_notice"] and "112" in item["service_notice"]
    assert "tidak ditampilkan untuk umum" in item["service_notice"] and "Location" not in res.headers
    row = db_conn.execute(text("SELECT source, caller_name, caller_phone, category_code FROM incidents "
                               "WHERE id = :id"), {"id": int(rid)}).one()
    assert tuple(row) == ("open311", "Budi Santoso", "081277771234", "kebakaran")
    # A fire is not public: filed, forwarded to DAMKAR, but never read back through Open311.
    for url in (f"/open311/v2/requests/{rid}.json", f"/open311/v2/requests/{rid}.xml"):
        assert o311.get(url).status_code == 404
    for url in ("/open311/v2/requests.json", "/open311/v2/requests.xml",
                f"/open311/v2/requests.json?service_request_id={rid}"):
        assert f">{rid}<" not in o311.get(url).data.decode() and f'"{rid}"' not in o311.get(url).data.decode()


def test_a_public_request_reads_back_generalised(o311, db_conn):
    res = o311.post("/open311/v2/requests.json", data={**REPORT, "service_code": "pju_mati",
                                                       "description": "Lampu jalan mati 3 tiang"})
    assert res.status_code == 201, res.get_json()
    [item] = res.get_json()
    rid = item["service_request_id"]
    assert item["service_notice"] is None and res.headers["Location"] == f"/open311/v2/requests/{rid}.json"
    for url in (f"/open311/v2/requests/{rid}.json", f"/open311/v2/requests/{rid}.xml", "/open311/v2/requests.json",
                "/open311/v2/requests.xml"):
        body = o311.get(url).data.decode()
        assert rid in body
        for secret in ("Budi", "Santoso", "0812", "7777", "budi@example", "Jl."):
            assert secret not in body, (url, secret)
    [req] = o311.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert req["status"] == "open" and req["service_code"] == "pju_mati"
    assert req["description"] == "Lampu jalan mati 3 tiang"  # street lights publish their description
    assert req["agency_responsible"]  # the category's agencies (public), not the incident's tasks
    stored = db_conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = :id"),
                             {"id": int(rid)}).one()
    assert (req["long"], req["lat"]) != pytest.approx(tuple(stored), abs=1e-6)
    assert req["long"] == pytest.approx(math.floor(stored[0] * 1000) / 1000 + 0.0005)
    assert req["lat"] == pytest.approx(math.floor(stored[1] * 1000) / 1000 + 0.0005)
    assert req["address"] == "Kel. Tanjung Mas, Kec. Tengah"
    requested = datetime.fromisoformat(req["requested_datetime"])
    assert datetime.fromisoformat(req["expected_datetime"]) - requested == timedelta(days=3)
    xml = ET.fromstring(o311.get(f"/open311/v2/requests/{rid}.xml").data)
    assert xml.tag == "service_requests" and xml.findtext("request/service_request_id") == rid
    assert xml.findtext("request/status") == "open" and xml.findtext("request/address") == req["address"]


def test_post_json_by_address_and_idempotent_retry(o311):
    body = {"api_key": KEY, "service_code": "pohon_tumbang", "address_string": "jln pemuda",
            "description": "Pohon tumbang menutup jalan"}
    first = o311.post("/open311/v2/requests.json", json=body, headers={"Idempotency-Key": "lapor-1"})
    again = o311.post("/open311/v2/requests.json", json=body, headers={"Idempotency-Key": "lapor-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    xml = o311.post("/open311/v2/requests.xml", data={**body, "description": "kedua"})
    assert xml.status_code == 201 and ET.fromstring(xml.data).findtext("request/service_request_id")


@pytest.mark.parametrize(("change", "status", "word"), [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "salah"}, 403, "api_key"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "prank"}, 400, "service_code"),
    ({"service_code": "tidak_ada"}, 400, "service_code"),
    ({"lat": "abc"}, 400, "lat"),
    ({"long": "999"}, 400, "long"),
    ({"lat": None, "long": None}, 400, "lat"),
    ({"lat": "-6.0", "long": "106.8"}, 400, "outside"),
    ({"phone": "call me"}, 400, "phone"),
])
def test_post_refuses_bad_input_with_georeport_errors(o311, change, status, word):
    data = {k: v for k, v in {**REPORT, **change}.items() if v is not None}
    res = o311.post("/open311/v2/requests.json", data=data)
    assert res.status_code == status, res.get_json()
    [err] = res.get_json()
    assert err["code"] == status and word in err["description"]


def test_no_keys_configured_means_no_posts(settings, db_conn):
    with joined_app(settings, db_conn) as application:
        res = application.test_client().post("/open311/v2/requests.json", data=REPORT)
    assert res.status_code == 403


def test_request_list_filters(o311, db_conn):
    ids = [o311.post("/open311/v2/requests.json", data={**REPORT, "service_code": code}).get_json()[0]
           ["service_request_id"] for code in ("sarang_tawon", "pju_mati")]
    db_conn.execute(text("UPDATE incidents SET status = 'resolved' WHERE id = :id"), {"id": int(ids[1])})

    def listed(query: str) -> set[str]:
        res = o311.get(f"/open311/v2/requests.json?{query}")
        assert res.status_code == 200, res.get_json()
        return {r["service_request_id"] for r in res.get_json()}

    assert set(ids) <= listed("")
    assert ids[0] in listed("status=open") and ids[1] not in listed("status=open")
    assert ids[1] in listed("status=closed") and ids[0] not in listed("status=closed")
    assert listed("service_code=pju_mati") & set(ids) == {ids[1]}
    assert listed(f"service_request_id={ids[0]},{ids[1]}&status=closed") == set(ids)  # ids ignore other filters
    assert not listed("start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z") & set(ids)
    too_long = o311.get("/open311/v2/requests.json?start_date=2026-01-01&end_date=2026-06-01")
    assert too_long.status_code == 400 and "90 days" in too_long.get_json()[0]["description"]
    assert o311.get("/open311/v2/requests.json?status=pending").status_code == 400
    assert o311.get("/open311/v2/requests.json?service_request_id=x1").status_code == 400
    assert o311.get("/open311/v2/requests/999999999.json").status_code == 404
    assert o311.get("/open311/v2/requests/abc.xml").status_code == 404
