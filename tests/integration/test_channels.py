"""Chat, SMS and the public form (issue 18): a Telegram location becomes a draft the desk converts,
a WhatsApp message is signed, a public report reaches the right agency and its reporter hears back."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time

import pytest
from PIL import Image
from sqlalchemy import Connection

from tests import tinycity, users

TG_SECRET = "tg-secret-0123456789"
WA_SECRET = "wa-app-secret-0123456789"
KEY = "sms-gateway-key-0123456789"
LAT, LON = -6.9876, 110.4123


@pytest.fixture()
def app2(make_app, db_conn: Connection):
    tinycity.seed(db_conn)
    return make_app(telegram_secret=TG_SECRET, whatsapp_app_secret=WA_SECRET, whatsapp_verify_token="verify-me",
                    telephony_keys=(KEY,))


@pytest.fixture()
def desk(app2):
    c = app2.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = users.auth("call_taker")["Authorization"]
    return c


def telegram(client, update: dict, secret: str = TG_SECRET):
    return client.post("/api/v1/channels/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})


def tg_message(update_id: int, message_id: int, **content) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()), "chat": {"id": 555001, "type": "private"},
        "from": {"id": 555001, "is_bot": False, "first_name": "Budi", "last_name": "Santoso"}, **content}}


def test_telegram_location_becomes_a_draft_the_operator_converts(app2, desk, db_conn: Connection):
    anon = app2.test_client()
    assert telegram(anon, tg_message(1, 10, text="Ada pohon tumbang menutup jalan")).status_code == 200
    res = telegram(anon, tg_message(2, 11, location={"latitude": LAT, "longitude": LON}))
    assert res.status_code == 200 and res.get_json()["duplicate"] is False
    again = telegram(anon, tg_message(2, 11, location={"latitude": LAT, "longitude": LON}))  # Telegram retries
    assert again.get_json()["duplicate"] is True
    [conv] = desk.get("/api/v1/conversations?status=open").get_json()["items"]
    assert conv["channel"] == "telegram" and conv["contact_name"] == "Budi Santoso" and conv["messages"] == 2
    assert (conv["lat"], conv["lon"]) == pytest.approx((LAT, LON))
    res = desk.post(f"/api/v1/conversations/{conv['id']}/incident", json={"category": "pohon_tumbang"})
    assert res.status_code == 201, res.get_json()
    incident = res.get_json()["incident"]
    assert incident["source"] == "app" and "pohon tumbang" in incident["description"]
    detail = desk.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert detail["lat"] == pytest.approx(LAT) and detail["caller"]["name"] == "Budi Santoso"
    # The chat is a contact too, answered and linked; the reporter was told, and hears of progress.
    call = desk.get(f"/api/v1/calls/{conv['call_id']}").get_json()
    assert call["channel"] == "chat" and call["disposition"] == "incident" and call["incident_id"] == incident["id"]
    assert desk.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "verified"}).status_code == 200
    outbox = desk.get(f"/api/v1/conversations/{conv['id']}").get_json()["outbox"]
    assert [o["recipient"] for o in outbox] == ["555001", "555001"]
    assert "diterima" in outbox[0]["body"] and "diverifikasi" in outbox[1]["body"]
    # A converted conversation cannot be converted twice; the next message opens a new one.
    assert desk.post(f"/api/v1/conversations/{conv['id']}/incident", json={"category": "banjir"}).status_code == 409
    telegram(anon, tg_message(3, 12, text="terima kasih"))
    assert len(desk.get("/api/v1/conversations?status=open").get_json()["items"]) == 1


def test_telegram_needs_its_secret_and_a_well_formed_update(app2):
    anon = app2.test_client()
    assert telegram(anon, tg_message(1, 1, text="x"), secret="wrong").status_code == 403
    assert anon.post("/api/v1/channels/telegram", json=tg_message(1, 1, text="x")).status_code == 403
    for bad, field in (({"message": {"chat": {"id": 1}, "message_id": 1}}, "update_id"),
                       (tg_message(1, 1, location={"latitude": "NaN", "longitude": 1}), "message.location.latitude"),
                       (tg_message(1, 1, location={"latitude": 91, "longitude": 1}), "message.location.latitude"),
                       (tg_message(1, 1, text="x" * 5000), "message.text"),
                       ({"update_id": 1, "message": {"message_id": 1, "chat": "me"}}, "message.chat"),
                       (tg_message(1, 1, photo="big"), "message.photo")):
        res = telegram(anon, bad)
        assert res.status_code == 422 and res.get_json()["field"] == field, (bad, res.get_json())
    assert telegram(anon, {"update_id": 5, "edited_message": {}}).get_json()["ignored"] is True


def wa_payload(text_body: str) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "62112", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": "Sari"}, "wa_id": "6281233334444"}],
            "messages": [{"from": "6281233334444", "id": "wamid.A1", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text_body}}]}}]}]}).encode()


def test_whatsapp_messages_are_signed_and_verified(app2, desk):
    anon = app2.test_client()
    hs = anon.get("/api/v1/channels/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
    assert hs.status_code == 200 and hs.get_data(as_text=True) == "1158201444"
    assert anon.get("/api/v1/channels/whatsapp?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1").status_code \
        == 403
    body = wa_payload("Lampu jalan mati di depan SD")
    sig = "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    forged = anon.post("/api/v1/channels/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert forged.status_code == 403
    res = anon.post("/api/v1/channels/whatsapp", data=body, content_type="application/json",
                    headers={"X-Hub-Signature-256": sig})
    assert res.status_code == 200, res.get_json()
    [conv] = desk.get("/api/v1/conversations").get_json()["items"]
    assert conv["caller_phone"] == "+6281233334444" and conv["contact_name"] == "Sari"
    closed = desk.post(f"/api/v1/conversations/{conv['id']}/close", json={"disposition": "diteruskan",
                                                                          "forwarded_to": "PLN"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert desk.get(f"/api/v1/calls/{conv['call_id']}").get_json()["forwarded_to"] == "PLN"


def test_sms_gateway_messages_and_aml_over_the_same_number(app2, desk):
    gw = app2.test_client()
    headers = {"Authorization": f"Bearer {KEY}"}
    res = gw.post("/api/v1/channels/sms", json={"from": "081255556666", "text": "Info donor darah?", "id": "s1"},
                  headers=headers)
    assert res.status_code == 200 and res.get_json()["duplicate"] is False
    top = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 10))
    aml = (f'A"ML=1;lt={LAT:+.5f};lg={LON:+.5f};rd=20;top={top};lc=68;pm=G;si=510100000000000;'
           "ei=356708041746734;mcc=510;mnc=10;ml=124")
    res = gw.post("/api/v1/channels/sms", json={"from": "081255556666", "text": aml}, headers=headers)
    assert res.status_code == 201 and res.get_json()["aml"]["id"] > 0
    assert gw.post("/api/v1/channels/sms", json={"from": "x", "text": "y"}, headers=headers).get_json()["field"] == \
        "from"
    assert gw.post("/api/v1/channels/sms", json={"from": "0812", "text": "y"}).status_code == 401


def jpeg(size=(64, 48), exif_gps: bool = True) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # Make; any EXIF must be gone after re-encoding
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_public_report_reaches_the_right_agency_and_its_reporter_hears_of_status(app2, desk):
    anon = app2.test_client()
    page = anon.get("/lapor")
    assert page.status_code == 200 and "pohon_tumbang" in page.get_data(as_text=True)
    assert 'value="kebakaran"' not in page.get_data(as_text=True)  # emergencies are not public categories
    res = anon.post("/api/v1/public/reports", data={
        "category": "sarang_tawon", "lat": str(LAT), "lon": str(LON), "description": "Sarang tawon di pohon sekolah",
        "phone": "0812-7777-1234", "photo": (io.BytesIO(jpeg()), "tawon.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    report = res.get_json()
    status = anon.get(report["status_url"]).get_json()
    assert status["status"] == "received" and status["category"] == "sarang_tawon" and status["agencies"] == ["DAMKAR"]
    assert "+62" not in json.dumps(status) and "tawon di pohon" not in json.dumps(status)
    # DAMKAR (wasp nests are theirs) sees the incident; DINKES does not; the desk sees the reporter's number.
    listed = desk.get(f"/api/v1/incidents/{report['incident']}").get_json()
    assert listed["source"] == "web" and listed["caller"]["phone"] == "+6281277771234"
    assert anon.get(f"/api/v1/incidents/{report['incident']}", headers=users.auth("t_damkar")).status_code == 200
    assert anon.get(f"/api/v1/incidents/{report['incident']}", headers=users.auth("t_dinkes")).status_code == 404
    # Status changes are queued as SMS to the reporter.
    desk.patch(f"/api/v1/incidents/{report['incident']}", json={"status": "verified"})
    assert anon.get(report["status_url"]).get_json()["status"] == "verified"
    conv = desk.get(f"/api/v1/conversations/{report['report']}").get_json()
    assert [o["channel"] for o in conv["outbox"]] == ["sms", "sms"]
    assert {o["recipient"] for o in conv["outbox"]} == {"+6281277771234"}
    # The photo: stored without EXIF, served to the desk only.
    [message] = conv["messages"]
    photo_url = f"/api/v1/conversations/{report['report']}/photos/{message['id']}"
    photo = desk.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and b"PhoneMaker" not in photo.data
    assert "no-store" in photo.headers["Cache-Control"]
    for who in ("official", "agency", "bpbd"):
        assert anon.get(photo_url, headers=users.auth(who)).status_code == 403
    assert anon.get(photo_url).status_code == 401


@pytest.mark.parametrize(("form", "field"), [
    ({"category": "kebakaran", "lat": str(LAT), "lon": str(LON)}, "category"),
    ({"category": "pohon_tumbang"}, "lat"),
    ({"category": "pohon_tumbang", "lat": "abc", "lon": "1"}, "lat"),
    ({"category": "pohon_tumbang", "lat": str(LAT), "lon": str(LON), "phone": "call me"}, "phone"),
    ({"category": "pohon_tumbang", "lat": str(LAT), "lon": str(LON), "description": "x" * 1001}, "description"),
    ({"category": "pohon_tumbang", "lat": str(LAT), "lon": str(LON),
      "photo": (io.BytesIO(b"GIF89a" + b"\0" * 100), "x.gif")}, "photo"),
    ({"category": "pohon_tumbang", "lat": str(LAT), "lon": str(LON),
      "photo": (io.BytesIO(b"\xff\xd8\xff" + b"not really a jpeg"), "x.jpg")}, "photo"),
])
def test_hostile_public_reports_are_4xx(app2, form, field):
    res = app2.test_client().post("/api/v1/public/reports", data=form, content_type="multipart/form-data")
    assert 400 <= res.status_code < 500, res.get_json()
    if res.status_code == 422:
        assert res.get_json()["field"] == field


def test_a_photo_over_the_limit_is_refused(app2):
    # Built by hand: the test client spools a large multipart body to a file it never closes.
    boundary = "p112boundary"
    parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n').encode()
             for k, v in (("category", "pohon_tumbang"), ("lat", str(LAT)), ("lon", str(LON)))]
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
                  "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff" + b"\0" * 950_000 + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    res = app2.test_client().post("/api/v1/public/reports", data=body,
                                  content_type=f"multipart/form-data; boundary={boundary}")
    assert res.status_code == 422 and res.get_json()["field"] == "photo"


def test_unknown_tokens_and_the_desk_only_conversations(app2):
    anon = app2.test_client()
    assert anon.get("/api/v1/public/reports/not-a-real-token-123").status_code == 404
    for who in ("official", "agency", "bpbd"):
        assert anon.get("/api/v1/conversations", headers=users.auth(who)).status_code == 403


def test_retention_erases_callers_from_the_call_centre_too(session, db_conn):
    from sqlalchemy import text

    from app.services.privacy import purge_personal_data

    tinycity.seed(db_conn)
    old = "now() - interval '400 days'"
    db_conn.execute(text(f"INSERT INTO calls (caller_phone, offered_at, created_by) VALUES ('+628111', {old}, 't'), "
                         "('+628222', now(), 't')"))
    db_conn.execute(text(f"INSERT INTO caller_locations (caller_phone, source, method, radius_m, positioned_at, "
                         f"received_at, actor, geom) VALUES ('+628111', 'aml_sms', 'gnss', 10, {old}, {old}, 't', "
                         "ST_SetSRID(ST_MakePoint(110.41, -6.98), 4326))"))
    conv = db_conn.execute(text(f"INSERT INTO conversations (channel, external_chat, contact_name, caller_phone, "
                                f"last_message_at) VALUES ('telegram', '777', 'Budi', '+628111', {old}) "
                                "RETURNING id")).scalar_one()
    db_conn.execute(text(f"INSERT INTO conversation_messages (conversation_id, direction, at, body, actor) "
                         f"VALUES (:c, 'in', {old}, 'rumah saya di Jl. Rahasia', 't')"), {"c": conv})
    purge_personal_data(session, 365)
    assert db_conn.execute(text("SELECT array_agg(caller_phone ORDER BY id) FROM calls")).scalar_one() == \
        [None, "+628222"]
    assert db_conn.execute(text("SELECT count(*) FROM caller_locations")).scalar_one() == 0
    row = db_conn.execute(text("SELECT contact_name, caller_phone, external_chat FROM conversations")).one()
    assert row[0] is None and row[1] is None and row[2].startswith("purged:")
    assert db_conn.execute(text("SELECT body FROM conversation_messages")).scalar_one() is None


def test_a_chat_message_reaches_the_desk_streams_only(test_db_url: str, engine):
    """Conversations go through the live hub like rings: a new chat and each further message reach the
    desk's streams with the conversation's summary (name, last words, location); nobody else hears of it."""
    from sqlalchemy import text

    from app.db.engine import make_engine
    from app.incidents.viewer import Viewer
    from app.live.hub import Hub, ThreadStream, libpq_conninfo, reader_class

    readers = {"call_taker": Viewer("call_taker"), "admin": Viewer("admin"), "official": Viewer("official"),
               "bpbd": Viewer("bpbd"), "agency": Viewer("agency", "DAMKAR")}
    hub = Hub(make_engine(test_db_url, app_role=True, pool_size=1, max_overflow=0), libpq_conninfo(test_db_url))
    hub.start()
    assert hub.ready.wait(30)
    streams = {who: ThreadStream(reader_class(v)) for who, v in readers.items()}
    for who, st in streams.items():
        hub.attach(st, readers[who])

    def seen(stream: ThreadStream, until) -> list[dict]:
        got: list[dict] = []
        for _ in range(5):
            for msg in b"".join(stream.take(30)).split(b"\n\n"):
                if b"event: conversation\n" in msg:
                    got.append(json.loads(msg.split(b"data: ", 1)[1]))
            if got and until(got[-1]):
                break
        return got

    conv = None
    try:
        with engine.begin() as conn:
            conv = conn.execute(text("INSERT INTO conversations (channel, external_chat, contact_name) "
                                     "VALUES ('telegram', 'T-STREAM-CHAT', 'Budi Santoso') RETURNING id")).scalar_one()
            conn.execute(text("INSERT INTO conversation_messages (conversation_id, direction, body, actor) "
                              "VALUES (:c, 'in', 'Ada pohon tumbang', 'telegram')"), {"c": conv})
        for who in ("call_taker", "admin"):
            first = seen(streams[who], lambda d: d["conversation"]["messages"] == 1)
            assert first[0]["op"] == "insert" and first[0]["id"] == conv, who
            item = first[-1]["conversation"]
            assert item["contact_name"] == "Budi Santoso" and item["last_text"] == "Ada pohon tumbang"
        with engine.begin() as conn:  # a further message with a location: one more event, newest state
            conn.execute(text("INSERT INTO conversation_messages (conversation_id, direction, actor, geom) VALUES "
                              "(:c, 'in', 'telegram', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                         {"c": conv, "lat": LAT, "lon": LON})
            conn.execute(text("UPDATE conversations SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
                              "updated_at = now() WHERE id = :c"), {"c": conv, "lat": LAT, "lon": LON})
        for who in ("call_taker", "admin"):
            later = seen(streams[who], lambda d: d["conversation"]["lat"] is not None)
            item = later[-1]["conversation"]
            assert item["messages"] == 2 and (item["lat"], item["lon"]) == pytest.approx((LAT, LON)), who
        for who in ("official", "bpbd", "agency"):
            assert streams[who].take(0.5) == [], who
    finally:
        for st in streams.values():
            hub.detach(st)
        hub.stop()
        if conv is not None:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM conversation_messages WHERE conversation_id = :c"), {"c": conv})
                conn.execute(text("DELETE FROM conversations WHERE id = :c"), {"c": conv})


class _FakeChannelApi:
    """A real HTTP server standing in for the Telegram Bot API and an SMS gateway: records each request;
    answers 500 to a text containing GAGAL (a gateway that fails)."""

    def __init__(self):
        import http.server
        import threading

        self.requests: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                failing = "GAGAL" in json.dumps(body)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": false}' if failing else b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_sender_delivers_replies_and_records_failures(app2, desk, session, settings, db_conn: Connection):
    """`peta112 channels send`'s round: the reply of a converted Telegram chat reaches the Bot API; a failing
    SMS gateway leaves its reply pending with the error; an unconfigured channel's reply is left alone."""
    from sqlalchemy import text

    from app.calls import outbox

    anon = app2.test_client()
    telegram(anon, tg_message(1, 10, text="Pohon tumbang", location={"latitude": LAT, "longitude": LON}))
    [conv] = desk.get("/api/v1/conversations?status=open").get_json()["items"]
    res = desk.post(f"/api/v1/conversations/{conv['id']}/incident", json={"category": "pohon_tumbang"})
    assert res.status_code == 201, res.get_json()
    other = db_conn.execute(text("INSERT INTO conversations (channel, external_chat, status) "
                                 "VALUES ('sms', '+6281200000001', 'closed') RETURNING id")).scalar_one()
    db_conn.execute(text("INSERT INTO channel_outbox (conversation_id, channel, recipient, body) VALUES "
                         "(:c, 'sms', '+6281200000001', 'Laporan GAGAL terkirim'), "
                         "(:c, 'whatsapp', '6281200000001', 'belum ada kredensial')"), {"c": other})
    api = _FakeChannelApi()
    try:
        cfg = settings.with_overrides(telegram_bot_token="123:abc", telegram_api=api.url,
                                      sms_gateway_url=api.url + "/sms", sms_gateway_key="gw-key")
        done = outbox.send_pending(session, cfg)
        assert (done.sent, done.failed, done.channels) == (1, 1, ("telegram", "sms"))
        [(path, _headers, body)] = [r for r in api.requests if r[0].startswith("/bot")]
        assert path == "/bot123:abc/sendMessage" and body["chat_id"] == "555001" and "diterima" in body["text"]
        [(_path, headers, sms)] = [r for r in api.requests if r[0] == "/sms"]
        assert headers["Authorization"] == "Bearer gw-key" and sms == {"to": "+6281200000001",
                                                                       "text": "Laporan GAGAL terkirim"}
        rows = {r.channel: r for r in db_conn.execute(text(
            "SELECT channel, sent_at, attempts, last_error FROM channel_outbox"))}
        assert rows["telegram"].sent_at is not None and rows["telegram"].attempts == 1
        assert rows["sms"].sent_at is None and rows["sms"].attempts == 1 and "HTTP 500" in rows["sms"].last_error
        assert rows["whatsapp"].sent_at is None and rows["whatsapp"].attempts == 0  # not configured: untouched
        # The next round sends nothing twice; the failed SMS is tried again.
        again = outbox.send_pending(session, cfg)
        assert (again.sent, again.failed) == (0, 1) and len(api.requests) == 3
    finally:
        api.close()


