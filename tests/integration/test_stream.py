"""Live updates: the triggers NOTIFY on commit, the process's hub scopes each change once and
/api/v1/stream relays it as SSE, with the incident's summary, to the readers who may see it."""

from __future__ import annotations

import http.client
import json

import pytest
import requests
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import Engine, text

from app.db.engine import make_engine
from app.incidents.viewer import Viewer
from app.live.hub import Hub, ThreadStream, libpq_conninfo, sse
from app.web.stream import relay
from tests import users


@pytest.fixture()
def hub(test_db_url: str):
    h = Hub(make_engine(test_db_url, app_role=True, pool_size=1, max_overflow=0), libpq_conninfo(test_db_url))
    h.start()
    assert h.ready.wait(30)
    yield h
    h.stop()


def test_sse_message_format():
    assert sse("incident", '{"id": 1}') == b'event: incident\ndata: {"id": 1}\n\n'
    assert sse(None, "x") == b"data: x\n\n"
    assert sse("unit", b"{}", "ab12cd-7") == b"id: ab12cd-7\nevent: unit\ndata: {}\n\n"


def test_conninfo_drops_the_driver_suffix():
    url = "postgresql+psycopg://postgres@/peta112?host=/tmp/run&port=5432"
    info = conninfo_to_dict(libpq_conninfo(url))
    assert info == {"user": "postgres", "dbname": "peta112", "host": "/tmp/run", "port": "5432"}


def _messages(gen, n: int) -> list[bytes]:
    """The next ``n`` non-comment chunks of a relay generator."""
    out: list[bytes] = []
    for chunk in gen:
        if not chunk.startswith(b":"):
            out.append(chunk)
        if len(out) == n:
            return out
    return out


def test_committed_unit_change_is_relayed_and_rollback_is_not(hub: Hub, engine: Engine):
    gen = relay(hub, Viewer("dispatcher"), max_s=10, heartbeat_s=0.5)
    try:
        assert next(gen).startswith(b"retry: ")  # attached from here on
        with engine.connect() as conn:  # rolled back: nothing may leak to listeners
            conn.execute(text("INSERT INTO units (agency_code, callsign, unit_type) "
                              "VALUES ('DAMKAR', 'T-STREAM-ROLLBACK', 'fire_engine')"))
            conn.rollback()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO units (agency_code, callsign, unit_type, geom) VALUES "
                              "('DAMKAR', 'T-STREAM-1', 'fire_engine', ST_SetSRID(ST_MakePoint(110.4, -6.9), 4326))"))
        (msg,) = _messages(gen, 1)
        assert msg.startswith(f"id: {hub.boot}-".encode()) and b"\nevent: unit\ndata: " in msg
        data = json.loads(msg.split(b"data: ", 1)[1])
        assert data["callsign"] == "T-STREAM-1" and data["op"] == "insert"
        assert data["lat"] == -6.9 and data["lon"] == 110.4 and data["status"] == "available"
    finally:
        gen.close()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM units WHERE callsign LIKE 'T-STREAM-%'"))


def _incident(conn, category: str, agency: str | None, phone: str = "0812-5555-0199") -> int:
    iid = conn.execute(text(
        "INSERT INTO incidents (category_code, priority, caller_name, caller_phone, description, geom) "
        "VALUES (:c, 3, 'Bu Sari', :p, 'uji siaran', ST_SetSRID(ST_MakePoint(110.42, -6.97), 4326)) RETURNING id"),
        {"c": category, "p": phone}).scalar_one()
    if agency:
        conn.execute(text("INSERT INTO incident_tasks (incident_id, agency_code) VALUES (:i, :a)"),
                     {"i": iid, "a": agency})
    return iid


