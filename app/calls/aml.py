"""Advanced Mobile Location: where the caller's handset says it is, with how sure it is.

During a 112 call most smartphones send their position by themselves (ETSI TS 103 625,
EENA's AML; Android's ELS): as an SMS to the centre's short number, or as an HTTPS post.
The SMS text is ``A"ML=1;lt=+55.74317;lg=-4.26881;rd=50;top=20130717141935;lc=90;pm=G;
si=...;ei=...;mcc=...;mnc=...;ml=128``; the HTTPS form carries ``location_latitude``,
``location_longitude``, ``location_accuracy``, ``location_time`` (ms) and
``location_source``.  Both are read strictly (every field checked, nothing else
accepted), because the gateway relays whatever a handset, or anyone with an SMS modem,
sent.  The IMSI and IMEI are checked for form and then dropped: the desk needs the
position, not the device's identity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.calls import numbers, records
from app.db import sqlfiles
from app.services.errors import InvalidInput

PACKAGE, FILE = "app.calls", "sql/aml.sql"
MAX_TEXT = 400  # an SMS is at most 160 characters; concatenated, a few times that
MAX_RADIUS_M = 100_000.0
# A 112 centre in Indonesia: a fix outside the country is a broken handset or a forgery.
INDONESIA_BBOX = (94.0, -11.5, 141.5, 6.5)
SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "H": "hybrid"}
HTTPS_METHODS = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "fused": "hybrid",
                 "hybrid": "hybrid", "unknown": "unknown"}
SMS_FIELDS = ("lt", "lg", "rd", "top", "lc", "pm", "si", "ei", "mcc", "mnc", "ml")
_SIGNED = re.compile(r"^[+-]?\d{1,3}\.\d{1,7}$")
_DIGITS = {"si": (r"^\d{6,15}$", "an IMSI"), "ei": (r"^\d{14,16}$", "an IMEI"), "mcc": (r"^\d{3}$", "3 digits"),
           "mnc": (r"^\d{2,3}$", "2 or 3 digits"), "ml": (r"^\d{1,4}$", "a length")}


@dataclass(frozen=True)
class Fix:
    """One position of a caller's handset."""

    phone: str
    lat: float
    lon: float
    radius_m: float
    positioned_at: datetime
    method: str
    confidence: int | None
    source: str  # aml_sms | aml_https


def _coordinate(raw: str, field: str, limit: float) -> float:
    if not _SIGNED.match(raw):
        raise InvalidInput(f"{field} must be a signed decimal number of degrees", field)
    value = float(raw)
    if not -limit <= value <= limit:
        raise InvalidInput(f"{field} must be within ±{limit:g} degrees", field)
    return value


def _radius(value: object, field: str) -> float:
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a radius in metres", field)
    try:
        radius = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a radius in metres", field) from None
    if not math.isfinite(radius) or not 0 < radius <= MAX_RADIUS_M:
        raise InvalidInput(f"{field} must be more than 0 and at most {MAX_RADIUS_M:g} m", field)
    return radius


