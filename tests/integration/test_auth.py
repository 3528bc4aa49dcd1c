"""Roles, privacy, CSRF, tokens, rate limits and hostile input, on every surface."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from app.domain.roles import ROLES
from app.web.policy import POLICY, PUBLIC
from tests import users
from tests.scratch import scratch_database

IN_EAST = {"lat": -6.978, "lon": 110.431}


@pytest.fixture()
def city(tiny_city):
    return tiny_city


def as_role(client, role: str | None):
    """Requests as ``role`` (None: anonymous) on the shared test client."""
    client.environ_base.pop("HTTP_AUTHORIZATION", None)
    if role is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = users.auth(role)["Authorization"]
    return client


def new_incident(client, category: str = "kecelakaan", **extra) -> dict:
    body = {"category": category, **IN_EAST, "caller_name": "Siti", "caller_phone": "0811223344", **extra}
    res = as_role(client, "admin").post("/api/v1/incidents", json=body)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def test_every_route_has_a_policy(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(e for e in endpoints if e not in POLICY)
    assert missing == [], f"routes without a role policy (they would be refused): {missing}"
    stale = sorted(e for e in POLICY if e not in endpoints)
    assert stale == [], f"policy entries for routes that no longer exist: {stale}"


# One representative request per surface: (endpoint, method, path builder, json body).
SURFACES = [
    ("api.list_incidents", "GET", lambda i: "/api/v1/incidents", None),
    ("api.get_incident", "GET", lambda i: f"/api/v1/incidents/{i}", None),
    ("api.create_incident", "POST", lambda i: "/api/v1/incidents", {"category": "pju_mati", **IN_EAST}),
    ("api.patch_incident", "PATCH", lambda i: f"/api/v1/incidents/{i}", {"status": "verified"}),
    ("api.patch_task", "PATCH", lambda i: f"/api/v1/incidents/{i}/tasks/{{agency}}", {"status": "acknowledged"}),
    ("api.assign", "POST", lambda i: f"/api/v1/incidents/{i}/assignments", {"unit_id": 803}),
    ("api.triage_queue", "GET", lambda i: "/api/v1/queue", None),
    ("api.get_nearest", "GET", lambda i: "/api/v1/nearest?lat=-6.978&lon=110.431", None),
    ("api.forward", "GET", lambda i: "/api/v1/geocode?q=merdeka", None),
    ("api.units", "GET", lambda i: "/api/v1/units", None),
    ("api.analytics_trends", "GET", lambda i: "/api/v1/analytics/trends", None),
    ("api.analytics_agency_performance", "GET", lambda i: "/api/v1/analytics/agency-performance", None),
    ("api.flood_states_list", "GET", lambda i: "/api/v1/flood-states", None),
    ("api.flood_state_set", "PUT", lambda i: "/api/v1/flood-states/KL-T", {"level": 2}),
    ("map.page", "GET", lambda i: "/map", None),
    ("dashboard.page", "GET", lambda i: "/dashboard", None),
    ("tiles.tile", "GET", lambda i: "/tiles/roads/14/13216/8509.pbf", None),
    ("features.get_items", "GET", lambda i: "/api/v1/collections/incidents/items", None),
    ("open311.list_requests", "GET", lambda i: "/open311/v2/requests.json", None),
    ("health.healthz", "GET", lambda i: "/healthz", None),
    ("health.details", "GET", lambda i: "/api/v1/health", None),
]


@pytest.mark.parametrize("role", [*ROLES, None])
def test_each_role_on_each_surface(client, city, role):
    inc = new_incident(client, "tanah_longsor")  # tasks for BPBD and DAMKAR
    own = "BPBD" if role == "bpbd" else "DAMKAR"  # agency users act on their own agency's task
    for endpoint, method, path, body in SURFACES:
        rule = POLICY[endpoint]
        res = as_role(client, role).open(path(inc["id"]).replace("{agency}", own), method=method, json=body)
        if rule == PUBLIC or (role is not None and role in rule):
            assert res.status_code not in (401, 403), (role, endpoint, res.status_code, res.get_data()[:200])
        elif role is None:
            expected = 302 if endpoint in ("map.page", "dashboard.page") else 401
            assert res.status_code == expected, (endpoint, res.status_code)
            if expected == 401:
                assert res.mimetype == "application/problem+json"
        else:
            assert res.status_code == 403, (role, endpoint, res.status_code)
            assert res.get_json()["title"] == "Forbidden"


def test_what_each_role_may_not_do(client, city):
    inc = new_incident(client)
    official = as_role(client, "official")
    assert official.post("/api/v1/incidents", json={"category": "banjir", **IN_EAST}).status_code == 403
    assert as_role(client, "agency").post(f"/api/v1/incidents/{inc['id']}/assignments",
                                          json={"unit_id": 801}).status_code == 403
    assert as_role(client, "call_taker").get("/api/v1/analytics/trends").status_code == 403
    assert as_role(client, "dispatcher").put("/api/v1/flood-states/KL-T", json={"level": 2}).status_code == 403
    assert as_role(client, "bpbd").put("/api/v1/flood-states/KL-T", json={"level": 2}).status_code == 200


def test_personal_data_only_for_the_desk(client, city):
    inc = new_incident(client)
    for role in ("call_taker", "dispatcher", "admin"):
        caller = as_role(client, role).get(f"/api/v1/incidents/{inc['id']}").get_json()["caller"]
        assert caller == {"name": "Siti", "phone": "0811223344"}, role
    for role in ("official", "bpbd"):
        body = as_role(client, role).get(f"/api/v1/incidents/{inc['id']}").get_json()
        assert body["caller"] == {"name": "***", "phone": "***"}, role
        listed = as_role(client, role).get("/api/v1/incidents").get_data(as_text=True)
        assert "0811223344" not in listed and "Siti" not in listed
        assert "0811223344" not in as_role(client, role).get("/api/v1/queue").get_data(as_text=True)
    for path in ("/api/v1/collections/incidents/items", "/open311/v2/requests.json",
                 f"/open311/v2/requests/{inc['id']}.xml"):
        assert "0811223344" not in as_role(client, "admin").get(path).get_data(as_text=True), path


def test_viewing_an_incident_is_audited(client, city):
    inc = new_incident(client)
    as_role(client, "official").get(f"/api/v1/incidents/{inc['id']}")
    viewers = city.execute(text("SELECT actor FROM incident_events WHERE incident_id = :i AND kind = 'viewed'"),
                           {"i": inc["id"]}).scalars().all()
    assert "t_official" in viewers


def test_agency_sees_and_updates_only_its_own(client, city):
    fire = new_incident(client, "kebakaran")  # DAMKAR, POLRI, PLN
    crash = new_incident(client, "ambulans")  # DINKES only
    damkar = as_role(client, "agency")  # t_damkar
    ids = {i["id"] for i in damkar.get("/api/v1/incidents").get_json()["items"]}
    assert fire["id"] in ids and crash["id"] not in ids
    assert damkar.get(f"/api/v1/incidents/{crash['id']}").status_code == 404
    other = damkar.patch(f"/api/v1/incidents/{fire['id']}/tasks/POLRI", json={"status": "acknowledged"})
    assert other.status_code == 403
    ok = damkar.patch(f"/api/v1/incidents/{fire['id']}/tasks/DAMKAR", json={"status": "acknowledged"})
    assert ok.status_code == 200
    assert {i["id"] for i in damkar.get("/api/v1/queue").get_json()["items"]} == {fire["id"]}
    assert damkar.post("/api/v1/units/803/position", json={"lat": -6.97, "lon": 110.42}).status_code == 403
    assert damkar.post("/api/v1/units/801/position", json={"lat": -6.97, "lon": 110.42}).status_code == 200


def test_session_login_needs_csrf_for_changes(anon, city):
    bad = anon.post("/login", json={"username": "t_dispatcher", "password": "nope"})
    assert bad.status_code == 401 and bad.get_json()["field"] == "password"
    res = anon.post("/login", json={"username": "t_dispatcher", "password": users.password("t_dispatcher")})
    assert res.status_code == 200
    csrf = res.get_json()["csrf_token"]
    assert anon.get("/api/v1/me").get_json()["user"]["role"] == "dispatcher"
    no_token = anon.post("/api/v1/incidents", json={"category": "banjir", **IN_EAST})
    assert no_token.status_code == 403 and no_token.get_json()["field"] == "X-CSRF-Token"
    with_token = anon.post("/api/v1/incidents", json={"category": "banjir", **IN_EAST}, headers={"X-CSRF-Token": csrf})
    assert with_token.status_code == 201
    page = anon.get("/map")
    assert page.status_code == 200 and f'data-csrf="{csrf}"' in page.get_data(as_text=True)
    assert anon.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert anon.get("/api/v1/me").status_code == 401


def test_login_form_redirects_only_within_the_site(anon, city):
    form = {"username": "t_official", "password": users.password("t_official"), "next": "https://evil.example/"}
    res = anon.post("/login", data=form)
    assert res.status_code == 302 and res.headers["Location"] == "/map"
    assert anon.get("/dashboard").status_code == 200
    assert anon.get("/login?next=//evil.example").status_code == 200


def test_login_is_rate_limited(make_app):
    c = make_app(rate_limit_login=3).test_client()
    codes = [c.post("/login", json={"username": "t_admin", "password": "wrong"}).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    res = c.post("/login", json={"username": "t_admin", "password": "wrong"})
    assert res.mimetype == "application/problem+json" and int(res.headers["Retry-After"]) > 0


def test_api_tokens(client, anon, city):
    res = as_role(client, "dispatcher").post("/api/v1/tokens", json={"name": "avl-box-7", "days": 30})
    assert res.status_code == 201
    token = res.get_json()["token"]
    me = anon.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["user"]["username"] == "t_dispatcher"
    assert anon.get("/api/v1/me", headers={"Authorization": "Bearer p112_forged"}).status_code == 401
    assert as_role(client, "dispatcher").post("/api/v1/tokens", json={"days": 0}).get_json()["field"] == "days"


def test_security_headers(client, city):
    res = as_role(client, "dispatcher").get("/map")
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in res.get_data(as_text=True)


@pytest.mark.parametrize("body,field", [
    ({"category": "kebakaran'; DROP TABLE incidents; --", **IN_EAST}, "category"),
    ({"category": "kebakaran", "lat": "-6.97 OR 1=1", "lon": 110.43}, "lat"),
    ({"category": "kebakaran", "lat": float("inf"), "lon": 110.43}, "lat"),
    ({"category": "kebakaran", "lat": True, "lon": 110.43}, "lat"),
    ({"category": "kebakaran", "lat": 110.431, "lon": -6.978}, "lat"),
    ({"category": "kebakaran", "location": {"type": "Point", "coordinates": ["x", 1]}}, "location"),
    ({"category": ["kebakaran"], **IN_EAST}, "category"),
    ({"category": "keba\u0000karan", **IN_EAST}, "category"),
    ({"category": "kebakaran", **IN_EAST, "caller": {"name": "a\u0000b"}}, "caller.name"),
])
def test_hostile_input_is_refused_and_changes_nothing(client, city, body, field):
    before = city.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    raw = json.dumps(body, allow_nan=True)
    res = as_role(client, "call_taker").post("/api/v1/incidents", data=raw, content_type="application/json")
    assert res.status_code == 422 and res.get_json()["field"] == field
    assert city.execute(text("SELECT count(*) FROM incidents")).scalar_one() == before


def test_oversized_body_is_413_problem(client, city):
    res = as_role(client, "call_taker").post("/api/v1/incidents", data="{" + "x" * 2_000_000 + "}",
                                             content_type="application/json")
    assert res.status_code == 413 and res.mimetype == "application/problem+json"


def test_user_and_token_commands(cluster):
    with scratch_database(cluster, "peta112_users") as url:
        env = {**os.environ, "DATABASE_URL": url}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "app.cli_main", *args], capture_output=True, text=True,
                                  env=env, timeout=120)

        made = run("user", "add", "siti", "--role", "agency", "--agency", "damkar", "--password", "Rahasia-Damkar-7")
        assert made.returncode == 0 and "role agency (DAMKAR)" in made.stdout
        dup = run("user", "add", "siti", "--role", "official", "--password", "Rahasia-Damkar-7")
        assert dup.returncode == 1
        assert dup.stderr.strip().splitlines() == ["error: username: user 'siti' already exists"]
        bad = run("user", "add", "budi", "--role", "agency", "--password", "Rahasia-Damkar-7")
        assert bad.returncode == 1 and "agency" in bad.stderr and "Traceback" not in bad.stderr
        tok = run("token", "create", "--user", "siti", "--name", "avl")
        assert tok.returncode == 0 and tok.stdout.startswith("p112_")
        demo = run("user", "demo")
        assert demo.returncode == 0 and "walikota" in demo.stdout
        purge = run("privacy", "purge", "--days", "30")
        assert purge.returncode == 0 and "erased caller name and phone of 0 incident(s)" in purge.stdout


def test_personal_data_retention(session, city):
    from app.services.privacy import purge_personal_data

    city.execute(text("INSERT INTO incidents (category_code, priority, caller_name, caller_phone, received_at, geom) "
                      "VALUES ('banjir', 2, 'Old', '0800', now() - interval '400 days', "
                      "ST_SetSRID(ST_MakePoint(110.43, -6.97), 4326)), "
                      "('banjir', 2, 'New', '0801', now() - interval '2 days', "
                      "ST_SetSRID(ST_MakePoint(110.43, -6.97), 4326))"))
    assert purge_personal_data(session, 365) == 1
    rows = dict(city.execute(text("SELECT caller_phone, caller_name FROM incidents "
                                  "WHERE caller_phone IS NOT NULL OR caller_name IS NOT NULL")).all())
    assert rows == {"0801": "New"}
    purged = city.execute(text("SELECT count(*) FROM incident_events WHERE kind = 'personal_data_purged'"))
    assert purged.scalar_one() == 1
