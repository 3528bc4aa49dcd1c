"""Analytics run under a statement timeout (503 + Retry-After) and a per-user concurrency limit (429).

Issue 14: an official could run 14-22 s analytics queries back to back with no limit.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from app import create_app
from app.web.analytics_limits import Slots
from tests import tinycity, users
from tests.apps import request_session_factory

CLUSTERS = "/api/v1/analytics/clusters?category=kebakaran&min_points=3&eps_m=300"


@pytest.fixture()
def city(db_conn):
    """The tiny city with 4,000 fires in the last week: DBSCAN over them takes well over a millisecond."""
    tinycity.seed(db_conn)
    db_conn.execute(text(
        "INSERT INTO incidents (category_code, priority, source, received_at, geom) "
        "SELECT 'kebakaran', 1, 'phone', now() - make_interval(mins => g), "
        "       ST_SetSRID(ST_MakePoint(110.40 + (g % 97) * 0.0004, -7.0 + (g % 89) * 0.00045), 4326) "
        "FROM generate_series(1, 4000) g"))
    return db_conn


def _app(settings, db_conn, **overrides):
    application = create_app(settings.with_overrides(**overrides))
    application.extensions["peta112.session_factory"] = request_session_factory(db_conn)
    return application


def test_slow_analytics_query_is_stopped_with_503_and_retry_after(settings, city):
    app = _app(settings, city, analytics_timeout_s=0.001)
    try:
        res = app.test_client().get(CLUSTERS, headers=users.auth("official"))
        assert res.status_code == 503, res.get_data(as_text=True)[:300]
        assert res.mimetype == "application/problem+json"
        assert int(res.headers["Retry-After"]) > 0
        assert "longer than 0.001 s" in res.get_json()["detail"]
        # the timeout is local to that request's transaction: other requests run normally
        assert app.test_client().get("/api/v1/incidents?limit=1", headers=users.auth("official")).status_code == 200
    finally:
        app.extensions["peta112.engine"].dispose()
    app = _app(settings, city)  # the default 10 s is plenty
    try:
        ok = app.test_client().get(CLUSTERS, headers=users.auth("official"))
        assert ok.status_code == 200 and ok.get_json()["features"]
    finally:
        app.extensions["peta112.engine"].dispose()


def test_statement_timeout_is_set_only_for_analytics(settings, city):
    app = _app(settings, city, analytics_timeout_s=0.25)
    try:
        client = app.test_client()
        seen = {}

        @app.after_request
        def _record(resp):
            from app.db import get_session

            seen[resp.status_code] = get_session().execute(text("SHOW statement_timeout")).scalar_one()
            return resp

        assert client.get("/api/v1/analytics/trends", headers=users.auth("official")).status_code == 200
        assert seen.pop(200) == "250ms"
        assert client.get("/api/v1/queue", headers=users.auth("official")).status_code == 200
        assert seen.pop(200) == "0"
    finally:
        app.extensions["peta112.engine"].dispose()


def test_one_more_than_the_concurrent_analytics_requests_of_a_user_is_429(settings, city):
    app = _app(settings, city)
    try:
        slots: Slots = app.extensions["peta112.analytics_slots"]
        official = city.execute(text("SELECT id FROM users WHERE username = 't_official'")).scalar_one()
        key = ("user", official)
        assert all(slots.acquire(key) for _ in range(slots.per_key))  # the user's requests fill every slot
        client = app.test_client()
        busy = client.get("/api/v1/analytics/trends", headers=users.auth("official"))
        assert busy.status_code == 429 and busy.mimetype == "application/problem+json"
        assert int(busy.headers["Retry-After"]) > 0
        other = client.get("/api/v1/analytics/trends", headers=users.auth("dispatcher"))
        assert other.status_code == 200  # the limit is per user
        assert client.get("/api/v1/incidents?limit=1", headers=users.auth("official")).status_code == 200
        slots.release(key)
        assert client.get("/api/v1/analytics/trends", headers=users.auth("official")).status_code == 200
        assert slots.held(key) == slots.per_key - 1  # the request gave its slot back, even after an error
        client.get("/api/v1/analytics/trends?since=not-a-date", headers=users.auth("official"))
        assert slots.held(key) == slots.per_key - 1
    finally:
        app.extensions["peta112.engine"].dispose()


def test_slots_under_threads():
    slots = Slots(2)
    got: list[bool] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        got.append(slots.acquire("u"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [False] * 6 + [True] * 2
    slots.release("u")
    assert slots.acquire("u") and not slots.acquire("u")
    assert slots.acquire("v")
