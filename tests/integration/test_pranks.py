"""Prank callers (issue 18): repeat numbers, a reviewed and audited block-list, prank rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from tests import tinycity, users

PRANKSTER = "+6281299990001"


def plant_call(conn: Connection, phone: str, disposition: str | None, ago: timedelta, kelurahan: int | None = None):
    at = datetime.now(UTC) - ago
    conn.execute(text("INSERT INTO calls (caller_phone, offered_at, answered_at, ended_at, disposition, operator, "
                      "kelurahan_id, created_by) VALUES (:p, :o, :o, :o, :d, 't_operator', :k, 'test')"),
                 {"p": phone, "o": at, "d": disposition, "k": kelurahan})


@pytest.fixture()
def pranksters(db_conn: Connection):
    tinycity.seed(db_conn)
    for i in range(3):
        plant_call(db_conn, PRANKSTER, "iseng", timedelta(days=i + 1), 9002)
    plant_call(db_conn, PRANKSTER, "informasi", timedelta(days=2), 9002)
    # A prank incident filed under the same number, typed nationally.
    db_conn.execute(text("INSERT INTO incidents (category_code, status, priority, source, caller_phone, is_prank, "
                         "received_at, geom) VALUES ('prank', 'prank', 5, 'phone', '081299990001', true, "
                         "now() - interval '3 days', ST_SetSRID(ST_MakePoint(110.41, -6.98), 4326))"))
    plant_call(db_conn, "+6281200000005", "iseng", timedelta(days=1), 9003)  # once is not a pattern
    plant_call(db_conn, "+6281200000006", "informasi", timedelta(hours=5), 9003)
    return db_conn


def test_repeat_numbers_are_recommended_and_a_supervisor_decides(client, pranksters):
    desk = client.application.test_client()
    listed = desk.get("/api/v1/pranks", headers=users.auth("call_taker")).get_json()
    [item] = listed["items"]
    assert item["caller_phone"] == PRANKSTER and item["prank_calls"] == 3 and item["prank_incidents"] == 1
    assert item["pranks"] == 4 and item["recommended"] is True and item["blocklisted"] is False
    # A call-taker may not decide; a supervisor must give a reason.
    body = {"caller_phone": "0812-9999-0001", "decision": "approved", "note": "4 telepon iseng dalam 3 hari"}
    assert desk.post("/api/v1/pranks/reviews", json=body, headers=users.auth("call_taker")).status_code == 403
    short = desk.post("/api/v1/pranks/reviews", json={**body, "note": "iseng"}, headers=users.auth("dispatcher"))
    assert short.status_code == 422 and short.get_json()["field"] == "note"
    res = desk.post("/api/v1/pranks/reviews", json=body, headers=users.auth("dispatcher"))
    assert res.status_code == 201, res.get_json()
    review = res.get_json()
    assert review["actor"] == "t_dispatcher" and review["evidence"]["pranks"] == 4
    blocklist = desk.get("/api/v1/pranks/blocklist", headers=users.auth("dispatcher")).get_json()["items"]
    assert [b["caller_phone"] for b in blocklist] == [PRANKSTER]
    # The ring-time history says so; a listed number still rings through (nothing blocks 112).
    pbx = desk.post("/api/v1/calls/events", json={"event": "ring", "call_id": "PR-1", "from": PRANKSTER},
                    headers=users.auth("call_taker"))
    assert pbx.status_code == 201
    popped = desk.get(pbx.get_json()["call"], headers=users.auth("call_taker")).get_json()
    assert popped["history"]["blocklist"]["decision"] == "approved" and popped["history"]["prank_suspect"]
    # Lifting is another audited decision; the trail cannot be rewritten.
    lift = desk.post("/api/v1/pranks/reviews", json={**body, "decision": "lifted", "note": "pemilik nomor berganti"},
                     headers=users.auth("admin"))
    assert lift.status_code == 201
    assert desk.get("/api/v1/pranks/blocklist", headers=users.auth("admin")).get_json()["items"] == []
    with pytest.raises(Exception, match="append-only"):
        pranksters.execute(text("UPDATE prank_reviews SET note = 'x'"))


def test_a_number_with_few_pranks_cannot_be_listed(client, pranksters):
    res = client.post("/api/v1/pranks/reviews", json={"caller_phone": "+6281200000005", "decision": "approved",
                                                      "note": "sekali iseng saja kemarin"})
    assert res.status_code == 422 and res.get_json()["field"] == "decision"
    res = client.post("/api/v1/pranks/reviews", json={"caller_phone": "+6281200000005", "decision": "lifted",
                                                      "note": "tidak pernah masuk daftar"})
    assert res.status_code == 422
    for bad, field in (({"decision": "approved", "note": "x" * 20}, "caller_phone"),
                       ({"caller_phone": PRANKSTER, "decision": "block", "note": "x" * 20}, "decision"),
                       ({"caller_phone": PRANKSTER, "decision": "approved", "note": 5}, "note")):
        res = client.post("/api/v1/pranks/reviews", json=bad)
        assert res.status_code == 422 and res.get_json()["field"] == field


def test_prank_rate_by_hour_and_kelurahan(client, pranksters):
    body = client.get("/api/v1/analytics/pranks?since=" +
                      (datetime.now(UTC) - timedelta(days=10)).isoformat().replace("+", "%2B")).get_json()
    assert sum(h["calls"] for h in body["by_hour"]) == 6 and sum(h["pranks"] for h in body["by_hour"]) == 4
    kel = {k["code"]: k for k in body["by_kelurahan"]}
    assert kel["KL-S"]["calls"] == 4 and kel["KL-S"]["pranks"] == 3 and kel["KL-S"]["rate"] == 0.75
    assert kel["KL-T"]["rate"] == 0.5
    assert "caller_phone" not in str(body) and PRANKSTER not in str(body)


def test_who_sees_prank_numbers(client, pranksters):
    anon = client.application.test_client()
    for who, numbers_ok, rates_ok in (("official", False, True), ("bpbd", False, True), ("agency", False, False),
                                      ("call_taker", True, False), ("dispatcher", True, True)):
        assert (anon.get("/api/v1/pranks", headers=users.auth(who)).status_code == 200) == numbers_ok, who
        assert (anon.get("/api/v1/analytics/pranks", headers=users.auth(who)).status_code == 200) == rates_ok, who
    assert anon.get("/api/v1/pranks").status_code == 401
