"""The monthly recap (issue 18): its totals equal the raw tables, as JSON and as CSV."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from app.incidents.lifecycle import INCIDENT_NOT_COUNTED, PRANK_CATEGORY
from tests import tinycity, users

WIB = ZoneInfo("Asia/Jakarta")
START, END = datetime(2026, 10, 1, tzinfo=WIB), datetime(2026, 11, 1, tzinfo=WIB)
DISPOSITIONS = ("incident", "informasi", "salah_sambung", "diam", "iseng", "tes", "diteruskan", None)
CATEGORIES = ("kebakaran", "banjir", "kecelakaan", "pohon_tumbang", "prank")
STATUSES = ("received", "verified", "on_scene", "resolved", "closed", "cancelled", "prank")


@pytest.fixture()
def october(db_conn: Connection):
    tinycity.seed(db_conn)
    rng = random.Random(18)
    times = [START + timedelta(seconds=rng.randrange(int((END - START).total_seconds()))) for _ in range(150)]
    times += [START - timedelta(seconds=1), END, END - timedelta(seconds=1)]  # two edges out, one in
    for at in times:
        d = rng.choice(DISPOSITIONS)
        answered = at + timedelta(seconds=rng.randrange(1, 40)) if d or rng.random() < 0.5 else None
        ended = (answered or at) + timedelta(seconds=rng.randrange(20, 400))
        db_conn.execute(text(
            "INSERT INTO calls (channel, caller_phone, offered_at, answered_at, ended_at, disposition, forwarded_to, "
            "  operator, created_by) VALUES (:ch, '+6281200001111', :o, :a, :e, :d, :f, :op, 'test')"),
            {"ch": rng.choice(("phone", "phone", "chat", "sms", "web")), "o": at, "a": answered, "e": ended,
             "d": d if answered else None, "f": "=PMI+1" if d == "diteruskan" and answered else None,
             "op": "t_operator" if answered else None})
    for i in range(80):
        at = START + timedelta(seconds=rng.randrange(int((END - START).total_seconds())))
        category, status = rng.choice(CATEGORIES), rng.choice(STATUSES)
        on_scene = at + timedelta(seconds=rng.randrange(120, 3600)) if status in ("on_scene", "resolved", "closed") \
            else None
        iid = db_conn.execute(text(
            "INSERT INTO incidents (category_code, status, priority, source, received_at, on_scene_at, is_prank, "
            "  duplicate_of, geom) VALUES (:c, :s, 2, 'phone', :at, :os, :p, NULL, "
            "  ST_SetSRID(ST_MakePoint(110.41, -6.98), 4326)) RETURNING id"),
            {"c": category, "s": status, "at": at, "os": on_scene, "p": i % 17 == 0}).scalar_one()
        db_conn.execute(text("INSERT INTO incident_tasks (incident_id, agency_code, status, forwarded_at, "
                             "acknowledged_at) VALUES (:i, :a, 'acknowledged', :at, :ack)"),
                        {"i": iid, "a": rng.choice(("DAMKAR", "BPBD", "POLRI")), "at": at,
                         "ack": at + timedelta(seconds=rng.randrange(30, 600))})
    return db_conn


def _raw(conn: Connection, sql: str) -> int:
    return conn.execute(text(sql), {"s": START, "e": END, "nc": sorted(INCIDENT_NOT_COUNTED),
                                    "pc": PRANK_CATEGORY}).scalar_one()


def test_monthly_totals_equal_the_raw_tables(client, october):
    res = client.get("/api/v1/reports/monthly?month=2026-10")
    assert res.status_code == 200, res.get_json()
    r = res.get_json()
    calls_in = "FROM calls WHERE offered_at >= :s AND offered_at < :e"
    assert r["calls"]["totals"]["offered"] == _raw(october, f"SELECT count(*) {calls_in}") == 151
    assert r["calls"]["totals"]["answered"] == _raw(october, f"SELECT count(answered_at) {calls_in}")
    assert r["calls"]["totals"]["abandoned"] == _raw(october, f"SELECT count(*) {calls_in} AND answered_at IS NULL")
    assert r["calls"]["totals"]["pranks"] == _raw(october, f"SELECT count(*) {calls_in} AND disposition = 'iseng'")
    for group in ("by_disposition", "by_channel"):
        assert sum(x["count"] for x in r["calls"][group]) == r["calls"]["totals"]["offered"]
    by_disposition = {x["key"]: x["count"] for x in r["calls"]["by_disposition"]}
    assert by_disposition.get("iseng", 0) == r["calls"]["totals"]["pranks"]
    counted = ("FROM incidents WHERE received_at >= :s AND received_at < :e AND NOT is_prank "
               "AND status <> ALL(CAST(:nc AS text[])) AND duplicate_of IS NULL AND category_code <> :pc")
    assert r["incidents"]["totals"]["counted"] == _raw(october, f"SELECT count(*) {counted}") > 0
    assert sum(x["count"] for x in r["incidents"]["by_category"]) == r["incidents"]["totals"]["counted"]
    assert sum(x["count"] for x in r["incidents"]["by_agency"]) == _raw(
        october, f"SELECT count(*) FROM incident_tasks WHERE incident_id IN (SELECT id {counted})")
    assert "prank" not in {x["key"] for x in r["incidents"]["by_category"]}

    # The CSV is the same figures, one per row; a formula-looking name is defused.
    text_csv = client.get("/api/v1/reports/monthly?month=2026-10&format=csv")
    assert text_csv.mimetype == "text/csv" and "peta112-2026-10.csv" in text_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text_csv.get_data(as_text=True))))
    assert list(rows[0]) == ["month", "section", "group", "key", "metric", "value"]
    by = {(x["section"], x["group"], x["key"], x["metric"]): x["value"] for x in rows}
    assert int(by[("calls", "total", "", "offered")]) == 151
    assert sum(int(v) for (s, g, _k, m), v in by.items() if s == "calls" and g == "by_channel" and m == "count") == 151
    assert ("calls", "forwarded_to", "'=PMI+1", "count") in by


def test_month_parameter_and_roles(client):
    for bad in ("2026-13", "26-10", "2026-10-01", "1999-12"):
        res = client.get(f"/api/v1/reports/monthly?month={bad}")
        assert res.status_code == 422 and res.get_json()["field"] == "month"
    assert client.get("/api/v1/reports/monthly?format=xml").get_json()["field"] == "format"
    anon = client.application.test_client()
    for who, ok in (("official", True), ("bpbd", True), ("dispatcher", True), ("call_taker", False),
                    ("agency", False)):
        assert (anon.get("/api/v1/reports/monthly", headers=users.auth(who)).status_code == 200) == ok, who