def test_incident_event_carries_the_summary_for_those_who_may_see_it(hub: Hub, engine: Engine):
    """One batch, scoped once: DAMKAR and the desk get the summary (tasks, lifecycle, no caller), POLRI nothing."""
    streams = {who: ThreadStream(key) for who, key in
               (("damkar", "agency:DAMKAR"), ("polri", "agency:POLRI"), ("desk", "dispatcher:"))}
    viewers = {"damkar": Viewer("agency", "DAMKAR"), "polri": Viewer("agency", "POLRI"), "desk": Viewer("dispatcher")}
    for who, s in streams.items():
        hub.attach(s, viewers[who])
    ids: list[int] = []
    try:
        with engine.begin() as conn:
            ids.append(_incident(conn, "sarang_tawon", "DAMKAR"))
        got = {who: b"".join(s.take(30)) for who, s in streams.items() if who != "polri"}
        for who, raw in got.items():
            assert raw.count(b"event: incident") == 1, who
            data = json.loads(raw.split(b"data: ", 1)[1])
            assert data["id"] == ids[0] and data["op"] == "insert"
            inc = data["incident"]
            assert inc["category"] == "sarang_tawon" and inc["is_open"] is True and inc["lat"] == -6.97
            assert [t["agency"] for t in inc["tasks"]] == ["DAMKAR"] and inc["assignments"] == []
            assert "caller" not in inc and b"5555" not in raw and b"Sari" not in raw
        assert streams["polri"].take(0.5) == []
    finally:
        for s in streams.values():
            hub.detach(s)
        with engine.begin() as conn:
            conn.execute(text("UPDATE incidents SET status = 'cancelled' WHERE id = ANY(:i)"), {"i": ids})


def test_last_event_id_replays_what_was_missed_and_a_foreign_id_asks_to_reload(hub: Hub):
    unit = json.dumps({"table": "units", "op": "update", "id": 1, "status": "available"})
    first = hub.handle([unit])[0]
    missed = hub.handle([unit, unit])
    viewer = Viewer("official")
    s = ThreadStream("official:")
    got = hub.attach(s, viewer, f"{hub.boot}-{first.seq}")
    assert not got.resync and [e.seq for e in got.replay] == [e.seq for e in missed]
    assert s.take(0) == [e.message for e in missed]
    hub.detach(s)
    assert hub.attach(ThreadStream("official:"), viewer, f"{hub.boot}-{missed[-1].seq}").replay == []
    assert hub.attach(ThreadStream("official:"), viewer, "zzzzzz-3").resync  # another process, or restarted
    assert hub.attach(ThreadStream("official:"), viewer, "garbage").resync


def test_a_process_with_no_map_open_does_not_scope_and_an_older_id_reloads(hub: Hub, engine: Engine):
    """The listening thread's batches are not read from the database while the process has no stream
    (nor had one in the last RESUME_S); a map that comes back with an id from before is told to reload,
    and once a stream is open changes are scoped again."""
    unit = json.dumps({"table": "units", "op": "update", "id": 1, "status": "available"})
    before = hub.handle([unit])[0]
    with engine.begin() as conn:
        iid = _incident(conn, "sarang_tawon", "DAMKAR")
    change = json.dumps({"table": "incidents", "op": "insert", "id": iid, "status": "received",
                         "category": "sarang_tawon"})
    s = ThreadStream("official:")
    try:
        skipped = hub.skipped_batches
        assert [e.name for e in hub.handle([change, unit], only_if_watched=True)] == ["unit"]
        assert hub.skipped_batches > skipped
        got = hub.attach(s, Viewer("official"), f"{hub.boot}-{before.seq}")
        assert got.resync and got.replay == []
        (event,) = hub.handle([change], only_if_watched=True)
        assert event.name == "incident" and json.loads(event.message.split(b"data: ", 1)[1])["incident"]["id"] == iid
        hub.detach(s)  # a map that just closed may reconnect: its process keeps scoping meanwhile
        assert [e.name for e in hub.handle([change], only_if_watched=True)] == ["incident"]
    finally:
        hub.detach(s)
        with engine.begin() as conn:
            conn.execute(text("UPDATE incidents SET status = 'cancelled' WHERE id = :i"), {"i": iid})


def test_a_slow_client_is_dropped_and_the_others_get_everything(hub: Hub):
    unit = json.dumps({"table": "units", "op": "update", "id": 1, "status": "available"})
    slow, fast = ThreadStream("official:", limit=3), ThreadStream("official:", limit=1000)
    hub.attach(slow, Viewer("official"))
    hub.attach(fast, Viewer("official"))
    try:
        for _ in range(5):
            hub.handle([unit])
        assert slow.dropped and slow.take(0) == []
        assert len(fast.take(0)) == 5 and not fast.dropped
    finally:
        hub.detach(slow)
        hub.detach(fast)


