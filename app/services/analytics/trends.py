"""Trends: when calls come (hour x weekday, Jakarta time), what they are about per month, pranks, floods.

All groupings are in local time (Asia/Jakarta): a 07:00 rush-hour accident
peak must show at 07:00, not 00:00 UTC.  The category filter narrows the
heatmap and the monthly mix; the prank rate and the flood curve always use all
calls, because they are about the call centre's load and the season, not the
selected categories.  The kecamatan filter (optional) narrows all four.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics.common import LOCAL_TZ, LOCAL_TZ_NAME, Window, check_categories, check_kecamatan

FLOOD_CATEGORIES = ("banjir", "rob")
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

_LOCAL = f"(i.received_at AT TIME ZONE '{LOCAL_TZ_NAME}')"
_WINDOW = "i.received_at >= :since AND i.received_at < :until"
_CATS = "(CAST(:categories AS text[]) IS NULL OR i.category_code = ANY(CAST(:categories AS text[])))"
# The kecamatan narrows every series (an official asks about their own district's season too).
_KEC = ("(CAST(:kecamatan AS text) IS NULL OR i.kecamatan_id = "
        "(SELECT k.id FROM admin_areas k WHERE k.level = 'kecamatan' AND k.code = CAST(:kecamatan AS text)))")

HOUR_DOW_SQL = text(f"""
    SELECT EXTRACT(isodow FROM {_LOCAL})::int AS dow, EXTRACT(hour FROM {_LOCAL})::int AS hour, count(*) AS n
    FROM incidents i WHERE {_WINDOW} AND {_CATS} AND {_KEC}
    GROUP BY 1, 2
""")

MIX_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, i.category_code AS category, count(*) AS n
    FROM incidents i WHERE {_WINDOW} AND {_CATS} AND {_KEC}
    GROUP BY 1, 2 ORDER BY 1, 2
""")

PRANK_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, count(*) AS calls,
           count(*) FILTER (WHERE i.is_prank OR i.status = 'prank' OR i.category_code = 'prank') AS pranks
    FROM incidents i WHERE {_WINDOW} AND {_KEC}
    GROUP BY 1 ORDER BY 1
""")

FLOOD_SQL = text(f"""
    SELECT to_char({_LOCAL}, 'YYYY-MM') AS month, i.category_code AS category, count(*) AS n
    FROM incidents i WHERE {_WINDOW} AND {_KEC} AND i.category_code = ANY(:flood)
    GROUP BY 1, 2 ORDER BY 1, 2
""")


def _months(w: Window) -> list[tuple[int, int]]:
    """(year, month) in local time that the window touches, so a month without floods still counts as zero."""
    a, b = w.since.astimezone(LOCAL_TZ), w.until.astimezone(LOCAL_TZ)
    y, m, out = a.year, a.month, []
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class TrendQuery:
    window: Window
    categories: list[str] | None = None
    kecamatan: str | None = None


def trends(session: Session, q: TrendQuery) -> dict[str, Any]:
    """Hour-of-day x day-of-week matrix, monthly category mix, monthly prank rate, seasonal flood curve."""
    cats = check_categories(session, q.categories)
    kec = check_kecamatan(session, q.kecamatan)
    p = {"since": q.window.since, "until": q.window.until, "categories": cats, "kecamatan": kec}
    matrix = [[0] * 24 for _ in range(7)]
    for dow, hour, n in session.execute(HOUR_DOW_SQL, p).all():
        matrix[dow - 1][hour] = n
    mix: dict[str, dict[str, int]] = {}
    for month, cat, n in session.execute(MIX_SQL, p).all():
        mix.setdefault(month, {})[cat] = n
    mix_rows = [{"month": m, "total": sum(c.values()), "categories": c,
                 "share": {k: round(v / sum(c.values()), 4) for k, v in c.items()}} for m, c in mix.items()]
    prank = [{"month": m, "calls": calls, "pranks": pr, "rate": round(pr / calls, 4) if calls else None}
             for m, calls, pr in session.execute(PRANK_SQL, p).all()]
    flood: dict[str, dict[str, int]] = {}
    for month, cat, n in session.execute(FLOOD_SQL, {**p, "flood": list(FLOOD_CATEGORIES)}).all():
        flood.setdefault(month, dict.fromkeys(FLOOD_CATEGORIES, 0))[cat] = n
    by_month = [{"month": m, **c, "total": sum(c.values())} for m, c in flood.items()]
    # the season: calls per calendar month, averaged over the years the window covers
    seasonal = []
    covered = _months(q.window)
    for mo in range(1, 13):
        rows = [r for r in by_month if int(r["month"][5:]) == mo]
        years = sum(1 for _, m in covered if m == mo) or 1
        seasonal.append({"month": mo, "total": sum(r["total"] for r in rows),
                         "mean_per_year": round(sum(r["total"] for r in rows) / years, 2)})
    return {
        "hour_by_weekday": {"days": list(DAYS_ID), "hours": list(range(24)), "counts": matrix,
                            "timezone": LOCAL_TZ_NAME},
        "category_mix": mix_rows,
        "prank_rate": prank,
        "flood": {"categories": list(FLOOD_CATEGORIES), "by_month": by_month, "seasonal": seasonal},
        "parameters": {"category": cats, "kecamatan": kec, "timezone": LOCAL_TZ_NAME,
                       "category_filter_applies_to": ["hour_by_weekday", "category_mix"]},
        "window": q.window.to_dict(),
    }
