"""Live updates: the 0004 triggers NOTIFY on commit and /api/v1/stream relays them as SSE."""

from __future__ import annotations

import json

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import Engine, text

from app.incidents.viewer import Viewer
from app.web.stream import libpq_conninfo, relay, sse
from tests import users


def test_sse_message_format():
    assert sse("incident", '{"id": 1}') == 'event: incident\ndata: {"id": 1}\n\n'
    assert sse(None, "x") == "data: x\n\n"


def test_conninfo_drops_the_driver_suffix():
    url = "postgresql+psycopg://postgres@/peta112?host=/tmp/run&port=5432"
    info = conninfo_to_dict(libpq_conninfo(url))
    assert info == {"user": "postgres", "dbname": "peta112", "host": "/tmp/run", "port": "5432"}


def test_committed_unit_change_is_relayed_and_rollback_is_not(engine: Engine, test_db_url: str):
    gen = relay(libpq_conninfo(test_db_url), Viewer("dispatcher"), max_s=10, heartbeat_s=0.5)
    try:
        assert next(gen).startswith("retry: ")  # LISTEN is active from here on
        with engine.connect() as conn:  # rolled back: nothing may leak to listeners
            conn.execute(text("INSERT INTO units (agency_code, callsign, unit_type) "
                              "VALUES ('DAMKAR', 'T-STREAM-ROLLBACK', 'fire_engine')"))
            conn.rollback()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO units (agency_code, callsign, unit_type, geom) VALUES "
                              "('DAMKAR', 'T-STREAM-1', 'fire_engine', ST_SetSRID(ST_MakePoint(110.4, -6.9), 4326))"))
        msg = next(m for m in gen if not m.startswith(":"))
        assert msg.startswith("event: unit\ndata: ")
        data = json.loads(msg.split("data: ", 1)[1])
        assert data["callsign"] == "T-STREAM-1" and data["op"] == "insert"
        assert data["lat"] == -6.9 and data["lon"] == 110.4 and data["status"] == "available"
    finally:
        gen.close()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM units WHERE callsign LIKE 'T-STREAM-%'"))


def test_stream_endpoint_answers_event_stream(app):
    with users.signed_in(app.test_client()).get("/api/v1/stream") as resp:
        assert resp.status_code == 200
        assert resp.mimetype == "text/event-stream"
        assert {d.strip() for d in resp.headers["Cache-Control"].split(",")} == {"no-cache", "private"}
        first = next(iter(resp.response))
        assert (first if isinstance(first, bytes) else first.encode()).startswith(b"retry: ")