def test_control_notices_bump_versions_and_are_not_relayed(hub: Hub):
    s = ThreadStream("official:")
    hub.attach(s, Viewer("official"))
    before = dict(hub.versions)
    assert hub.handle(['{"table": "auth"}', '{"table": "basemap"}', "not json", "[1]"]) == []
    assert hub.versions["auth"] == before["auth"] + 1 and hub.versions["basemap"] == before["basemap"] + 1
    assert s.take(0) == []
    hub.detach(s)


def test_stream_endpoint_answers_event_stream(app):
    with users.signed_in(app.test_client()).get("/api/v1/stream") as resp:
        assert resp.status_code == 200
        assert resp.mimetype == "text/event-stream"
        assert {d.strip() for d in resp.headers["Cache-Control"].split(",")} == {"no-cache", "private"}
        first = next(iter(resp.response))
        assert (first if isinstance(first, bytes) else first.encode()).startswith(b"retry: ")


class SSEClient:
    """A plain HTTP client of /api/v1/stream on the live server, reading one message at a time."""

    def __init__(self, base_url: str, who: str, last_event_id: str | None = None):
        host, port = base_url.removeprefix("http://").split(":")
        # The timeout only keeps a broken stream from hanging the suite; nothing here is timed.
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {**users.auth(who), "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/api/v1/stream", headers=headers)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200 and self.resp.getheader("Content-Type").startswith("text/event-stream")
        self.raw: list[str] = []
        self.last_id: str | None = None

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
            elif line.startswith("id: "):
                self.last_id = line[4:]
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
            assert s.message()[0] == "retry"  # attached from here on
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
        # Reconnecting with the last id seen replays what came after it, here the crime call for the desk.
        desk = streams["dispatcher"]
        resumed = SSEClient(live_server.url, "dispatcher", last_event_id=desk.last_id)
        try:
            assert resumed.message()[0] == "retry"
            requests.patch(f"{live_server.url}/api/v1/incidents/{wasp}", json={"status": "cancelled"},
                           timeout=60, headers=users.auth("dispatcher")).raise_for_status()
            assert resumed.incident_ids_until(wasp) == [wasp]
        finally:
            resumed.close()
    finally:
        for s in streams.values():
            s.close()
        for inc in logged:
            requests.patch(f"{live_server.url}/api/v1/incidents/{inc['id']}", json={"status": "cancelled"},
                           timeout=60, headers=users.auth("dispatcher"))


def test_stream_ends_when_its_credential_does(hub: Hub):
    """A stream outliving its session or token (logout, disabled user, revoked token) says so and ends."""
    answers = iter([True, False])
    gen = relay(hub, Viewer("dispatcher"), max_s=30, heartbeat_s=0.1, still_valid=lambda: next(answers),
                recheck_s=0)
    msgs = list(gen)  # ends by itself, well before max_s
    assert msgs[0].startswith(b"retry: ") and msgs[-1] == sse("signed_out", "{}")


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


def test_flood_state_change_is_relayed_as_flood_event(hub: Hub, engine: Engine):
    """BPBD's level reaches every open map (migration 0017's trigger), an agency reader's too."""
    gen = relay(hub, Viewer("agency", "POLRI"), max_s=10, heartbeat_s=0.5)
    try:
        assert next(gen).startswith(b"retry: ")
        with engine.begin() as conn:
            kel = conn.execute(text(
                "INSERT INTO admin_areas (level, code, name, props, geom) VALUES ('kelurahan', 'KL-STREAM', "
                "'Stream', '{}', ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(110.4, -6.9), 4326), 0.001))) "
                "RETURNING id, code")).one()
            conn.execute(text("INSERT INTO flood_states (kelurahan_id, level, set_by) VALUES (:k, 3, 'test-stream')"),
                         {"k": kel.id})
        (msg,) = _messages(gen, 1)
        assert b"\nevent: flood\ndata: " in msg
        data = json.loads(msg.split(b"data: ", 1)[1])
        assert data == {**data, "table": "flood_states", "kelurahan_id": kel.id, "code": kel.code,
                        "level": 3, "cleared": False, "op": "insert"}
    finally:
        gen.close()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM flood_states WHERE set_by = 'test-stream'"))
            conn.execute(text("DELETE FROM admin_areas WHERE code = 'KL-STREAM'"))
