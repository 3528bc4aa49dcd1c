"""Chat and SMS: messages from Telegram, WhatsApp and SMS become conversations the desk turns into incidents.

Citizens write to the centre's Telegram bot or WhatsApp number, or send an SMS; each chat
has one open conversation (a contact in ``calls`` too) that the desk reads, answers, and
converts into an incident, taking the draft location from a shared location message.
The webhook payloads are the platforms' own: a Telegram Bot API ``Update`` and a WhatsApp
Cloud API ``messages`` notification; they are read strictly (unknown shapes are 422, a
message type we do not handle is acknowledged and kept as a note).  Photos stay on the
platform (their file or media id is kept; fetching needs the bot's credentials and the
internet, which the desk's PC may not have).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.calls import numbers
from app.db import sqlfiles
from app.services import dispatch
from app.services.errors import Conflict, InvalidInput, NotFound

PACKAGE, FILE = "app.calls", "sql/channels.sql"
MAX_BODY = 4096
CALL_CHANNEL = {"telegram": "chat", "whatsapp": "chat", "sms": "sms", "web": "web"}
INCIDENT_SOURCE = {"telegram": "app", "whatsapp": "whatsapp", "sms": "sms", "web": "web"}
CLOSING = ("informasi", "salah_sambung", "iseng", "tes", "diteruskan")


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


@dataclass
class Inbound:
    """One message as the desk needs it, whatever platform it came from."""

    channel: str
    chat: str
    message_id: str
    at: datetime | None = None
    name: str | None = None
    phone: str | None = None
    text: str | None = None
    lat: float | None = None
    lon: float | None = None
    media: list[dict[str, Any]] = field(default_factory=list)


def _str(value: object, field_name: str, limit: int = 200, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field_name} is required", field_name)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(f"{field_name} must be a string or an integer", field_name)
    text = str(value)
    if len(text) > limit:
        raise InvalidInput(f"{field_name} is longer than {limit} characters", field_name)
    return text


def _coord(value: object, field_name: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput(f"{field_name} must be a number", field_name)
    try:
        v = float(value)
    except ValueError:
        raise InvalidInput(f"{field_name} must be a number", field_name) from None
    if not math.isfinite(v) or not -limit <= v <= limit:
        raise InvalidInput(f"{field_name} must be within ±{limit:g}", field_name)
    return v


def _unix(value: object, field_name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 4_102_444_800:
        raise InvalidInput(f"{field_name} must be a Unix time", field_name)
    return min(datetime.fromtimestamp(value, UTC), datetime.now(UTC))


def _dict(value: object, field_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{field_name} must be an object", field_name)
    return value


def parse_telegram(update: dict[str, Any]) -> Inbound | None:
    """A Bot API ``Update``; None for updates that carry no new message (edits, callbacks)."""
    _str(update.get("update_id"), "update_id", 20)
    if "message" not in update:
        return None
    msg = _dict(update["message"], "message")
    chat = _dict(msg.get("chat"), "message.chat")
    sender = _dict(msg.get("from", {}), "message.from")
    name = " ".join(x for x in (_str(sender.get("first_name"), "message.from.first_name", 100, False),
                                _str(sender.get("last_name"), "message.from.last_name", 100, False)) if x) or None
    inbound = Inbound("telegram", _str(chat.get("id"), "message.chat.id", 40) or "",
                      _str(msg.get("message_id"), "message.message_id", 20) or "",
                      _unix(msg.get("date"), "message.date"), name=name,
                      text=_str(msg.get("text", msg.get("caption")), "message.text", MAX_BODY, False))
    if "location" in msg:
        loc = _dict(msg["location"], "message.location")
        inbound.lat = _coord(loc.get("latitude"), "message.location.latitude", 90)
        inbound.lon = _coord(loc.get("longitude"), "message.location.longitude", 180)
    if "contact" in msg:
        contact = _dict(msg["contact"], "message.contact")
        inbound.phone = numbers.normalise(contact.get("phone_number"), "message.contact.phone_number")
    if "photo" in msg:
        sizes = msg["photo"]
        if not isinstance(sizes, list) or not sizes or not all(isinstance(s, dict) for s in sizes):
            raise InvalidInput("message.photo must be a list of PhotoSize", "message.photo")
        biggest = sizes[-1]
        inbound.media.append({"kind": "photo", "platform": "telegram",
                              "file_id": _str(biggest.get("file_id"), "message.photo.file_id", 300)})
    return inbound


def parse_whatsapp(payload: dict[str, Any]) -> list[Inbound]:
    """A Cloud API webhook notification: every message of every change (statuses are ignored)."""
    if payload.get("object") != "whatsapp_business_account":
        raise InvalidInput("object must be whatsapp_business_account", "object")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise InvalidInput("entry must be a list", "entry")
    out: list[Inbound] = []
    for entry in entries:
        for change in _dict(entry, "entry[]").get("changes") or []:
            value = _dict(_dict(change, "entry[].changes[]").get("value"), "entry[].changes[].value")
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name")
                     for c in value.get("contacts") or [] if isinstance(c, dict)}
            for msg in value.get("messages") or []:
                msg = _dict(msg, "messages[]")
                sender = _str(msg.get("from"), "messages[].from", 40) or ""
                inbound = Inbound("whatsapp", sender, _str(msg.get("id"), "messages[].id", 200) or "",
                                  _unix(msg.get("timestamp"), "messages[].timestamp"),
                                  name=_str(names.get(sender), "contacts[].profile.name", 200, False),
                                  phone=numbers.normalise("+" + sender.lstrip("+"), "messages[].from"))
                kind = msg.get("type")
                if kind == "text":
                    inbound.text = _str(_dict(msg.get("text"), "messages[].text").get("body"),
                                        "messages[].text.body", MAX_BODY)
                elif kind == "location":
                    loc = _dict(msg.get("location"), "messages[].location")
                    inbound.lat = _coord(loc.get("latitude"), "messages[].location.latitude", 90)
                    inbound.lon = _coord(loc.get("longitude"), "messages[].location.longitude", 180)
                    inbound.text = _str(loc.get("address") or loc.get("name"), "messages[].location.address",
                                        MAX_BODY, False)
                elif kind == "image":
                    image = _dict(msg.get("image"), "messages[].image")
                    inbound.media.append({"kind": "photo", "platform": "whatsapp",
                                          "media_id": _str(image.get("id"), "messages[].image.id", 200),
                                          "mime_type": _str(image.get("mime_type"), "messages[].image.mime_type",
                                                            100, False)})
                    inbound.text = _str(image.get("caption"), "messages[].image.caption", MAX_BODY, False)
                else:
                    inbound.text = f"[pesan {str(kind)[:30]} tidak didukung]"
                out.append(inbound)
    return out


def parse_sms(body: dict[str, Any]) -> Inbound:
    """An SMS from the gateway: ``from``, ``text`` and optionally the gateway's ``id``."""
    phone = numbers.normalise(body.get("from"), "from", required=True) or ""
    text = _str(body.get("text"), "text", MAX_BODY) or ""
    # Without the gateway's id a retried delivery is recognised by its content.
    fallback = "sms:" + hashlib.sha256(f"{phone}\n{text}".encode()).hexdigest()[:32]
    return Inbound("sms", phone, _str(body.get("id"), "id", 200, False) or fallback, phone=phone, text=text)


