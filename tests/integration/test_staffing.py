"""Operators, shifts and Erlang C staffing (issue 18), from calls planted at known times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from tests import tinycity, users
from tests.unit.test_erlang import reference_agents

WIB = ZoneInfo("Asia/Jakarta")
UNTIL = datetime(2026, 11, 23, 0, 0, tzinfo=WIB)  # a Monday, local midnight


def plant(conn: Connection, offered: datetime, answer_s: float | None, handle_s: float | None,
          operator: str | None = "t_operator", disposition: str | None = "informasi") -> None:
    answered = offered + timedelta(seconds=answer_s) if answer_s is not None else None
    ended = (answered + timedelta(seconds=handle_s)) if answered and handle_s is not None else \
        (offered + timedelta(seconds=30) if answered is None else None)
    conn.execute(text("INSERT INTO calls (caller_phone, operator, offered_at, answered_at, ended_at, disposition, "
                      "created_by) VALUES ('+628120000000', :op, :o, :a, :e, :d, 'test')"),
                 {"op": operator if answered else None, "o": offered, "a": answered, "e": ended,
                  "d": disposition if answered else None})


@pytest.fixture()
def planted(db_conn: Connection):
    # Two Mondays, 10:00-11:00 local: 30 calls each, answered in 4 s, 120 s of talk.
    for week in (1, 2):
        start = UNTIL - timedelta(weeks=week) + timedelta(hours=10)
        for i in range(30):
            plant(db_conn, start + timedelta(minutes=2 * i), 4, 120)
    # One Tuesday night call (malam shift of Tuesday) that was abandoned.
    plant(db_conn, UNTIL - timedelta(days=6) + timedelta(hours=23, minutes=30), None, None)
    return db_conn


def test_staffing_recommends_the_reference_erlang_c_figure(client, planted):
    res = client.get(f"/api/v1/analytics/staffing?weeks=2&until={UNTIL.isoformat().replace('+', '%2B')}")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["totals"]["offered"] == 61 and body["totals"]["abandoned"] == 1 and body["totals"]["answered"] == 60
    assert len(body["hours"]) == 7 * 24
    monday10 = next(h for h in body["hours"] if h["dow"] == 1 and h["hour"] == 10)
    assert monday10["offered"] == 60 and monday10["calls_per_hour"] == 30 and monday10["aht_s"] == 120
    assert monday10["measured_service_level"] == 1.0 and monday10["operators_seen"] == 1
    rec = monday10["recommended"]
    assert rec["agents"] == reference_agents(30, 120, 0.9, 10) and rec["erlangs"] == 1.0
    assert rec["scheduled"] == -(-rec["agents"] * 10 // 7)  # 30 % shrinkage
    assert body["peak"]["hour"] == 10
    quiet = next(h for h in body["hours"] if h["dow"] == 3 and h["hour"] == 4)
    assert quiet["offered"] == 0 and quiet["recommended"]["agents"] == 1  # 112 is never unstaffed
    stricter = client.get(f"/api/v1/analytics/staffing?weeks=2&service_level=0.99&answer_within_s=5"
                          f"&until={UNTIL.isoformat().replace('+', '%2B')}").get_json()
    monday10b = next(h for h in stricter["hours"] if h["dow"] == 1 and h["hour"] == 10)
    assert monday10b["recommended"]["agents"] == reference_agents(30, 120, 0.99, 5) >= rec["agents"]


def test_operators_per_shift_and_per_operator(client, planted, db_conn: Connection):
    since = (UNTIL - timedelta(weeks=1)).isoformat().replace("+", "%2B")
    res = client.get(f"/api/v1/analytics/operators?since={since}&until={UNTIL.isoformat().replace('+', '%2B')}")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    pagi = next(s for s in body["shifts"] if s["shift"] == "pagi")
    assert pagi["shift_date"] == "2026-11-16" and pagi["offered"] == 30 and pagi["answered"] == 30
    assert pagi["asa_s"] == 4 and pagi["aht_s"] == 120 and pagi["operators"] == 1
    malam = next(s for s in body["shifts"] if s["shift"] == "malam")
    assert malam["shift_date"] == "2026-11-17" and malam["abandoned"] == 1 and malam["answered"] == 0
    [op] = body["operators"]
    assert op["operator"] == "t_operator" and op["answered"] == 30 and op["talk_s"] == 3600


def test_incidents_created_per_operator(client, db_conn: Connection):
    tinycity.seed(db_conn)
    desk = client.application.test_client()
    res = desk.post("/api/v1/incidents?recommend=0", json={"category": "kebakaran", "lat": -6.9876, "lon": 110.4123},
                    headers=users.auth("call_taker"))
    assert res.status_code == 201
    plant(db_conn, datetime.now(UTC) - timedelta(minutes=5), 3, 60, disposition="incident")
    body = client.get("/api/v1/analytics/operators?since=" +
                      (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+", "%2B")).get_json()
    [op] = body["operators"]
    assert op["operator"] == "t_operator" and op["incidents_created"] == 1


@pytest.mark.parametrize(("query", "field"), [
    ("weeks=0", "weeks"), ("weeks=53", "weeks"), ("service_level=1", "service_level"),
    ("answer_within_s=NaN", "answer_within_s"), ("until=0001-01-01T00:00:00Z", "until"),
    ("until=2999-01-01T00:00:00Z", "until"), ("shrinkage=0.95", "shrinkage"), ("until=soon", "until"),
])
def test_hostile_staffing_parameters_are_422(client, query, field):
    res = client.get(f"/api/v1/analytics/staffing?{query}")
    assert res.status_code == 422 and res.get_json()["field"] == field


def test_who_sees_staffing_and_operators(client):
    anon = client.application.test_client()
    for who, staffing_ok, operators_ok in (("official", True, False), ("bpbd", True, False),
                                           ("dispatcher", True, True), ("call_taker", False, False),
                                           ("agency", False, False)):
        assert (anon.get("/api/v1/analytics/staffing", headers=users.auth(who)).status_code == 200) == staffing_ok
        assert (anon.get("/api/v1/analytics/operators", headers=users.auth(who)).status_code == 200) == operators_ok
