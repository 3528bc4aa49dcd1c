"""Trends: when calls come (hour x weekday, Jakarta time), what they are about per month, pranks, floods.

All groupings are on the city's clock (WIB, WITA or WIT, from city_profile): a 07:00 rush-hour accident
peak must show at 07:00, not 00:00 UTC.  The heatmap, the monthly mix and the
flood curve count incidents as every analytic does (``incident_facts.is_counted``:
no pranks, cancelled calls or duplicates).  The prank rate is the one series of
*calls*: every call in the window, and the share that were pranks
(``is_prank_call``), because it is about the call centre's load.  The category
filter narrows the heatmap and the monthly mix; the prank rate and the flood
curve ignore it (the load and the season, not the selected categories).  The
kecamatan filter (optional) narrows all four.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics import rollup, trends_cells
from app.services.analytics.common import (
    COUNTED,
    IN_KECAMATAN,
    IN_WINDOW,
    NOT_COUNTED,
    Window,
    check_categories,
    check_kecamatan,
    local_months,
)

FLOOD_CATEGORIES = ("banjir", "rob")
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

_LOCAL = "(f.received_at AT TIME ZONE CAST(:tz AS text))"  # the city's clock (city_profile)

HOUR_DOW_SQL = text(f"""
    SELECT EXTRACT(isodow FROM {_LOCAL})::int AS dow, EXTRACT(hour FROM {_LOCAL})::int AS hour, count(*) AS n
    FROM incident_facts f WHERE {COUNTED} AND {IN_KECAMATAN}
    GROUP BY 1, 2
""")

MIX_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, f.category, count(*) AS n
    FROM incident_facts f WHERE {COUNTED} AND {IN_KECAMATAN}
    GROUP BY 1, 2 ORDER BY 1, 2
""")

# The call centre's load: every call, counted or not, and how many of them were pranks.
PRANK_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, count(*) AS calls,
           count(*) FILTER (WHERE f.is_prank_call) AS pranks
    FROM incident_facts f WHERE {IN_WINDOW} AND {IN_KECAMATAN}
    GROUP BY 1 ORDER BY 1
""")

FLOOD_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, f.category, count(*) AS n
    FROM incident_facts f WHERE f.is_counted AND {IN_WINDOW} AND {IN_KECAMATAN} AND f.category = ANY(:flood)
    GROUP BY 1, 2 ORDER BY 1, 2
""")


@dataclass(frozen=True)
class TrendQuery:
    window: Window
    categories: list[str] | None = None
    kecamatan: str | None = None


KECAMATAN_IDS_SQL = text("SELECT id FROM admin_areas WHERE code = :code")


def _counts(session: Session, q: TrendQuery, p: dict[str, Any], tz: ZoneInfo,
            use_rollup: bool) -> tuple[dict[str, list[Any]], str]:
    """The four count tables, from the rollup's incident cells when this reader may, else the raw queries."""
    snap = rollup.snapshot(session, "incidents", q.window.since, q.window.until) if use_rollup else None
    if snap is not None:
        kec_ids = None if p["kecamatan"] is None else \
            list(session.execute(KECAMATAN_IDS_SQL, {"code": p["kecamatan"]}).scalars())
        got = trends_cells.rows(snap, since=q.window.since, until=q.window.until, categories=p["categories"],
                                kecamatan_ids=kec_ids, flood=FLOOD_CATEGORIES, tz=tz)
        if got is not None:
            return got, "rollup"
    return {"hour_dow": session.execute(HOUR_DOW_SQL, p).all(), "mix": session.execute(MIX_SQL, p).all(),
            "prank": session.execute(PRANK_SQL, p).all(),
            "flood": session.execute(FLOOD_SQL, {**p, "flood": list(FLOOD_CATEGORIES)}).all()}, "incidents"


def trends(session: Session, q: TrendQuery, use_rollup: bool = True) -> dict[str, Any]:
    """Hour-of-day x day-of-week matrix, monthly category mix, monthly prank rate, seasonal flood curve.

    Counted from the rollup (app/services/analytics/rollup.py) when the reader may see every
    incident, else from incident_facts under row-level security; both give the same answer.
    """
    cats = check_categories(session, q.categories)
    kec = check_kecamatan(session, q.kecamatan)
    tz = q.window.zone(session)
    p = {"since": q.window.since, "until": q.window.until, "categories": cats, "kecamatan": kec, "tz": tz.key}
    counts, source = _counts(session, q, p, tz, use_rollup)
    matrix = [[0] * 24 for _ in range(7)]
    for dow, hour, n in counts["hour_dow"]:
        matrix[dow - 1][hour] = n
    mix: dict[str, dict[str, int]] = {}
    for month, cat, n in counts["mix"]:
        mix.setdefault(month, {})[cat] = n
    mix_rows = [{"month": m, "total": sum(c.values()), "categories": c,
                 "share": {k: round(v / sum(c.values()), 4) for k, v in c.items()}} for m, c in mix.items()]
    prank = [{"month": m, "calls": calls, "pranks": pr, "rate": round(pr / calls, 4) if calls else None}
             for m, calls, pr in counts["prank"]]
    incidents = sum(r["total"] for r in mix_rows)
    flood: dict[str, dict[str, int]] = {}
    for month, cat, n in counts["flood"]:
        flood.setdefault(month, dict.fromkeys(FLOOD_CATEGORIES, 0))[cat] = n
    by_month = [{"month": m, **c, "total": sum(c.values())} for m, c in flood.items()]
    # the season: calls per calendar month, averaged over the years the window covers
    seasonal = []
    covered = local_months(q.window.since, q.window.until, tz)  # a month without floods counts as zero
    for mo in range(1, 13):
        rows = [r for r in by_month if int(r["month"][5:]) == mo]
        years = sum(1 for _, m in covered if m == mo) or 1
        seasonal.append({"month": mo, "total": sum(r["total"] for r in rows),
                         "mean_per_year": round(sum(r["total"] for r in rows) / years, 2)})
    return {
        "hour_by_weekday": {"days": list(DAYS_ID), "hours": list(range(24)), "counts": matrix,
                            "timezone": tz.key},
        "category_mix": mix_rows,
        "prank_rate": prank,
        "flood": {"categories": list(FLOOD_CATEGORIES), "by_month": by_month, "seasonal": seasonal},
        # incidents: counted calls in the filter (what every analytic counts); calls and pranks: the
        # centre's whole load in the window, whatever the category filter (the prank rate's basis)
        "summary": {"incidents": incidents, "calls": sum(r["calls"] for r in prank),
                    "pranks": sum(r["pranks"] for r in prank)},
        "parameters": {"category": cats, "kecamatan": kec, "timezone": tz.key,
                       "category_filter_applies_to": ["hour_by_weekday", "category_mix", "summary.incidents"],
                       "excludes": list(NOT_COUNTED), "prank_rate_counts": "every call, pranks included",
                       "computed_from": source},
        "window": q.window.to_dict(),
    }
