"""Writing calls: the PBX's ring/answer/hangup, a contact logged at the desk, its disposition.

Every contact with the centre becomes one ``calls`` row, whatever came of it.  The PBX
opens it at ``ring`` (the console pops the caller's history before anyone speaks),
stamps the operator at ``answer`` and closes it at ``hangup``; the operator then says
what it was (an incident, information, a wrong number, silence, a prank, a test, or a
request forwarded to another service such as PMI).  Telephony events are idempotent on
the PBX's call id, because webhooks are retried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.calls import numbers
from app.db import sqlfiles
from app.domain.roles import PERSONAL_DATA_ROLES
from app.services.errors import Conflict, InvalidInput, NotFound

PACKAGE, FILE = "app.calls", "sql/calls.sql"

CHANNELS = ("phone", "chat", "web", "sms")
DISPOSITIONS = ("incident", "informasi", "salah_sambung", "diam", "iseng", "tes", "diteruskan")
EVENTS = ("ring", "answer", "hangup")
# How far a client's clock may run ahead of ours, and how far back a contact may be logged.
CLOCK_SKEW = timedelta(minutes=5)
BACKFILL = timedelta(days=31)
TEXT_LIMITS = {"line": 100, "external_id": 200, "forwarded_to": 100, "note": 2000, "call_id": 200}


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _text(body: dict[str, Any], field: str, key: str | None = None) -> str | None:
    value = body.get(key or field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) and not (field == "call_id" and isinstance(value, int)
                                           and not isinstance(value, bool)):
        raise InvalidInput(f"{field} must be a string", field)
    value = str(value).strip()
    if len(value) > TEXT_LIMITS[field]:
        raise InvalidInput(f"{field} must be at most {TEXT_LIMITS[field]} characters", field)
    return value or None


def _choice(value: object, field: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)}", field)
    return value


def parse_time(value: object, field: str, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 date-time (or Unix seconds) no further ahead than clock skew allows."""
    if value is None or value == "":
        return None
    now = now or datetime.now(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not 0 < value < 4_102_444_800:
            raise InvalidInput(f"{field} must be a date-time", field)
        at = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field} must be an ISO 8601 date-time", field) from None
        if at.tzinfo is None:
            raise InvalidInput(f"{field} must carry a time zone (e.g. Z or +07:00)", field)
    else:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time", field)
    if at > now + CLOCK_SKEW:
        raise InvalidInput(f"{field} is in the future", field)
    if at < now - BACKFILL:
        raise InvalidInput(f"{field} is more than {BACKFILL.days} days ago", field)
    return at


