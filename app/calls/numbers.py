"""Callers' numbers in one form, so a ring, an AML SMS and an old incident find each other.

The PBX sends ``+62812...``, an AML gateway ``62812...``, a call-taker types ``0812-...``:
all become E.164 (``+62812...``).  The database has the same rule (``peta112_norm_phone``,
migration 0019) for numbers stored before it existed.
"""

from __future__ import annotations

import re

from app.services.errors import InvalidInput

MAX_DIGITS = 15  # E.164
_ALLOWED = re.compile(r"^\+?[0-9 ()\-./]{1,40}$")


def normalise(raw: object, field: str = "caller_phone", required: bool = False) -> str | None:
    """E.164 for Indonesian numbers; other digits kept (short codes, foreign numbers with +)."""
    if raw is None or raw == "":
        if required:
            raise InvalidInput(f"{field} is required", field)
        return None
    if not isinstance(raw, str) or not _ALLOWED.match(raw.strip()):
        raise InvalidInput(f"{field} must be a phone number (digits, optional leading +)", field)
    text = raw.strip()
    digits = re.sub(r"[^0-9]", "", text)
    if not 3 <= len(digits) <= MAX_DIGITS:
        raise InvalidInput(f"{field} must have 3 to {MAX_DIGITS} digits", field)
    if digits.startswith("62"):
        return "+" + digits
    if digits.startswith("0"):
        return "+62" + digits[1:]
    return ("+" + digits) if text.startswith("+") else digits
