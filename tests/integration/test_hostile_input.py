"""Hostile input never makes a 500: the door check (app/web/hygiene.py), id ranges, LIKE
metacharacters, CRLF in login ``next``, and XML outputs that stored data cannot break.

Each case is one a penetration test or the fuzz run found (issue 14).
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests import tinycity, users
from tests.apps import joined_app

DEEP = "[" * 5000 + "]" * 5000  # 10 KB; Python's json recursion limit is about 1000 levels
FIRE = {"category": "kebakaran", "lat": -6.978, "lon": 110.431, "description": "Asap dari gudang"}


@pytest.fixture()
def city_app(settings, db_conn):
    tinycity.seed(db_conn)
    with joined_app(settings, db_conn, open311_keys=("k1",)) as application:
        yield application


@pytest.fixture()
def city(city_app):
    return users.signed_in(city_app.test_client())


@pytest.fixture()
def stranger(city_app):
    return city_app.test_client()


def _problem(res, status: int | tuple[int, ...], field: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert res.status_code in statuses, (res.status_code, res.get_data(as_text=True)[:300])
    assert res.mimetype == "application/problem+json"
    body = res.get_json()
    if field is not None:
        assert body["field"] == field, body
    return body


def _concrete(rule: str) -> str:
    """A URL for a route rule: int parameters become 1, others 'x'."""
    return re.sub(r"<[^<>]+>", lambda m: "1" if m.group().startswith("<int:") else "x", rule)


def test_deep_json_on_every_route_is_refused_before_authentication(city_app, stranger):
    rules = [r for r in city_app.url_map.iter_rules() if r.endpoint != "stream.events"]
    assert len(rules) > 40
    for rule in rules:
        url = _concrete(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            res = stranger.open(url, method=method, data=DEEP, content_type="application/json")
            if url.startswith("/open311"):  # GeoReport clients get their error list, 400 for bad input
                assert res.status_code == 400 and "32 levels deep" in res.get_json()[0]["description"]
            else:
                assert _problem(res, 422, "body")["detail"].endswith("32 levels deep"), (method, url)


# JSON-ish text: brackets, quotes, escapes (lone surrogates among them), numbers at the edges, controls.
JSONISH = st.lists(st.sampled_from(['[', ']', '{', '}', '"', ',', ':', '\\ud800', '\\u0000', '1e400', 'NaN',
                                    '-0', '99999999999999999999', '"lat"', '"category"', '"kebakaran"', 'null',
                                    '\x01', '\u2028', ' ']), max_size=60).map("".join)
UNSAFE = [("POST", "/api/v1/incidents"), ("PATCH", "/api/v1/incidents/1"), ("POST", "/api/v1/units/801/position"),
          ("PUT", "/api/v1/flood-states/KL-S"), ("POST", "/open311/v2/requests.json"),
          ("POST", "/api/v1/incidents/1/assignments"), ("POST", "/login"), ("POST", "/api/v1/tokens")]


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(UNSAFE), body=JSONISH | st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
       signed_in=st.booleans())
def test_any_body_on_unsafe_routes_is_never_a_5xx(city, stranger, route, body, signed_in):
    client = city if signed_in else stranger
    res = client.open(route[1], method=route[0], data=body.encode("utf-8", "surrogatepass"),
                      content_type="application/json")
    assert res.status_code < 500, (route, body, res.get_data(as_text=True)[:300])


def test_deep_json_inside_strings_does_not_count(city):
    res = city.post("/api/v1/incidents", json={**FIRE, "description": "[" * 200})
    assert res.status_code == 201, res.get_json()


def test_body_over_one_megabyte_is_413(stranger):
    res = stranger.post("/api/v1/incidents", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                        content_type="application/json")
    _problem(res, 413)


@pytest.mark.parametrize("value, reason", [("\ud800", "surrogate"), ("a\x01b", "control character U+0001"),
                                           ("\x00", "U+0000"), ("\x9b", "U+009B"), ("\uffff", "noncharacter")])
def test_bad_characters_in_json_strings_are_422_naming_the_field(city, value, reason):
    body = _problem(city.post("/api/v1/incidents", json={**FIRE, "description": value}), 422, "description")
    assert reason in body["detail"]
    nested = {**FIRE, "caller": {"name": value}}
    _problem(city.post("/api/v1/incidents", json=nested), 422, "caller.name")


def test_raw_lone_surrogate_escape_in_json_text(city):
    raw = json.dumps(FIRE)[:-1] + ', "description": "\\ud800"}'
    _problem(city.post("/api/v1/incidents", data=raw, content_type="application/json"), 422, "description")


def test_tab_newline_and_cr_are_fine_in_free_text(city):
    res = city.post("/api/v1/incidents", json={**FIRE, "description": "lantai 2\r\n\tasap hitam"})
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["description"] == "lantai 2\r\n\tasap hitam"


def test_control_characters_in_query_path_and_member_names(city, stranger):
    _problem(city.get("/api/v1/incidents?kelurahan=a%01b"), 422, "kelurahan")
    _problem(city.get("/api/v1/incidents?kelurahan=a%0Ab"), 422, "kelurahan")
    _problem(stranger.get("/api/v1/geocode?q=%00"), 422, "q")
    _problem(stranger.get("/api/v1/incidents/%01"), 422, "path")
    _problem(city.post("/api/v1/incidents", json={**FIRE, "a\x02": 1}), 422, "body")
    _problem(city.post("/api/v1/incidents", json=FIRE, headers={"Idempotency-Key": "k\x01"}), 422,
             "Idempotency-Key")


def test_control_characters_in_form_fields(stranger):
    res = stranger.post("/open311/v2/requests.json", data={"api_key": "k1", "service_code": "kebakaran",
                                                           "lat": "-6.978", "long": "110.431", "description": "x\x07"})
    assert res.status_code == 400 and "description" in res.get_json()[0]["description"]


@pytest.mark.parametrize("raw, field", [('{"category": "kebakaran", "lat": 1e400, "lon": 110.43}', "lat"),
                                        ('{"category": "kebakaran", "lat": -6.97, "lon": -1e400}', "lon"),
                                        ('{"category": "kebakaran", "lat": NaN, "lon": 110.43}', "lat"),
                                        ('{"category": "kebakaran", "location": {"lat": Infinity}}', "location.lat"),
                                        ('{"unit_id": 99999999999999999999}', "unit_id")])
def test_numbers_must_be_finite_and_in_range(city, raw, field):
    url = "/api/v1/incidents/1/assignments" if field == "unit_id" else "/api/v1/incidents"
    _problem(city.post(url, data=raw, content_type="application/json"), 422, field)


def test_non_finite_numbers_in_query_strings(city):
    _problem(city.get("/api/v1/nearest?lat=1e400&lon=110.43"), 422, "lat")
    _problem(city.get("/api/v1/nearest?lat=-6.97&lon=nan"), 422, "lon")
    _problem(city.put("/api/v1/flood-states/KL-S", data='{"level": 1e400}', content_type="application/json"),
             422, "level")


@pytest.mark.parametrize("url", ["/api/v1/incidents/99999999999999999999", "/api/v1/cap/flood/99999999999999999999.xml",
                                 "/api/v1/incidents/9223372036854775808/eta", "/api/v1/analytics/clusters/"
                                 "99999999999999999999/cap", "/api/v1/units/99999999999999999999/position"])
def test_ids_beyond_bigint_are_404(city, url):
    res = city.post(url, json={"lat": -6.97, "lon": 110.43}) if url.endswith("position") else city.get(url)
    _problem(res, 404)


def test_largest_bigint_id_is_a_plain_404(city):
    _problem(city.get("/api/v1/incidents/9223372036854775807"), 404, "id")
    _problem(city.get("/api/v1/cap/flood/9223372036854775807.xml"), 404)


@pytest.mark.parametrize("value", ["\\", "%", "_", "Suka%", "[a-z]*", "'"])
def test_like_and_regex_metacharacters_are_plain_text(city, value):
    res = city.get("/api/v1/incidents", query_string={"kelurahan": value})
    assert res.status_code == 200 and res.get_json()["total"] == 0


def test_kelurahan_name_still_matches_case_insensitively(city):
    assert city.post("/api/v1/incidents", json=FIRE).status_code == 201
    assert city.get("/api/v1/incidents?kelurahan=TANJUNG%20MAS").get_json()["total"] == 1


def test_crlf_in_login_next_is_no_header_injection(stranger):
    res = stranger.get("/login?next=/map%0D%0ASet-Cookie:%20a=b")
    _problem(res, 422, "next")
    form = {"username": "t_dispatcher", "password": users.password("t_dispatcher"),
            "next": "/map\r\nSet-Cookie: a=b"}
    res = stranger.post("/login", data=form)
    assert res.status_code == 302 and res.headers["Location"] == "/map"
    assert "a=b" not in res.headers.get("Set-Cookie", "")
    res = stranger.post("/login", data={**form, "next": "/\\evil.example"})
    assert res.headers["Location"] == "/map"


def test_stored_control_characters_cannot_break_xml_outputs(city, db_conn):
    db_conn.execute(text(
        "INSERT INTO flood_states (kelurahan_id, level, note, set_by) VALUES (9002, 2, :n, 'test')"),
        {"n": "air naik\x01 cepat\x0b"})
    db_conn.execute(text(
        "INSERT INTO incidents (category_code, priority, source, description, kelurahan_id, geom) "
        "VALUES ('pju_mati', 5, 'phone', :d, 9002, ST_SetSRID(ST_MakePoint(110.41, -6.98), 4326))"),
        {"d": "lampu\x01 mati\x1f"})
    feed = city.get("/api/v1/cap/feed.atom")
    assert feed.status_code == 200
    root = ET.fromstring(feed.data)
    assert "air naik cepat" in "".join(root.itertext())
    state_id = db_conn.execute(text("SELECT id FROM flood_states WHERE kelurahan_id = 9002")).scalar_one()
    ET.fromstring(city.get(f"/api/v1/cap/flood/{state_id}.xml").data)
    listing = city.get("/open311/v2/requests.xml")
    assert listing.status_code == 200
    texts = [r.findtext("description") for r in ET.fromstring(listing.data)]
    assert "lampu mati" in texts