def _incident_id(session: Session, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidInput("incident_id must be an incident id", "incident_id")
    if not session.execute(_sql("incident_exists"), {"id": value}).scalar_one():
        raise InvalidInput(f"no incident {value}", "incident_id")
    return value


def desk_operator(session: Session, value: object, field: str = "operator") -> str | None:
    """A username of an active desk user (who answers calls), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 100:
        raise InvalidInput(f"{field} must be a username", field)
    found = session.execute(_sql("desk_user"), {"username": value.strip(),
                                                "roles": sorted(PERSONAL_DATA_ROLES)}).scalar()
    if found is None:
        raise InvalidInput(f"{field} {value.strip()!r} is not an active call-taker, dispatcher or admin", field)
    return found


def _check_disposition(disposition: str | None, forwarded_to: str | None, incident_id: int | None) -> None:
    if forwarded_to and disposition != "diteruskan":
        raise InvalidInput("forwarded_to goes with disposition 'diteruskan'", "forwarded_to")
    if disposition == "diteruskan" and not forwarded_to:
        raise InvalidInput("a forwarded call names the service it went to (e.g. PMI)", "forwarded_to")
    if incident_id is not None and disposition not in (None, "incident"):
        raise InvalidInput("a call that reports an incident has disposition 'incident'", "disposition")


def _check_order(offered: datetime | None, answered: datetime | None, ended: datetime | None) -> None:
    start = offered or datetime.now(UTC)
    if answered and answered < start:
        raise InvalidInput("answered_at is before offered_at", "answered_at")
    if ended and ended < (answered or start):
        raise InvalidInput("ended_at is before the call was offered or answered", "ended_at")


def log_call(session: Session, body: dict[str, Any], actor: str, actor_is_desk: bool) -> int:
    """A contact logged at the desk (a walk-in phone line without PBX, a chat, an SMS); returns its id."""
    channel = _choice(body.get("channel"), "channel", CHANNELS, "phone")
    offered = parse_time(body.get("offered_at"), "offered_at")
    answered = parse_time(body.get("answered_at"), "answered_at")
    ended = parse_time(body.get("ended_at"), "ended_at")
    _check_order(offered, answered, ended)
    disposition = _choice(body.get("disposition"), "disposition", DISPOSITIONS)
    forwarded_to = _text(body, "forwarded_to")
    incident_id = _incident_id(session, body.get("incident_id"))
    if incident_id is not None and disposition is None:
        disposition = "incident"
    _check_disposition(disposition, forwarded_to, incident_id)
    operator = desk_operator(session, body.get("operator")) or (actor if actor_is_desk and answered else None)
    row = session.execute(_sql("insert_call"), {
        "channel": channel, "caller_phone": numbers.normalise(body.get("caller_phone")),
        "line": _text(body, "line"), "external_id": _text(body, "external_id"), "operator": operator,
        "offered_at": offered, "answered_at": answered, "ended_at": ended, "disposition": disposition,
        "forwarded_to": forwarded_to, "incident_id": incident_id, "note": _text(body, "note"), "actor": actor,
    }).first()
    if row is None:
        raise Conflict("a call with this external_id exists", "external_id")
    session.commit()
    return int(row[0])


@dataclass(frozen=True)
class EventResult:
    call_id: int
    event: str
    created: bool


def telephony_event(session: Session, body: dict[str, Any], actor: str) -> EventResult:
    """Apply one PBX event (``ring``, ``answer``, ``hangup``) to the call it names; retries are harmless."""
    event = _choice(body.get("event"), "event", EVENTS)
    if event is None:
        raise InvalidInput("event is required (ring, answer or hangup)", "event")
    external_id = _text(body, "call_id")
    if external_id is None:
        raise InvalidInput("call_id (the PBX's id of the call) is required", "call_id")
    at = parse_time(body.get("at"), "at")
    if event == "ring":
        channel = _choice(body.get("channel"), "channel", CHANNELS, "phone")
        row = session.execute(_sql("insert_call"), {
            "channel": channel, "caller_phone": numbers.normalise(body.get("from"), "from"),
            "line": _text(body, "line", "to"), "external_id": external_id, "operator": None, "offered_at": at,
            "answered_at": None, "ended_at": None, "disposition": None, "forwarded_to": None,
            "incident_id": None, "note": None, "actor": actor,
        }).first()
        if row is not None:
            session.commit()
            return EventResult(int(row[0]), event, True)
    existing = session.execute(_sql("id_by_external"), {"external_id": external_id}).mappings().first()
    if existing is None:
        raise NotFound(f"no call with call_id {external_id!r} (a ring comes first)", "call_id")
    call_id = int(existing["id"])
    if event == "answer":
        operator = desk_operator(session, body.get("operator"))
        if operator is None:
            raise InvalidInput("operator (the username who answered) is required", "operator")
        if existing["ended_at"] is not None and existing["answered_at"] is None:
            raise Conflict("the caller hung up before this answer", "event")
        session.execute(_sql("answer"), {"id": call_id, "at": at, "operator": operator})
    elif event == "hangup":
        session.execute(_sql("hang_up"), {"id": call_id, "at": at})
    session.commit()
    return EventResult(call_id, event, False)


def update_call(session: Session, call_id: int, body: dict[str, Any], actor: str, actor_is_desk: bool) -> None:
    """The operator's part: disposition, the incident it reports, where it was forwarded, a note, answer/end."""
    for flag in ("answered", "ended"):
        if flag in body and not isinstance(body[flag], bool):
            raise InvalidInput(f"{flag} must be true or false", flag)
    current = session.execute(_sql("call_for_update"), {"id": call_id}).mappings().first()
    if current is None:
        raise NotFound(f"no call {call_id}")
    merged = dict(current)
    if "disposition" in body:
        merged["disposition"] = _choice(body.get("disposition"), "disposition", DISPOSITIONS)
        if merged["disposition"] != "diteruskan" and "forwarded_to" not in body:
            merged["forwarded_to"] = None
    if "forwarded_to" in body:
        merged["forwarded_to"] = _text(body, "forwarded_to")
    if "incident_id" in body:
        merged["incident_id"] = _incident_id(session, body.get("incident_id"))
        if merged["incident_id"] is not None and "disposition" not in body:
            merged["disposition"] = "incident"
    if "note" in body:
        merged["note"] = _text(body, "note")
    now = datetime.now(UTC)
    if body.get("answered") is True and merged["answered_at"] is None:
        if merged["ended_at"] is not None:
            raise Conflict("the call has ended without being answered", "answered")
        merged["answered_at"] = now
        merged["operator"] = merged["operator"] or (actor if actor_is_desk else None)
    if body.get("ended") is True and merged["ended_at"] is None:
        merged["ended_at"] = now
    _check_disposition(merged["disposition"], merged["forwarded_to"], merged["incident_id"])
    session.execute(_sql("update_call"), {**merged, "id": call_id})
    session.commit()