def _confidence(value: object, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput(f"{field} must be a percentage (0 to 100)", field)
    return value


def _in_country(lat: float, lon: float, field: str) -> None:
    x0, y0, x1, y1 = INDONESIA_BBOX
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise InvalidInput("the position is outside Indonesia", field)


def parse_sms(text: str, phone: object) -> Fix:
    """The AML SMS text (as received) and the number that sent it (the SMS's originator)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the body must be the AML SMS text", "body")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"an AML message is at most {MAX_TEXT} characters", "body")
    head, _, rest = text.partition(";")
    if head not in ('A"ML=1', 'A"ML=2'):
        raise InvalidInput('not an AML message (it starts with A"ML=1)', "A\"ML")
    fields: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, value = part.partition("=")
        if not sep or key not in SMS_FIELDS:
            raise InvalidInput(f"unknown AML field {key[:20]!r}", "body")
        if key in fields:
            raise InvalidInput(f"AML field {key} is repeated", key)
        fields[key] = value
    for key in ("lt", "lg", "rd", "top", "pm"):
        if key not in fields:
            raise InvalidInput(f"AML field {key} is missing", key)
    if fields["pm"] == "N":
        raise InvalidInput("the handset found no position (pm=N)", "pm")
    if fields["pm"] not in SMS_METHODS:
        raise InvalidInput("pm must be G, W, C, H or N", "pm")
    for key, (pattern, what) in _DIGITS.items():
        if key in fields and not re.match(pattern, fields[key]):
            raise InvalidInput(f"{key} must be {what}", key)
    lat = _coordinate(fields["lt"], "lt", 90)
    lon = _coordinate(fields["lg"], "lg", 180)
    _in_country(lat, lon, "lt")
    if not re.match(r"^\d{14}$", fields["top"]):
        raise InvalidInput("top must be the time of positioning as YYYYMMDDhhmmss (UTC)", "top")
    try:
        top = datetime.strptime(fields["top"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("top is not a valid time", "top") from None
    if not re.match(r"^\d{1,6}(\.\d{1,2})?$", fields["rd"]):
        raise InvalidInput("rd must be the radius in metres", "rd")
    return Fix(phone=numbers.normalise(phone, "from", required=True) or "", lat=lat, lon=lon,
               radius_m=_radius(fields["rd"], "rd"), positioned_at=records.parse_time(top.isoformat(), "top") or top,
               method=SMS_METHODS[fields["pm"]], confidence=_confidence(fields.get("lc"), "lc"), source="aml_sms")


def _number(body: dict[str, Any], field: str, limit: float) -> float:
    value = body.get(field)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInput(f"{field} must be a number", field) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a number", field)
    if not -limit <= value <= limit:
        raise InvalidInput(f"{field} must be within ±{limit:g}", field)
    return float(value)


def parse_https(body: dict[str, Any], phone: object = None) -> Fix:
    """The HTTPS form (ELS/AML field names), as JSON or form fields."""
    lat = _number(body, "location_latitude", 90)
    lon = _number(body, "location_longitude", 180)
    _in_country(lat, lon, "location_latitude")
    radius = _radius(body.get("location_accuracy"), "location_accuracy")
    raw_time = body.get("location_time", body.get("time"))
    if isinstance(raw_time, str) and raw_time.isdigit():
        raw_time = int(raw_time)
    if isinstance(raw_time, bool) or not isinstance(raw_time, int):
        raise InvalidInput("location_time must be the time of the fix in milliseconds since 1970", "location_time")
    positioned_at = records.parse_time(raw_time / 1000, "location_time")
    source = body.get("location_source", "unknown")
    if not isinstance(source, str) or source.lower() not in HTTPS_METHODS:
        raise InvalidInput(f"location_source must be one of {', '.join(HTTPS_METHODS)}", "location_source")
    number = phone if phone not in (None, "") else body.get("device_number")
    return Fix(phone=numbers.normalise(number, "device_number", required=True) or "", lat=lat, lon=lon,
               radius_m=radius, positioned_at=positioned_at or datetime.now(UTC),
               method=HTTPS_METHODS[source.lower()],
               confidence=_confidence(body.get("location_confidence"), "location_confidence"), source="aml_https")


def store(session: Session, fix: Fix, actor: str) -> dict[str, Any]:
    """Keep the fix, link it to the caller's current call, and let that call's consoles know."""
    row = session.execute(sqlfiles.statement(PACKAGE, FILE, "insert_fix"), {
        "phone": fix.phone, "lat": fix.lat, "lon": fix.lon, "radius_m": fix.radius_m,
        "positioned_at": fix.positioned_at, "method": fix.method, "confidence": fix.confidence,
        "source": fix.source, "actor": actor}).mappings().one()
    if row["call_id"] is not None:
        session.execute(sqlfiles.statement(PACKAGE, FILE, "touch_call"),
                        {"call_id": row["call_id"], "kelurahan_id": row["kelurahan_id"]})
    session.commit()
    return {"id": int(row["id"]), "call_id": row["call_id"]}