@pytest.mark.parametrize(("action", "body", "status", "field"), [
    ("incident", {}, 422, "category"),
    ("incident", {"category": "no_such_category"}, 422, "category"),
    ("incident", {"category": "pohon_tumbang", "lat": "north", "lon": LON}, 422, "lat"),
    ("close", {"disposition": "incident"}, 422, "disposition"),
    ("close", {"disposition": "diteruskan"}, 422, "forwarded_to"),
    ("close", {"disposition": "informasi", "forwarded_to": "PMI"}, 422, "forwarded_to"),
    ("reply", {"text": ""}, 422, "text"),
    ("reply", {"text": "x" * 5000}, 422, "text"),
    ("reply", {"text": ["not", "text"]}, 422, "text"),
])
def test_hostile_desk_actions_on_a_conversation_are_4xx_naming_the_field(app2, desk, action, body, status, field):
    telegram(app2.test_client(), tg_message(1, 10, text="Ada ular masuk rumah"))  # no location shared
    [conv] = desk.get("/api/v1/conversations?status=open").get_json()["items"]
    res = desk.post(f"/api/v1/conversations/{conv['id']}/{action}", json=body)
    assert res.status_code == status and res.mimetype == "application/problem+json", res.get_json()
    assert res.get_json()["field"] == field
    assert desk.get(f"/api/v1/conversations/{conv['id']}").get_json()["status"] == "open"  # nothing half-done


