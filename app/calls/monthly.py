"""The monthly recap a 112 centre sends to the ministry: calls, incidents, response times.

One local calendar month (the city's clock: WIB, WITA or WIT).  Calls are every contact (``call_facts``), by
disposition, channel and where they were forwarded, with answer and handle times;
incidents are the counted calls of ``incident_facts`` (no pranks, cancellations or
duplicates, as every analytic), by category with response times (received to first unit
on scene) and by agency with task times.  The same figures come as JSON and as one CSV
table of ``month,section,group,key,metric,value`` rows (schema in docs/call-centre.md),
so a spreadsheet can pivot it and a test can add it up against the raw tables.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.city.profile import city_zone
from app.db import sqlfiles
from app.services.errors import InvalidInput

PACKAGE, FILE = "app.calls", "sql/monthly.sql"
SCHEMA_VERSION = 1
CSV_COLUMNS = ("month", "section", "group", "key", "metric", "value")
ANSWER_WITHIN_S = 10.0


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def month_window(month: str | None, tz: ZoneInfo, now: datetime | None = None) -> tuple[str, datetime, datetime]:
    """``YYYY-MM`` (default: the last complete month) as its local [start, end)."""
    if month is None or month == "":
        today = (now or datetime.now(tz)).astimezone(tz)
        year, mon = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    else:
        m = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
            raise InvalidInput("month must be YYYY-MM (2000-01 to 2100-12)", "month")
        year, mon = int(m.group(1)), int(m.group(2))
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return f"{year:04d}-{mon:02d}", start, end


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 1)
    if hasattr(v, "__float__") and not isinstance(v, (int, bool)):
        return round(float(v), 1)
    return v


def _rows(session: Session, name: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in session.execute(_sql(name), p).mappings()]


def recap(session: Session, month: str | None) -> dict[str, Any]:
    tz = city_zone(session)
    label, start, end = month_window(month, tz)
    p = {"since": start, "until": end, "within": ANSWER_WITHIN_S}
    calls = {k: _clean(v) for k, v in session.execute(_sql("calls_total"), p).mappings().one().items()}
    offered = calls["offered"]
    calls["service_level"] = round(calls["answered_within"] / offered, 3) if offered else None
    incidents = {k: _clean(v) for k, v in session.execute(_sql("incidents_total"), p).mappings().one().items()}
    return {
        "schema": SCHEMA_VERSION, "month": label, "time_zone": tz.key,
        "window": {"since": start.isoformat(), "until": end.isoformat()},
        "answer_within_s": ANSWER_WITHIN_S,
        "calls": {
            "totals": calls,
            "by_disposition": _rows(session, "calls_by_disposition", p),
            "by_channel": _rows(session, "calls_by_channel", p),
            "forwarded_to": _rows(session, "calls_forwarded_to", p),
        },
        "incidents": {
            "totals": incidents,
            "by_category": _rows(session, "incidents_by_category", p),
            "by_agency": _rows(session, "incidents_by_agency", p),
        },
    }


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is quoted with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(report: dict[str, Any]) -> str:
    """The recap as one long table: one figure per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    month = report["month"]
    for section in ("calls", "incidents"):
        for metric, value in report[section]["totals"].items():
            writer.writerow([_cell(v) for v in (month, section, "total", "", metric, value)])
        for group, rows in report[section].items():
            if group == "totals":
                continue
            for row in rows:
                for metric, value in row.items():
                    if metric not in ("key", "name"):
                        writer.writerow([_cell(v) for v in (month, section, group, row["key"], metric, value)])
    return out.getvalue()
