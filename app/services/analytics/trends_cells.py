"""Trends computed from the rollup's incident cells: the same rows as trends' four queries, in numpy.

Local hours, weekdays and months are the city's clock.  Indonesia's zones have kept one
offset for decades, so the rollup path applies one offset to every call; a zone whose
offset changes within the window (daylight saving elsewhere) returns None and the raw
queries answer, so the result is always the raw queries'.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from app.services.analytics.rollup import COUNTED, INCIDENT, PRANK_CALL, Snapshot

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR


def fixed_offset_us(tz: ZoneInfo, since: datetime, until: datetime) -> int | None:
    """The zone's one UTC offset over the window (checked at every month start), else None."""
    offsets = set()
    at = since
    while at < until:
        offsets.add(at.astimezone(tz).utcoffset())
        at += timedelta(days=28)
    offsets.add((until - timedelta(microseconds=1)).astimezone(tz).utcoffset())
    if len(offsets) != 1:
        return None
    return offsets.pop() // timedelta(microseconds=1)


def _label(month: int) -> str:
    """'YYYY-MM' of a month number (months since 1970-01)."""
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def _pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int, int]]:
    """(a, b, count) for each distinct pair, ascending."""
    if not len(a):
        return []
    lo = int(b.min())
    width = int(b.max()) - lo + 1
    keys, counts = np.unique(a.astype(np.int64) * width + (b.astype(np.int64) - lo), return_counts=True)
    return [(int(k // width), int(k % width) + lo, int(n)) for k, n in zip(keys, counts, strict=True)]


def rows(snap: Snapshot, *, since: datetime, until: datetime, categories: list[str] | None,
         kecamatan_ids: list[int] | None, flood: tuple[str, ...], tz: ZoneInfo) -> dict[str, list[tuple]] | None:
    """``hour_dow`` (isodow, hour, n), ``mix`` (month, category, n), ``prank`` (month, calls, pranks),
    ``flood`` (month, category, n), as the raw queries return them; None: use the raw queries."""
    offset = fixed_offset_us(tz, since, until)
    if offset is None:
        return None
    x = snap.in_window(since, until, kecamatan_ids=kecamatan_ids).get("", np.zeros(0, INCIDENT))
    local = x["received_us"] + offset
    month = local.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    cat = x["category"]
    counted = (x["flags"] & COUNTED) > 0
    in_cats = counted if categories is None else counted & np.isin(cat, snap.category_ids(categories))
    days = local[in_cats] // US_PER_DAY
    slot = ((days + 3) % 7) * 24 + (local[in_cats] // US_PER_HOUR) % 24  # isodow-1, hour; 1970-01-01 a Thursday
    by_slot = np.bincount(slot, minlength=7 * 24)
    code = snap.categories.get
    calls = np.unique(month, return_counts=True)
    pranks = dict(zip(*np.unique(month[(x["flags"] & PRANK_CALL) > 0], return_counts=True), strict=True))
    is_flood = counted & np.isin(cat, snap.category_ids(flood))
    mix = sorted((_label(m), code(c), n) for m, c, n in _pairs(month[in_cats], cat[in_cats]))
    floods = sorted((_label(m), code(c), n) for m, c, n in _pairs(month[is_flood], cat[is_flood]))
    return {
        "hour_dow": [(k // 24 + 1, k % 24, int(n)) for k, n in enumerate(by_slot) if n],
        "mix": mix,
        "prank": [(_label(int(m)), int(n), int(pranks.get(m, 0))) for m, n in zip(*calls, strict=True)],
        "flood": floods,
    }