def receive(session: Session, msg: Inbound, actor: str, category: str | None = None,
            token_sha256: str | None = None) -> dict[str, Any]:
    """Add a message to its chat's open conversation (opening one, and its contact, if needed)."""
    conv = session.execute(_sql("open_conversation"), {
        "channel": msg.channel, "chat": msg.chat, "name": msg.name, "phone": msg.phone, "category": category,
        "token": token_sha256}).mappings().one()
    conv_id, call_id = int(conv["id"]), conv["call_id"]
    if call_id is None:
        call_id = session.execute(_sql("open_call"), {
            "id": conv_id, "call_channel": CALL_CHANNEL[msg.channel], "phone": msg.phone, "line": msg.channel,
            "external_id": f"{msg.channel}:{conv_id}", "actor": actor}).scalar_one()
    added = session.execute(_sql("add_message"), {
        "conversation": conv_id, "direction": "in", "external_id": msg.message_id, "at": msg.at, "body": msg.text,
        "media": json.dumps(msg.media) if msg.media else None, "actor": actor, "lat": msg.lat, "lon": msg.lon,
    }).first()
    if msg.lat is not None and added is not None:
        session.execute(_sql("set_location"), {"id": conv_id, "lat": msg.lat, "lon": msg.lon})
    session.commit()
    return {"conversation": conv_id, "call_id": int(call_id), "duplicate": added is None}


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def list_conversations(session: Session, status: str | None, limit: int) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in r.items()}
            for r in session.execute(_sql("list_conversations"), {"status": status, "limit": limit}).mappings()]