def test_only_the_desk_acts_on_conversations(app2, desk):
    telegram(app2.test_client(), tg_message(1, 10, text="Ada ular masuk rumah"))
    [conv] = desk.get("/api/v1/conversations?status=open").get_json()["items"]
    for who in ("official", "agency", "bpbd"):
        for action, body in (("incident", {"category": "pohon_tumbang"}), ("close", {"disposition": "tes"}),
                             ("reply", {"text": "halo"})):
            res = app2.test_client().post(f"/api/v1/conversations/{conv['id']}/{action}", json=body,
                                          headers=users.auth(who))
            assert res.status_code == 403, (who, action)
    assert desk.post("/api/v1/conversations/999999999/reply", json={"text": "halo"}).status_code == 404


def test_a_retired_category_is_not_offered_on_lapor_nor_accepted(app2, desk, db_conn: Connection):
    """The city's catalog drops wasp nests while an old call still has one: retired, not public any more."""
    from dataclasses import replace

    from sqlalchemy import text

    from app.city import catalog
    from geodata.demo.catalog import CATALOG_FILE

    anon = app2.test_client()
    assert 'value="sarang_tawon"' in anon.get("/lapor").get_data(as_text=True)
    db_conn.execute(text("INSERT INTO incidents (category_code, priority, geom) "
                         "VALUES ('sarang_tawon', 3, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                    {"lat": LAT, "lon": LON})
    demo = catalog.load(CATALOG_FILE)
    city = replace(demo, categories={k: v for k, v in demo.categories.items() if k != "sarang_tawon"})
    changes = catalog.apply(db_conn, city, "test")
    assert [(c.action, c.code) for c in changes] == [("retire", "sarang_tawon")]

    page = anon.get("/lapor").get_data(as_text=True)
    assert 'value="sarang_tawon"' not in page and 'value="pohon_tumbang"' in page
    res = anon.post("/api/v1/public/reports", data={"category": "sarang_tawon", "lat": str(LAT), "lon": str(LON)},
                    content_type="multipart/form-data")
    assert res.status_code == 422 and res.mimetype == "application/problem+json"
    assert res.get_json()["field"] == "category" and "sarang_tawon" not in res.get_json()["detail"]
    # A chat the desk converts cannot take it either.
    assert telegram(anon, tg_message(1, 10, location={"latitude": LAT, "longitude": LON})).status_code == 200
    [conv] = desk.get("/api/v1/conversations?status=open").get_json()["items"]
    res = desk.post(f"/api/v1/conversations/{conv['id']}/incident", json={"category": "sarang_tawon"})
    assert res.status_code == 422 and res.get_json()["field"] == "category" and "retired" in res.get_json()["detail"]
    assert desk.post(f"/api/v1/conversations/{conv['id']}/incident",
                     json={"category": "pohon_tumbang"}).status_code == 201
