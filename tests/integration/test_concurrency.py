"""Races two dispatchers really run into, over real HTTP against real PostgreSQL."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import text


def _parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_dispatchers_same_unit_exactly_one_wins(live_server):
    base = live_server.url
    ids = []
    for lon in (110.431, 110.432):
        r = requests.post(f"{base}/api/v1/incidents", json={"category": "kebakaran", "lat": -6.978, "lon": lon},
                          timeout=30, headers=live_server.headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for round_ in range(5):
        codes = _parallel(2, lambda i: requests.post(
            f"{base}/api/v1/incidents/{ids[i]}/assignments", json={"unit_id": 802}, timeout=30,
            headers=live_server.headers).status_code)
        assert sorted(codes) == [201, 409], (round_, codes)
        with live_server.engine.begin() as conn:
            open_ = conn.execute(text(
                "SELECT count(*) FROM assignments WHERE unit_id = 802 AND released_at IS NULL")).scalar_one()
            assert open_ == 1
            winner = conn.execute(text(
                "SELECT incident_id FROM assignments WHERE unit_id = 802 AND released_at IS NULL")).scalar_one()
            aid = conn.execute(text(
                "SELECT id FROM assignments WHERE unit_id = 802 AND released_at IS NULL")).scalar_one()
        r = requests.delete(f"{base}/api/v1/incidents/{winner}/assignments/{aid}", timeout=30,
                            headers=live_server.headers)
        assert r.status_code == 200


def test_concurrent_retries_with_one_idempotency_key_make_one_incident(live_server):
    base = live_server.url
    body = {"category": "ambulans", "lat": -6.97, "lon": 110.41}
    responses = _parallel(6, lambda i: requests.post(
        f"{base}/api/v1/incidents", json=body, headers={**live_server.headers, "Idempotency-Key": "race-key-1"},
        timeout=30))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.status_code == 201 for r in responses) == 1
    with live_server.engine.begin() as conn:
        n = conn.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key = 'race-key-1'")).scalar_one()
    assert n == 1
