def test_healthz_reports_postgis_pgrouting_and_counts(client):
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.get_json()
    db = body["database"]
    assert db["reachable"] is True
    assert db["postgis"].startswith("3.")
    assert db["pgrouting"].startswith("3.")
    assert db["counts"]["agencies"] == 12
    assert db["counts"]["incident_categories"] >= 19


def test_healthz_when_database_is_unreachable(settings):
    from app import create_app

    app = create_app(settings, database_url="postgresql+psycopg://x@/nodb?host=/nonexistent")
    res = app.test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json()["database"]["reachable"] is False


def test_unknown_url_is_problem_details(client):
    res = client.get("/no/such/page")
    assert res.status_code == 404
    assert res.headers["Content-Type"] == "application/problem+json"
    assert res.get_json()["status"] == 404
