"""Numbers and times as an Indonesian reader writes them: "28,7", "1.234", "28 Nov 2026 16.20 WIB".

The dashboard formats in the browser with ``Intl.NumberFormat("id-ID")``; the pages and
reports the server renders (weekly report, CAP alert page) use these functions, which give
the same text for the same value (decimal comma, thousands dot, half away from zero), so
one figure never reads "28.7" on one screen and "28,7" on another. English (``lang="en"``)
keeps the decimal point and a thousands comma, as ``Intl.NumberFormat("en-GB")`` does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from app.city.profile import zone_abbreviation

MONTHS = {"id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
          "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")}


def number(value: float | int | None, digits: int = 0, lang: str = "id") -> str:
    """``value`` rounded half away from zero to ``digits`` decimals, grouped by thousands."""
    if value is None:
        return "—"
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{q:,.{digits}f}"  # 1,234.5
    if lang == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(share: float | None, digits: int = 1, lang: str = "id") -> str:
    """A share (0..1) as a percentage: 0.287 -> "28,7%"."""
    return "—" if share is None else number(share * 100, digits, lang) + "%"


def duration(seconds: float | None, lang: str = "id") -> str:
    """A response time in the unit an official reads it in (minutes, hours, then days), one decimal."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{number(seconds / 60, 1, lang)} {'mnt' if lang == 'id' else 'min'}"
    if seconds < 48 * 3600:
        return f"{number(seconds / 3600, 1, lang)} {'jam' if lang == 'id' else 'h'}"
    return f"{number(seconds / 86400, 1, lang)} {'hari' if lang == 'id' else 'd'}"


def local_time(dt: datetime, tz: ZoneInfo, lang: str = "id") -> str:
    """The city's wall clock: "28 Nov 2026 16.20 WIB" (Indonesian writes the time with a dot)."""
    d = dt.astimezone(tz)
    sep = "." if lang == "id" else ":"
    return f"{d.day} {MONTHS[lang][d.month - 1]} {d.year} {d:%H}{sep}{d:%M} {zone_abbreviation(tz)}"
