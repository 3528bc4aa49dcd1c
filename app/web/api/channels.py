"""Chat and SMS webhooks, and the desk's conversations.

``POST /api/v1/channels/telegram`` takes a Telegram Bot API ``Update`` (the bot's webhook,
set with a ``secret_token``: Telegram echoes it in ``X-Telegram-Bot-Api-Secret-Token``);
``GET/POST /api/v1/channels/whatsapp`` are a WhatsApp Cloud API webhook (the subscription
handshake with the verify token, then notifications signed with the app secret in
``X-Hub-Signature-256``); ``POST /api/v1/channels/sms`` takes ``from`` and ``text`` from an
SMS gateway holding a telephony key (an AML SMS is recognised and stored as a location).
The desk reads and converts conversations under ``/api/v1/conversations``.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Response, current_app, jsonify, request

from app.calls import aml, channels, public_reports
from app.db import get_session, use_viewer
from app.incidents.viewer import INTEGRATION, Viewer
from app.services.errors import InvalidInput
from app.web import integrations
from app.web.api import bp
from app.web.api.incidents import _int_arg, json_body
from app.web.auth import actor
from app.web.problems import Problem


def _settings():  # noqa: ANN202
    return current_app.extensions["peta112.settings"]


def _shared_secret(expected: str | None, given: str | None, header: str) -> None:
    if not expected:
        raise Problem(403, "Forbidden", "this channel is not configured on the server", field=header)
    if not given or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Problem(403, "Forbidden", f"wrong or missing {header}", field=header)


@bp.post("/channels/telegram")
def channel_telegram():
    """A Telegram Bot API Update (text, location, contact or photo) for the centre's bot."""
    _shared_secret(_settings().telegram_secret, request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                   "X-Telegram-Bot-Api-Secret-Token")
    use_viewer(Viewer(INTEGRATION, username="telegram"))
    msg = channels.parse_telegram(json_body())
    if msg is None:
        return jsonify({"ok": True, "ignored": True})
    return jsonify({"ok": True, **channels.receive(get_session(), msg, "telegram")})


@bp.get("/channels/whatsapp")
def channel_whatsapp_verify():
    """The Cloud API's subscription handshake: echo hub.challenge when hub.verify_token matches."""
    a = request.args
    _shared_secret(_settings().whatsapp_verify_token, a.get("hub.verify_token"), "hub.verify_token")
    challenge = a.get("hub.challenge", "")
    if a.get("hub.mode") != "subscribe" or not challenge.isdigit() or len(challenge) > 64:
        raise InvalidInput("hub.mode must be subscribe and hub.challenge a number", "hub.challenge")
    return Response(challenge, mimetype="text/plain")


@bp.post("/channels/whatsapp")
def channel_whatsapp():
    """A Cloud API notification: messages (text, location, image) from WhatsApp users."""
    secret = _settings().whatsapp_app_secret
    signature = request.headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new(secret.encode(), request.get_data(), hashlib.sha256).hexdigest() if secret else None
    _shared_secret(expected, signature, "X-Hub-Signature-256")
    use_viewer(Viewer(INTEGRATION, username="whatsapp"))
    results = [channels.receive(get_session(), m, "whatsapp") for m in channels.parse_whatsapp(json_body())]
    return jsonify({"ok": True, "messages": results})


@bp.post("/channels/sms")
def channel_sms():
    """An SMS from the gateway (``from``, ``text``, optional ``id``); an AML SMS becomes a caller location."""
    sender = integrations.authenticate(_settings().telephony_keys, "sms")
    body = json_body() if request.is_json else request.form.to_dict()
    if isinstance(body.get("text"), str) and body["text"].startswith('A"ML='):
        return jsonify({"aml": aml.store(get_session(), aml.parse_sms(body["text"], body.get("from")), sender)}), 201
    return jsonify({"ok": True, **channels.receive(get_session(), channels.parse_sms(body), sender)})


@bp.get("/conversations")
def list_conversations():
    status = request.args.get("status") or None
    if status not in (None, "open", "converted", "closed"):
        raise InvalidInput("status must be open, converted or closed", "status")
    return jsonify({"items": channels.list_conversations(get_session(), status, _int_arg("limit", 100, 1, 500))})


@bp.get("/conversations/<int:conversation_id>")
def get_conversation(conversation_id: int):
    return jsonify(channels.get_conversation(get_session(), conversation_id))


@bp.post("/conversations/<int:conversation_id>/incident")
def convert_conversation(conversation_id: int):
    """Make the conversation an incident (category from the operator; location from the chat unless given)."""
    return jsonify(channels.convert(get_session(), conversation_id, json_body(), actor())), 201


@bp.post("/conversations/<int:conversation_id>/close")
def close_conversation(conversation_id: int):
    return jsonify(channels.close(get_session(), conversation_id, json_body(), actor()))


@bp.post("/conversations/<int:conversation_id>/reply")
def reply_conversation(conversation_id: int):
    return jsonify(channels.reply(get_session(), conversation_id, json_body(), actor())), 201


@bp.get("/conversations/<int:conversation_id>/photos/<int:message_id>")
def conversation_photo(conversation_id: int, message_id: int):
    """A photo a reporter uploaded (the desk only; never a public URL)."""
    from app.web.api.public_reports import upload_dir

    conv = channels.get_conversation(get_session(), conversation_id)
    media = next((m for msg in conv["messages"] if msg["id"] == message_id for m in (msg["media"] or [])
                  if m.get("file")), None)
    if media is None:
        raise Problem(404, "Not Found", "no stored photo in this message")
    path, mime = public_reports.photo_path(upload_dir(), media)
    resp = Response(path.read_bytes(), mimetype=mime)  # under 1 MB: read whole, no file handle left open
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
