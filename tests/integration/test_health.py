"""/healthz tells anyone only up or down; /api/v1/health gives admins versions, revision and counts."""

from tests import users


def test_healthz_says_only_ok_to_anyone(anon):
    res = anon.get("/healthz")
    assert res.status_code == 200
    assert res.get_json() == {"status": "ok"}


def test_details_are_for_admins(client, anon):
    res = client.get("/api/v1/health")
    assert res.status_code == 200
    db = res.get_json()["database"]
    assert db["reachable"] is True
    assert db["postgis"].startswith("3.")
    assert db["pgrouting"].startswith("3.")
    assert db["counts"]["agencies"] == 12
    assert db["counts"]["incident_categories"] >= 19
    assert anon.get("/api/v1/health").status_code == 401
    for role in ("dispatcher", "official"):
        assert client.get("/api/v1/health", headers=users.auth(role)).status_code == 403


def test_healthz_when_database_is_unreachable(settings):
    from app import create_app

    app = create_app(settings, database_url="postgresql+psycopg://x@/nodb?host=/nonexistent")
    res = app.test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json() == {"status": "down"}


def test_unknown_url_is_problem_details(client):
    res = client.get("/no/such/page")
    assert res.status_code == 404
    assert res.headers["Content-Type"] == "application/problem+json"
    assert res.get_json()["status"] == 404
