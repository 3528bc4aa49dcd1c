"""Calls (issue 18): every contact is recorded, the PBX webhook opens and closes it, the desk alone sees numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text

from app.calls import numbers
from app.db.engine import make_engine
from app.incidents.facts import apply_viewer
from app.incidents.viewer import Viewer
from app.live.hub import Hub, ThreadStream, libpq_conninfo, reader_class
from app.services.dispatch import PRANK_REPEAT_THRESHOLD
from app.services.errors import InvalidInput
from tests import tinycity, users

KEY = "pbx-test-key-0123456789"
PRANKSTER = "+6281299990001"


@pytest.fixture()
def pbx(make_app):
    app = make_app(telephony_keys=(KEY,))
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"
    return c


@pytest.fixture()
def desk(pbx):
    c = pbx.application.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = users.auth("call_taker")["Authorization"]
    return c


def _event(client, **body):
    return client.post("/api/v1/calls/events", json=body)


def test_numbers_are_compared_in_one_form(db_conn: Connection):
    for raw in ("0812-9999-0001", "+62 812 9999 0001", "6281299990001", "(0812) 99990001"):
        assert numbers.normalise(raw) == PRANKSTER
        assert db_conn.execute(text("SELECT peta112_norm_phone(:p)"), {"p": raw}).scalar_one() == PRANKSTER
    assert numbers.normalise("112") == "112"
    for bad in ("0812abc", "1" * 20, "12", "08\n12345"):
        with pytest.raises(InvalidInput):
            numbers.normalise(bad)


def test_ring_answer_hangup_makes_one_call_with_times_and_operator(pbx, desk):
    res = _event(pbx, event="ring", call_id="1700000000.1", **{"from": "0812-9999-0001", "to": "112"})
    assert res.status_code == 201, res.get_json()
    call_id = res.get_json()["id"]
    assert "call" not in res.get_json()  # the PBX learns nothing about the caller
    again = _event(pbx, event="ring", call_id="1700000000.1", **{"from": "0812-9999-0001"})
    assert again.status_code == 200 and again.get_json()["id"] == call_id  # a retried webhook
    assert _event(pbx, event="answer", call_id="1700000000.1", operator="t_operator").status_code == 200
    assert _event(pbx, event="hangup", call_id="1700000000.1").status_code == 200
    call = desk.get(f"/api/v1/calls/{call_id}").get_json()
    assert call["caller_phone"] == PRANKSTER and call["line"] == "112" and call["operator"] == "t_operator"
    assert call["state"] == "ended" and not call["is_abandoned"]
    assert call["answer_s"] >= 0 and call["handle_s"] >= 0 and call["created_by"] == "telephony:key1"
    # The operator says what it was.
    res = desk.patch(f"/api/v1/calls/{call_id}", json={"disposition": "diteruskan", "forwarded_to": "PMI",
                                                       "note": "butuh darah golongan O"})
    assert res.status_code == 200 and res.get_json()["forwarded_to"] == "PMI"


def test_abandoned_call_and_answer_after_hangup(pbx, desk):
    _event(pbx, event="ring", call_id="A-1", **{"from": "081211110000"})
    _event(pbx, event="hangup", call_id="A-1")
    res = _event(pbx, event="answer", call_id="A-1", operator="t_operator")
    assert res.status_code == 409
    calls = desk.get("/api/v1/calls?phone=081211110000").get_json()
    assert calls["total"] == 1 and calls["items"][0]["is_abandoned"] is True


def test_ring_pops_the_prank_history_of_a_known_number(pbx, desk, db_conn: Connection):
    tinycity.seed(db_conn)
    for i in range(3):
        cid = _event(pbx, event="ring", call_id=f"P-{i}", **{"from": PRANKSTER}).get_json()["id"]
        _event(pbx, event="hangup", call_id=f"P-{i}")
        assert desk.patch(f"/api/v1/calls/{cid}", json={"disposition": "iseng"}).status_code == 200
    # An open incident this number reported, typed in the national format.
    inc = desk.post("/api/v1/incidents?recommend=0", json={"category": "pohon_tumbang", "lat": -6.9876,
                                                          "lon": 110.4123, "caller_phone": "081299990001"})
    assert inc.status_code == 201, inc.get_json()
    ring = _event(pbx, event="ring", call_id="P-9", **{"from": PRANKSTER}).get_json()
    popped = desk.get(f"/api/v1/calls/{ring['id']}").get_json()
    history = popped["history"]
    assert history["calls"] == 3 and history["prank_calls"] == 3 and history["prank_suspect"] is True
    assert [c["disposition"] for c in history["recent_calls"]] == ["iseng"] * 3
    assert [i["id"] for i in history["open_incidents"]] == [inc.get_json()["id"]]


def test_desk_logs_a_chat_contact_and_links_it_to_an_incident(desk, db_conn: Connection):
    tinycity.seed(db_conn)
    inc = desk.post("/api/v1/incidents?recommend=0", json={"category": "kebakaran", "lat": -6.9876,
                                                          "lon": 110.4123}).get_json()
    now = datetime.now(UTC)
    res = desk.post("/api/v1/calls", json={
        "channel": "chat", "caller_phone": "081200000001", "offered_at": (now - timedelta(minutes=3)).isoformat(),
        "answered_at": (now - timedelta(minutes=2)).isoformat(), "ended_at": now.isoformat(),
        "incident_id": inc["id"], "disposition": "incident"})
    assert res.status_code == 201, res.get_json()
    call = res.get_json()
    assert call["operator"] == "t_operator" and call["incident_id"] == inc["id"]
    assert call["kelurahan"] is not None  # from the incident, for the prank map by kelurahan
    assert round(call["answer_s"]) == 60
    # Several calls may report one incident.
    desk.post("/api/v1/calls", json={"caller_phone": "081200000002", "incident_id": inc["id"]})
    listed = desk.get(f"/api/v1/calls?incident={inc['id']}").get_json()
    assert listed["total"] == 2 and all(c["disposition"] == "incident" for c in listed["items"])


@pytest.mark.parametrize(("body", "field"), [
    ({"event": "ring"}, "call_id"),
    ({"event": "dial", "call_id": "x"}, "event"),
    ({"event": "ring", "call_id": "x", "from": "not a number"}, "from"),
    ({"event": "ring", "call_id": "x" * 201}, "call_id"),
    ({"event": "ring", "call_id": "x", "at": "2999-01-01T00:00:00Z"}, "at"),
    ({"event": "ring", "call_id": "x", "at": "2026-01-01T00:00:00"}, "at"),
    ({"event": "ring", "call_id": ["x"]}, "call_id"),
    ({"event": "answer", "call_id": "nope", "operator": "t_operator"}, "call_id"),
])
def test_hostile_telephony_events_are_4xx_naming_the_field(pbx, body, field):
    res = pbx.post("/api/v1/calls/events", json=body)
    assert 400 <= res.status_code < 500, res.get_json()
    assert res.mimetype == "application/problem+json" and res.get_json()["field"] == field


def test_answer_names_a_real_desk_user(pbx):
    _event(pbx, event="ring", call_id="O-1")
    for who in ("t_damkar", "nobody", 7):
        res = _event(pbx, event="answer", call_id="O-1", operator=who)
        assert res.status_code == 422 and res.get_json()["field"] == "operator"


@pytest.mark.parametrize(("body", "field"), [
    ({"channel": "fax"}, "channel"),
    ({"disposition": "diteruskan"}, "forwarded_to"),
    ({"disposition": "iseng", "forwarded_to": "PMI"}, "forwarded_to"),
    ({"incident_id": 10**12}, "incident_id"),
    ({"incident_id": "1"}, "incident_id"),
    ({"answered_at": "2026-11-28T10:00:00+07:00", "offered_at": "2026-11-28T11:00:00+07:00"}, "answered_at"),
    ({"note": "x" * 2001}, "note"),
    ({"operator": "t_official"}, "operator"),
])
def test_hostile_desk_calls_are_422(desk, body, field):
    res = desk.post("/api/v1/calls", json=body)
    assert res.status_code == 422, res.get_json()
    assert res.get_json()["field"] == field


def test_webhook_needs_a_configured_key_or_a_desk_user(pbx, desk):
    anon = pbx.application.test_client()
    assert anon.post("/api/v1/calls/events", json={"event": "ring", "call_id": "k"}).status_code == 401
    wrong = anon.post("/api/v1/calls/events", json={"event": "ring", "call_id": "k"},
                      headers={"Authorization": "Bearer wrong-key"})
    assert wrong.status_code == 403 and wrong.get_json()["field"] == "Authorization"
    official = anon.post("/api/v1/calls/events", json={"event": "ring", "call_id": "k"}, headers=users.auth("official"))
    assert official.status_code == 403
    mine = desk.post("/api/v1/calls/events", json={"event": "ring", "call_id": "k", "from": "0811"})
    assert mine.status_code == 201 and mine.get_json()["call"].startswith("/api/v1/calls/")


def test_only_the_desk_reads_calls_and_numbers(pbx, desk, db_conn: Connection):
    tinycity.seed(db_conn)
    inc = desk.post("/api/v1/incidents?recommend=0", json={"category": "kebakaran", "lat": -6.9876,
                                                          "lon": 110.4123}).get_json()
    desk.post("/api/v1/calls", json={"caller_phone": PRANKSTER, "incident_id": inc["id"]})
    desk.post("/api/v1/calls", json={"caller_phone": "+6281200000009", "disposition": "informasi"})
    anon = pbx.application.test_client()
    for who in ("official", "bpbd", "agency", "t_dinkes"):
        assert anon.get("/api/v1/calls", headers=users.auth(who)).status_code == 403
    assert anon.get("/api/v1/calls").status_code == 401
    # In the database: officials count every call but see no number; DAMKAR (a task in the fire)
    # sees only the call that reported it; DINKES none; anonymous none.
    expect = {Viewer("official"): (2, 0), Viewer("bpbd", "BPBD"): (2, 0), Viewer("agency", "DAMKAR"): (1, 0),
              Viewer("agency", "DINKES"): (0, 0), Viewer("anonymous"): (0, 0), Viewer("call_taker"): (2, 2)}
    for who, (rows, phones) in expect.items():
        db_conn.execute(text("SAVEPOINT v"))
        db_conn.exec_driver_sql("SET LOCAL ROLE peta112_app")
        apply_viewer(db_conn, who)
        got = db_conn.execute(text("SELECT count(*), count(caller_phone) FROM call_facts")).one()
        located = db_conn.execute(text("SELECT count(*) FROM caller_locations")).scalar_one()
        db_conn.execute(text("ROLLBACK TO SAVEPOINT v"))
        assert tuple(got) == (rows, phones), who
        assert located == 0
    # The app may not delete a contact.
    db_conn.execute(text("SAVEPOINT d"))
    db_conn.exec_driver_sql("SET LOCAL ROLE peta112_app")
    apply_viewer(db_conn, Viewer("admin"))
    with pytest.raises(Exception, match="permission denied"):
        db_conn.execute(text("DELETE FROM calls"))
    db_conn.execute(text("ROLLBACK TO SAVEPOINT d"))


def test_ring_reaches_desk_streams_only(test_db_url: str, engine: Engine):
    """One batch, scoped once: the desk's streams get the ring with the number, its prank history and
    the AML position (no console asks again); officials, BPBD and agencies get nothing at all."""
    hub = Hub(make_engine(test_db_url, app_role=True, pool_size=1, max_overflow=0), libpq_conninfo(test_db_url))
    hub.start()
    assert hub.ready.wait(30)
    streams = {who: ThreadStream(reader_class(v)) for who, v in READERS_OF_RINGS.items()}
    for who, st in streams.items():
        hub.attach(st, READERS_OF_RINGS[who])
    earlier = datetime.now(UTC) - timedelta(days=2)
    try:
        with engine.begin() as conn:  # earlier pranks from this number, answered and ended
            for i in range(PRANK_REPEAT_THRESHOLD):
                conn.execute(text(
                    "INSERT INTO calls (caller_phone, external_id, created_by, offered_at, answered_at, ended_at, "
                    "disposition) VALUES (:p, :x, 'test', :t, :t, :t, 'iseng')"),
                    {"p": PRANKSTER, "x": f"T-STREAM-OLD-{i}", "t": earlier + timedelta(hours=i)})
        for who in ("call_taker", "dispatcher"):
            assert len(_calls_seen(streams[who], PRANK_REPEAT_THRESHOLD)) == PRANK_REPEAT_THRESHOLD, who
        with engine.begin() as conn:  # the ring, and its handset's AML fix, in one transaction
            cid = conn.execute(text("INSERT INTO calls (caller_phone, external_id, created_by) "
                                    "VALUES (:p, 'T-STREAM-CALL', 'test') RETURNING id"), {"p": PRANKSTER}).scalar_one()
            conn.execute(text(
                "INSERT INTO caller_locations (caller_phone, call_id, source, method, radius_m, positioned_at, actor, "
                "geom) VALUES (:p, :c, 'aml_sms', 'gnss', 35, now(), 'test', ST_SetSRID(ST_MakePoint(110.41, -6.98), "
                "4326))"), {"p": PRANKSTER, "c": cid})
            conn.execute(text("UPDATE calls SET updated_at = now() WHERE id = :c"), {"c": cid})
        for who in ("call_taker", "dispatcher"):
            seen = _calls_seen(streams[who], 2, until=lambda d: d["call"]["location"] is not None)
            assert seen[0]["table"] == "calls" and seen[0]["op"] == "insert" and seen[0]["id"] == cid, who
            data = seen[-1]  # the ring and the fix in one batch are one event; apart, the fix comes second
            assert data["id"] == cid and len(seen) <= 2
            call = data["call"]
            assert call["caller_phone"] == PRANKSTER and call["state"] == "ringing"
            assert call["history"]["prank_calls"] == PRANK_REPEAT_THRESHOLD and call["history"]["prank_suspect"] is True
            assert call["location"]["radius_m"] == 35 and call["location"]["lat"] == pytest.approx(-6.98)
        for who in ("official", "bpbd", "agency"):
            assert streams[who].take(0.5) == [], who
    finally:
        for st in streams.values():
            hub.detach(st)
        hub.stop()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM caller_locations WHERE caller_phone = :p"), {"p": PRANKSTER})
            conn.execute(text("DELETE FROM calls WHERE external_id LIKE 'T-STREAM-%'"))


def test_history_loaded_in_bulk_is_not_rung(test_db_url: str, engine: Engine):
    """The demo city's COPY of past calls notifies too; calls that ended long ago send no event (and no
    summary is read for them), while a change of a live one does."""
    hub = Hub(make_engine(test_db_url, app_role=True, pool_size=1, max_overflow=0), libpq_conninfo(test_db_url))
    hub.start()
    assert hub.ready.wait(30)
    old = datetime.now(UTC) - timedelta(days=3)
    try:
        with engine.begin() as conn:
            past = conn.execute(text(
                "INSERT INTO calls (caller_phone, external_id, created_by, offered_at, answered_at, ended_at, "
                "disposition, updated_at) VALUES (:p, 'T-BULK-OLD', 'demo', :t, :t, :t, 'informasi', :t) "
                "RETURNING id"), {"p": PRANKSTER, "t": old}).scalar_one()
            live = conn.execute(text("INSERT INTO calls (caller_phone, external_id, created_by) "
                                     "VALUES (:p, 'T-BULK-LIVE', 'test') RETURNING id"), {"p": PRANKSTER}).scalar_one()
        events = hub.handle([json.dumps({"table": "calls", "op": "insert", "id": i}) for i in (past, live)])
        assert [(e.name, json.loads(e.message.split(b"data: ", 1)[1])["id"]) for e in events] == [("call", live)]
        assert events[0].audience == frozenset({"call_taker:", "dispatcher:", "admin:"})  # the desk's classes
    finally:
        hub.stop()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM calls WHERE external_id LIKE 'T-BULK-%'"))


def _calls_seen(stream: ThreadStream, n: int, until=None) -> list[dict]:
    """The data of the ``call`` events a stream receives, up to ``n`` of them or until one satisfies ``until``."""
    seen: list[dict] = []
    for _ in range(n):
        raw = b"".join(stream.take(30))
        for msg in raw.split(b"\n\n"):
            if b"event: call\n" in msg:
                seen.append(json.loads(msg.split(b"data: ", 1)[1]))
        if len(seen) >= n or (until and seen and until(seen[-1])):
            break
    return seen


READERS_OF_RINGS = {"call_taker": Viewer("call_taker"), "dispatcher": Viewer("dispatcher"),
                    "official": Viewer("official"), "bpbd": Viewer("bpbd"), "agency": Viewer("agency", "DAMKAR")}


def test_over_http_a_ring_pops_on_the_desk_stream_and_never_on_an_agency_stream(live_server):
    """The served app, as `peta112 serve` runs it: a ring reaches the dispatcher's /api/v1/stream with the
    number; DAMKAR's stream carries the next DAMKAR call but no ring and no number before it."""
    import requests

    from tests.integration.test_stream import SSEClient

    streams = {who: SSEClient(live_server.url, who) for who in ("dispatcher", "t_damkar", "official")}
    phone, logged = "+6281377770123", None
    try:
        for s in streams.values():
            assert s.message()[0] == "retry"  # attached from here on
        ring = requests.post(f"{live_server.url}/api/v1/calls/events", timeout=60, headers=users.auth("dispatcher"),
                             json={"event": "ring", "call_id": "T-HTTP-RING", "from": "0813-7777-0123"})
        assert ring.status_code == 201, ring.text
        res = requests.post(f"{live_server.url}/api/v1/incidents", timeout=60, headers=users.auth("dispatcher"),
                            json={"category": "sarang_tawon", "lat": -6.9631, "lon": 110.4031})  # DAMKAR's
        assert res.status_code == 201, res.text
        logged = res.json()["id"]
        event, data = streams["dispatcher"].message()
        while event != "call":
            event, data = streams["dispatcher"].message()
        call = json.loads(data)["call"]
        assert call["id"] == ring.json()["id"] and call["caller_phone"] == phone and call["state"] == "ringing"
        for who in ("t_damkar", "official"):
            seen: list[str | None] = []
            while True:
                event, data = streams[who].message()
                seen.append(event)
                if event == "incident" and json.loads(data)["id"] == logged:
                    break
            assert "call" not in seen, who
            assert not any("77770123" in line for line in streams[who].raw), who
    finally:
        for s in streams.values():
            s.close()
        if logged is not None:
            requests.patch(f"{live_server.url}/api/v1/incidents/{logged}", json={"status": "cancelled"},
                           timeout=60, headers=users.auth("dispatcher"))
        requests.post(f"{live_server.url}/api/v1/calls/events", timeout=60, headers=users.auth("dispatcher"),
                      json={"event": "hangup", "call_id": "T-HTTP-RING"})
