"""Trends computed from the rollup's incident cells: the same rows as trends' four queries, in numpy.

Local hours, weekdays and months are the city's clock.  Indonesia's zones have kept one
offset for decades, so the rollup path applies one offset to every call; a zone whose
offset changes within the window (daylight saving elsewhere) returns None and the raw
queries answer, so the result is always the raw queries'.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from app.services.analytics.rollup import COUNTED, INCIDENT, PRANK_CALL, Snapshot, micros, utc_days

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


def _month_labels(local_us: np.ndarray) -> np.ndarray:
    months = local_us.astype("datetime64[us]").astype("datetime64[M]")
    return np.datetime_as_string(months, unit="M")


def rows(snap: Snapshot, *, since: datetime, until: datetime, categories: list[str] | None,
         kecamatan_ids: list[int] | None, flood: tuple[str, ...], tz: ZoneInfo) -> dict[str, list[tuple]] | None:
    """``hour_dow`` (isodow, hour, n), ``mix`` (month, category, n), ``prank`` (month, calls, pranks),
    ``flood`` (month, category, n), as the raw queries return them; None: use the raw queries."""
    offset = fixed_offset_us(tz, since, until)
    if offset is None:
        return None
    x = snap.records(*utc_days(since, until)).get("")
    lo, hi = micros(since), micros(until)
    if x is None:
        x = np.zeros(0, INCIDENT)
    keep = (x["received_us"] >= lo) & (x["received_us"] < hi)
    if kecamatan_ids is not None:
        keep &= np.isin(x["kecamatan"], np.array(kecamatan_ids, np.int32))
    x = x[keep]
    local = x["received_us"] + offset
    month = _month_labels(local)
    code = np.array([snap.categories.get(int(c)) for c in np.unique(x["category"])], dtype=object)
    cat = code[np.searchsorted(np.unique(x["category"]), x["category"])] if len(x) else np.zeros(0, object)
    counted = (x["flags"] & COUNTED) > 0
    in_cats = counted if categories is None else counted & np.isin(cat, np.array(categories, dtype=object))

    days = local[in_cats] // US_PER_DAY
    hours = (local[in_cats] // US_PER_HOUR) % 24
    isodow = (days + 3) % 7 + 1  # 1970-01-01 was a Thursday
    hour_dow = sorted(Counter(zip(isodow.tolist(), hours.tolist(), strict=True)).items())
    mix = sorted(Counter(zip(month[in_cats].tolist(), cat[in_cats].tolist(), strict=True)).items())
    calls = Counter(month.tolist())
    pranks = Counter(month[(x["flags"] & PRANK_CALL) > 0].tolist())
    is_flood = counted & np.isin(cat, np.array(flood, dtype=object))
    floods = sorted(Counter(zip(month[is_flood].tolist(), cat[is_flood].tolist(), strict=True)).items())
    return {
        "hour_dow": [(d, h, n) for (d, h), n in hour_dow],
        "mix": [(m, c, n) for (m, c), n in mix],
        "prank": [(m, calls[m], pranks.get(m, 0)) for m in sorted(calls)],
        "flood": [(m, c, n) for (m, c), n in floods],
    }
