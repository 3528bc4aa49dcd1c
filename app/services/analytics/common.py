"""What every analytic shares: which calls it counts, the data window, category validation, local time.

Every analytic reads ``incident_facts`` (aliased ``f``), the read model of
app/incidents, and counts only ``f.is_counted`` calls: a prank, a cancelled call
or a duplicate report is not a place or a time where something happened.  The
SQL fragments below are that rule with the window and the usual filters, written
once, so hotspots, clusters, trends, agency performance, the dashboard and the
reports count the same calls for the same window and filter
(tests/integration/test_analytics_agree.py).

Call-centre staff think in their city's wall-clock time (WIB, WITA or WIT, stored by
``city setup`` in city_profile; WIB for the demo city), so a date without an offset
means local midnight, and hour-of-day/month groupings are local too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.city.profile import city_zone
from app.incidents.lifecycle import INCIDENT_NOT_COUNTED
from app.services.errors import InvalidInput

MAX_WINDOW_DAYS = 366 * 10

# Fragments over ``incident_facts f``; parameters :since, :until, :categories (text[] or NULL), :kecamatan.
IN_WINDOW = "f.received_at >= :since AND f.received_at < :until"
IN_CATEGORIES = "(CAST(:categories AS text[]) IS NULL OR f.category = ANY(CAST(:categories AS text[])))"
IN_KECAMATAN = "(CAST(:kecamatan AS text) IS NULL OR f.kecamatan_code = CAST(:kecamatan AS text))"
# The calls an analytic counts: real calls received in the window, in the chosen categories.
COUNTED = f"f.is_counted AND {IN_WINDOW} AND {IN_CATEGORIES}"
# What ``parameters.excludes`` says in every analytic's answer (the rule itself is in incident_facts).
NOT_COUNTED = (*sorted(INCIDENT_NOT_COUNTED), "duplicate")

CATEGORY_CODES_SQL = text("SELECT code FROM incident_categories ORDER BY code")
AGENCY_CODES_SQL = text("SELECT code FROM agencies ORDER BY code")
KECAMATAN_SQL = text("SELECT code FROM admin_areas WHERE level = 'kecamatan' AND code = :code")


@dataclass(frozen=True)
class Window:
    """Half-open interval [since, until) of ``received_at`` (or ``forwarded_at``), both tz-aware.

    ``tz`` is the city's clock the window was made on (``make_window`` read it to place a bare
    date at local midnight); an analytic groups by hour or month on that same clock, so one request
    reads city_profile once.  A window built by hand (a notebook) leaves it out: ``zone`` reads it.
    """

    since: datetime
    until: datetime
    tz: ZoneInfo | None = field(default=None, compare=False)

    def zone(self, session: Session) -> ZoneInfo:
        """The city's clock: the one the window was made on, else the stored one."""
        return self.tz or city_zone(session)

    def to_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


def as_aware(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Attach the city's zone to naive date-times: what an operator typing "2025-12-01" means."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def make_window(since: datetime | None, until: datetime | None, default_days: float, tz: ZoneInfo,
                now: datetime | None = None) -> Window:
    """Validate a window; missing ends default to now and ``default_days`` before ``until``."""
    u = as_aware(until, tz) or (now or datetime.now(UTC))
    s = as_aware(since, tz) or (u - timedelta(days=default_days))
    if s >= u:
        raise InvalidInput("since must be before until", "since")
    if u - s > timedelta(days=MAX_WINDOW_DAYS):
        raise InvalidInput(f"the window may span at most {MAX_WINDOW_DAYS} days", "since")
    return Window(s, u, tz)


def local_months(since: datetime, until: datetime, tz: ZoneInfo) -> list[tuple[int, int]]:
    """(year, month) on the city's clock from the month of ``since`` to that of ``until``, inclusive."""
    a, b = since.astimezone(tz), until.astimezone(tz)
    y, m, out = a.year, a.month, []
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def check_categories(session: Session, categories: list[str] | None, field: str = "category") -> list[str] | None:
    """Unknown category codes are a 422 naming the field, not an empty result that looks like good news."""
    if not categories:
        return None
    known = set(session.execute(CATEGORY_CODES_SQL).scalars())
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise InvalidInput(f"unknown category {', '.join(unknown)}; known: {', '.join(sorted(known))}", field)
    return sorted(set(categories))


def check_agency(session: Session, agency: str | None, field: str = "agency") -> str | None:
    if not agency:
        return None
    known = set(session.execute(AGENCY_CODES_SQL).scalars())
    if agency not in known:
        raise InvalidInput(f"unknown agency {agency}; known: {', '.join(sorted(known))}", field)
    return agency


def check_kecamatan(session: Session, code: str | None, field: str = "kecamatan") -> str | None:
    if not code:
        return None
    if session.execute(KECAMATAN_SQL, {"code": code}).scalar_one_or_none() is None:
        raise InvalidInput(f"unknown kecamatan code {code}", field)
    return code


def check_range(value: float, lo: float, hi: float, field: str) -> float:
    if not lo <= value <= hi:
        raise InvalidInput(f"{field} must be between {lo:g} and {hi:g}", field)
    return value


def check_choice(value: str, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise InvalidInput(f"{field} must be one of {'|'.join(choices)}", field)
    return value


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
