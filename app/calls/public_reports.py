"""The public report form (/lapor): non-emergency reports from anyone, in the style of FixMyStreet.

A resident reports a fallen tree, a street light out, a flooded street: one of the
categories the city marked public (``incident_categories.is_public``), a point on the
map or an address, a few words, optionally a photo and a phone number for updates.  The
report becomes an incident for the category's agencies at once (as the ``integration``
viewer, like an Open311 request), a contact in ``calls`` (channel web) and a
conversation the desk can read.  The reporter gets a token: ``GET
/api/v1/public/reports/<token>`` tells the status and nothing else, and with a phone
number each status change is queued as an SMS (the trigger of migration 0021).

Photos are checked by content, not by name or header (JPEG or PNG, at most
``MAX_PHOTO_BYTES``, a real image of sane size), re-encoded (which drops EXIF, GPS
included) and stored under ``<var dir>/uploads`` with a name made from their hash, never
under ``static/``; only the desk is served them.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import secrets
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from app.calls import channels, numbers
from app.db import sqlfiles
from app.services.errors import InvalidInput, NotFound

MAX_PHOTO_BYTES = 900_000  # under the 1 MB request limit (app/web/hygiene.py), with the form around it
MAX_PIXELS = 40_000_000
MAX_DESCRIPTION = 1000
PHOTO_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


def _sql(name: str) -> Any:
    return sqlfiles.statement("app.calls", "sql/channels.sql", name)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def public_categories(session: Session) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(_sql("public_categories")).mappings()]


def _photo(data: bytes) -> tuple[bytes, str, str]:
    """(clean bytes, mime type, extension) of an uploaded photo, or 422 naming ``photo``."""
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(f"the photo must be at most {MAX_PHOTO_BYTES // 1000} kB", "photo")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise InvalidInput("the photo must be a JPEG or PNG image", "photo")
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in PHOTO_FORMATS or img.width * img.height > MAX_PIXELS:
                raise InvalidInput("the photo must be a JPEG or PNG image of sane size", "photo")
            img.load()
            fmt = img.format
            clean = io.BytesIO()
            out = img.convert("RGB") if fmt == "JPEG" else img
            out.save(clean, format=fmt)  # a fresh file: no EXIF (no GPS of the reporter's home), no trailing data
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise InvalidInput("the photo could not be read as an image", "photo") from None
    mime, ext = PHOTO_FORMATS[fmt]
    return clean.getvalue(), mime, ext


def store_photo(upload_dir: Path, data: bytes) -> dict[str, Any]:
    clean, mime, ext = _photo(data)
    name = f"{hashlib.sha256(clean).hexdigest()}.{ext}"
    upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = upload_dir / name
    if not target.exists():
        tmp = upload_dir / f".{name}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(clean)
        os.replace(tmp, target)
    return {"kind": "photo", "file": name, "mime_type": mime, "bytes": len(clean)}


def photo_path(upload_dir: Path, media: dict[str, Any]) -> tuple[Path, str]:
    name = str(media.get("file", ""))
    stem, _, ext = name.partition(".")
    if len(stem) != 64 or not all(c in "0123456789abcdef" for c in stem) or ext not in ("jpg", "png"):
        raise NotFound("no such photo")
    path = upload_dir / name
    if not path.is_file():
        raise NotFound("the photo is no longer stored")
    return path, str(media.get("mime_type") or "application/octet-stream")


def submit(session: Session, form: dict[str, Any], photo: bytes | None, upload_dir: Path) -> dict[str, Any]:
    """File a public report; returns the report, its incident and the reporter's token."""
    category = form.get("category")
    codes = {c["code"] for c in public_categories(session)}
    if category not in codes:
        raise InvalidInput(f"category must be one of the public categories: {', '.join(sorted(codes))}", "category")
    lat, lon = form.get("lat"), form.get("lon")
    address = form.get("address") or None
    if lat in (None, "") or lon in (None, ""):
        lat = lon = None
        if not isinstance(address, str) or not address.strip():
            raise InvalidInput("give a point on the map (lat, lon) or an address", "lat")
    else:
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            raise InvalidInput("lat and lon must be numbers", "lat") from None
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise InvalidInput("lat and lon must be numbers", "lat")
    description = form.get("description") or None
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise InvalidInput(f"description must be text of at most {MAX_DESCRIPTION} characters", "description")
    phone = numbers.normalise(form.get("phone") or None, "phone")
    media = [store_photo(upload_dir, photo)] if photo else []
    token = secrets.token_urlsafe(18)
    digest = token_hash(token)
    received = channels.receive(session, channels.Inbound(
        "web", chat=f"web:{digest[:32]}", message_id="report", phone=phone, text=description, lat=lat, lon=lon,
        media=media), "public", category=category, token_sha256=digest)
    converted = channels.convert(session, received["conversation"],
                                 {"category": category, "address": address, "lat": lat, "lon": lon,
                                  "description": description}, "public")
    return {"report": received["conversation"], "incident": converted["incident"]["id"], "token": token,
            "status_url": f"/api/v1/public/reports/{token}"}


def status(session: Session, token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not 10 <= len(token) <= 64:
        raise NotFound("no such report")
    row = session.execute(_sql("report_status"), {"token": token_hash(token)}).mappings().first()
    if row is None:
        raise NotFound("no such report")
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