def conversation_items(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """Conversations ``ids`` in the list's shape (what the live stream hands the desk's consoles)."""
    return [{k: _iso(v) for k, v in r.items()}
            for r in session.execute(_sql("conversation_items"), {"ids": ids}).mappings()]


def get_conversation(session: Session, conv_id: int) -> dict[str, Any]:
    row = session.execute(_sql("conversation"), {"id": conv_id}).mappings().first()
    if row is None:
        raise NotFound(f"no conversation {conv_id}")
    conv = {k: _iso(v) for k, v in row.items()}
    conv["messages"] = [{k: _iso(v) for k, v in m.items()}
                        for m in session.execute(_sql("messages"), {"id": conv_id}).mappings()]
    conv["outbox"] = [{k: _iso(v) for k, v in m.items()}
                      for m in session.execute(_sql("outbox"), {"id": conv_id}).mappings()]
    return conv


def convert(session: Session, conv_id: int, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """Turn the conversation into an incident: the operator's category, the chat's location and words."""
    conv = get_conversation(session, conv_id)
    if conv["status"] != "open":
        raise Conflict(f"conversation {conv_id} is {conv['status']}", "status")
    texts = [m["body"] for m in conv["messages"] if m["direction"] == "in" and m["body"]]
    lat = body.get("lat", conv["lat"])
    lon = body.get("lon", conv["lon"])
    incident, _created = dispatch.intake(session, dispatch.Intake(
        category=body.get("category") or conv["category_code"], lat=lat, lon=lon, address=body.get("address"),
        caller_name=conv["contact_name"], caller_phone=conv["caller_phone"],
        description=body.get("description") or ("\n".join(texts)[:2000] or None),
        source=INCIDENT_SOURCE[conv["channel"]], actor=actor, recommend=False))
    session.execute(_sql("converted"), {"id": conv_id, "incident": incident["id"]})
    if conv["call_id"] is not None:
        session.execute(_sql("link_call"), {"call": conv["call_id"], "incident": incident["id"], "operator": actor})
    session.execute(_sql("reply"), {"id": conv_id, "body": f"Laporan 112 #{incident['id']}: laporan diterima."})
    session.commit()
    return {"conversation": conv_id, "incident": incident}


def close(session: Session, conv_id: int, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """End a conversation that is not an incident, saying what it was (as for a call)."""
    conv = get_conversation(session, conv_id)
    disposition = body.get("disposition")
    if disposition not in CLOSING:
        raise InvalidInput(f"disposition must be one of {', '.join(CLOSING)}", "disposition")
    forwarded_to = _str(body.get("forwarded_to"), "forwarded_to", 100, disposition == "diteruskan")
    if forwarded_to and disposition != "diteruskan":
        raise InvalidInput("forwarded_to goes with disposition 'diteruskan'", "forwarded_to")
    if conv["status"] != "open":
        raise Conflict(f"conversation {conv_id} is {conv['status']}", "status")
    session.execute(_sql("close"), {"id": conv_id})
    if conv["call_id"] is not None:
        session.execute(_sql("close_call"), {"call": conv["call_id"], "disposition": disposition,
                                             "forwarded_to": forwarded_to, "operator": actor})
    session.commit()
    return get_conversation(session, conv_id)


def reply(session: Session, conv_id: int, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """Queue the operator's answer for the sender (the outbox is sent by the channel's own process)."""
    text = _str(body.get("text"), "text", MAX_BODY) or ""
    get_conversation(session, conv_id)
    session.execute(_sql("add_message"), {"conversation": conv_id, "direction": "out", "external_id": None,
                                          "at": None, "body": text, "media": None, "actor": actor,
                                          "lat": None, "lon": None})
    session.execute(_sql("reply"), {"id": conv_id, "body": text})
    session.commit()
    return get_conversation(session, conv_id)
