"""Live updates: the 0004 triggers NOTIFY on commit and /api/v1/stream relays them as SSE."""

from __future__ import annotations

import http.client
import json

import requests
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


class SSEClient:
    """A plain HTTP client of /api/v1/stream on the live server, reading one message at a time."""

    def __init__(self, base_url: str, who: str):
        host, port = base_url.removeprefix("http://").split(":")
        # The timeout only keeps a broken stream from hanging the suite; nothing here is timed.
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.conn.request("GET", "/api/v1/stream", headers={**users.auth(who), "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200 and self.resp.getheader("Content-Type").startswith("text/event-stream")
        self.raw: list[str] = []

    def message(self) -> tuple[str | None, str]:
        """The next message (event, data); comment-only blocks such as keep-alives are skipped."""
        event, data = None, []
        while True:
            line = self.resp.fp.readline().decode()
            assert line, "the stream ended"
            self.raw.append(line)
            line = line.rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("retry: "):
                event = "retry"
            elif line == "" and (event or data):
                return event, "\n".join(data)

    def incident_ids_until(self, wanted: int) -> list[int]:
        """Ids of incident events received, up to and including ``wanted``."""
        seen = []
        while not seen or seen[-1] != wanted:
            event, data = self.message()
            if event == "incident":
                seen.append(json.loads(data)["id"])
        return seen

    def close(self) -> None:
        self.conn.close()


def test_an_agency_receives_only_events_of_incidents_it_may_see(live_server):
    """POLRI's stream skips a DAMKAR-only call that the dispatcher's stream carries; no stream carries a phone."""
    streams = {who: SSEClient(live_server.url, who) for who in ("t_polri", "dispatcher", "t_damkar")}
    logged: list[dict] = []
    try:
        for s in streams.values():
            assert s.message()[0] == "retry"  # LISTEN is active from here on
        for body in ({"category": "sarang_tawon", "lat": -6.9631, "lon": 110.4031,  # DAMKAR only
                      "caller_phone": "0812-7777-0142", "caller_name": "Pak Harun"},
                     {"category": "kriminal", "lat": -6.9633, "lon": 110.4391}):  # POLRI
            res = requests.post(f"{live_server.url}/api/v1/incidents", json=body, timeout=60,
                                headers=users.auth("dispatcher"))
            assert res.status_code == 201, res.text
            logged.append(res.json())
        wasp, crime = (inc["id"] for inc in logged)
        assert [t["agency"] for t in logged[0]["tasks"]] == ["DAMKAR"]
        assert wasp not in streams["t_polri"].incident_ids_until(crime)
        assert wasp in streams["dispatcher"].incident_ids_until(crime)
        assert wasp in streams["t_damkar"].incident_ids_until(wasp)
        for who, s in streams.items():
            assert not any("081277770142" in line or "Harun" in line for line in s.raw), who
    finally:
        for s in streams.values():
            s.close()
        for inc in logged:
            requests.patch(f"{live_server.url}/api/v1/incidents/{inc['id']}", json={"status": "cancelled"},
                           timeout=60, headers=users.auth("dispatcher"))


def test_stream_ends_when_its_credential_does(test_db_url: str):
    """A stream outliving its session or token (logout, disabled user, revoked token) says so and ends."""
    answers = iter([True, False])
    gen = relay(libpq_conninfo(test_db_url), Viewer("dispatcher"), max_s=30, heartbeat_s=0.1,
                still_valid=lambda: next(answers), recheck_s=0)
    msgs = list(gen)  # ends by itself, well before max_s
    assert msgs[0].startswith("retry: ") and msgs[-1] == sse("signed_out", "{}")


def test_credential_check_follows_token_revocation(app, db_conn):
    from app.web.auth import credential_check

    with app.test_request_context("/api/v1/stream", headers=users.auth("official")):
        still_valid = credential_check()
    assert still_valid()
    db_conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE prefix = :p"),
                    {"p": users.token("t_official")[:12]})
    assert not still_valid()


def test_credential_check_of_a_request_without_credentials_is_false(app):
    from app.web.auth import credential_check

    with app.test_request_context("/api/v1/stream"):
        assert credential_check()() is False
