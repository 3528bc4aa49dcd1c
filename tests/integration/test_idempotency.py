"""Idempotency-Key done right: a retry replays, a different request under a used key is refused, never lost.

Issue 14: a fire reported with a key first used for a street light was answered with the
street-light incident and never stored.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.services import dispatch
from tests import tinycity
from tests.apps import joined_app

LIGHT = {"category": "pju_mati", "lat": -6.98, "lon": 110.41, "description": "Lampu jalan mati"}
FIRE = {"category": "kebakaran", "lat": -6.978, "lon": 110.431, "description": "Rumah terbakar"}


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    return db_conn


def _post(client, body, key):
    return client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": key})


def test_same_key_different_call_is_refused_and_not_lost(client, city):
    first = _post(client, LIGHT, "K")
    assert first.status_code == 201
    fire = _post(client, FIRE, "K")
    assert fire.status_code == 422 and fire.mimetype == "application/problem+json"
    problem = fire.get_json()
    assert problem["field"] == "Idempotency-Key"
    assert "different request" in problem["detail"] and "not stored" in problem["detail"]
    rows = city.execute(text("SELECT id, category_code FROM incidents ORDER BY id")).all()
    assert [(r.id, r.category_code) for r in rows] == [(first.get_json()["id"], "pju_mati")]  # the first remains
    again = _post(client, FIRE, "K2")  # the client, told, sends the fire under a new key
    assert again.status_code == 201 and again.get_json()["category"] == "kebakaran"


def test_same_key_same_call_replays_even_when_formatted_differently(client, city):
    first = _post(client, LIGHT, "R")
    retry = _post(client, {**LIGHT, "description": "  Lampu jalan mati "}, "R")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.get_json()["id"] == first.get_json()["id"]
    by_body_field = client.post("/api/v1/incidents", json={**FIRE, "idempotency_key": "R"})
    assert by_body_field.status_code == 422 and by_body_field.get_json()["field"] == "Idempotency-Key"


def test_fingerprint_is_stored_and_rows_without_one_keep_the_old_behaviour(client, city):
    first = _post(client, LIGHT, "F")
    fp = city.execute(text("SELECT idempotency_fingerprint FROM incidents WHERE id = :i"),
                      {"i": first.get_json()["id"]}).scalar_one()
    assert len(fp) == 64 and int(fp, 16) >= 0
    old = city.execute(text(
        "INSERT INTO incidents (category_code, priority, source, idempotency_key, geom) "
        "VALUES ('pju_mati', 5, 'phone', 'legacy', ST_SetSRID(ST_MakePoint(110.41, -6.98), 4326)) RETURNING id"
    )).scalar_one()
    replay = _post(client, FIRE, "legacy")
    assert replay.status_code == 200 and replay.get_json()["id"] == old


def test_open311_post_with_a_used_key_is_told(settings, db_conn):
    tinycity.seed(db_conn)
    with joined_app(settings, db_conn, open311_keys=("k1",)) as application:
        c = application.test_client()  # anonymous: the api_key is the credential
        form = {"api_key": "k1", "service_code": "pju_mati", "lat": "-6.98", "long": "110.41"}
        first = c.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "O"})
        replay = c.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "O"})
        other = c.post("/open311/v2/requests.json", data={**form, "service_code": "kebakaran"},
                       headers={"Idempotency-Key": "O"})
    assert (first.status_code, replay.status_code, other.status_code) == (201, 200, 400)
    assert other.get_json()[0]["description"].startswith("Idempotency-Key: ")
    n = db_conn.execute(text("SELECT count(*) FROM incidents WHERE category_code = 'kebakaran'")).scalar_one()
    assert n == 0


def test_fingerprint_ignores_geocoded_coordinates_and_whitespace():
    cat = {"code": "pju_mati"}
    base = {"category": cat, "lat": -6.98, "lon": 110.41, "address": None, "caller_name": None,
            "caller_phone": "0811", "description": "x", "source": "phone", "geocoded": None}
    assert dispatch.fingerprint(base) == dispatch.fingerprint(dict(base))
    assert dispatch.fingerprint(base) != dispatch.fingerprint({**base, "category": {"code": "kebakaran"}})
    geocoded = {**base, "address": "Jl. Merdeka", "geocoded": {"lat": 1.0}}
    assert dispatch.fingerprint(geocoded) == dispatch.fingerprint({**geocoded, "lat": 2.0, "lon": 3.0})
