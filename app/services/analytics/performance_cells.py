"""Agency performance computed from the rollup's cells: the same rows as ``STATS_SQL``, in numpy.

Every figure is the raw query's, computed the way PostgreSQL computes it (the
percentile is ``percentile_cont``'s interpolation between the two ranks, in float8),
so :func:`app.services.analytics.performance.performance` gives the same answer
from either path; tests/integration/test_rollup.py holds them equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics.common import local_months
from app.services.analytics.rollup import EPOCH, FIRST, OPEN, REJECTED, Snapshot, micros

METRIC_FIELDS = {"ack_s": "ack", "en_route_s": "en_route", "on_scene_s": "on_scene", "resolve_s": "resolve"}
BASIS_NAMES = ("agency", "category", "task")  # in the order array_agg(DISTINCT ... ORDER BY) gives

CATEGORY_TARGETS_SQL = text("SELECT code, target_response_s FROM incident_categories")
TASK_TARGETS_SQL = text("SELECT category_code, agency_code, task_target_s FROM category_agencies "
                        "WHERE task_target_s IS NOT NULL")
# By id, whatever the level: incident_facts joins kecamatan_id to admin_areas the same way.
KECAMATAN_SQL = text("SELECT id, code, name FROM admin_areas")


def percentile_cont(values: np.ndarray, fractions: tuple[float, ...] = (0.5, 0.9)) -> list[float] | None:
    """PostgreSQL's ``percentile_cont(ARRAY[...])``: NULL for no input, else lerp between ranks."""
    n = len(values)
    if n == 0:
        return None
    spots = [(f * (n - 1)) for f in fractions]
    ranks = sorted({math.floor(s) for s in spots} | {math.ceil(s) for s in spots})
    part = np.partition(values, ranks)
    out = []
    for s in spots:
        lo, hi = math.floor(s), math.ceil(s)
        lo_v = float(part[lo])
        out.append(lo_v if lo == hi else lo_v + (float(part[hi]) - lo_v) * (s - lo))
    return out


@dataclass(frozen=True)
class _Lookups:
    category_code: dict[int, str]
    category_target: np.ndarray  # by category id + 1 (index 0: unknown)
    task_target: dict[str, np.ndarray]  # per agency, by category id + 1
    kecamatan: dict[int, tuple[str | None, str | None]]


def _lookups(session: Session, snap: Snapshot) -> _Lookups:
    size = max(snap.categories, default=0) + 2
    by_code = {c: i for i, c in snap.categories.items()}
    cat_target = np.full(size, np.nan)
    for code, target in session.execute(CATEGORY_TARGETS_SQL):
        if code in by_code and target is not None:
            cat_target[by_code[code] + 1] = target
    task: dict[str, np.ndarray] = {}
    for code, agency, target in session.execute(TASK_TARGETS_SQL):
        if code in by_code:
            task.setdefault(agency, np.full(size, np.nan))[by_code[code] + 1] = target
    kec = {i: (c, n) for i, c, n in session.execute(KECAMATAN_SQL)}
    return _Lookups(snap.categories, cat_target, task, kec)


def _months(received_us: np.ndarray, tz: ZoneInfo) -> tuple[np.ndarray, list[str]]:
    """Index into labels ('YYYY-MM' in the city's zone) for each call time."""
    if not len(received_us):
        return np.zeros(0, np.int64), []
    months = local_months(EPOCH + timedelta(microseconds=int(received_us.min())),
                          EPOCH + timedelta(microseconds=int(received_us.max())), tz)
    starts = np.array([micros(datetime(y, m, 1, tzinfo=tz)) for y, m in months], np.int64)
    return np.searchsorted(starts, received_us, side="right") - 1, [f"{y:04d}-{m:02d}" for y, m in months]


def _group_keys(x: np.ndarray, group: str, look: _Lookups, tz: ZoneInfo) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Per record the index of its group within the agency, and each group's columns."""
    if group == "agency":
        return np.zeros(len(x), np.int64), [{}]
    if group == "agency,month":
        idx, labels = _months(x["received_us"], tz)
        return idx, [{"month": m} for m in labels]
    if group == "agency,category":
        ids = x["category"].astype(np.int64)
        uniq, idx = np.unique(ids, return_inverse=True)
        return idx, [{"category": look.category_code.get(int(i))} for i in uniq]
    ids = x["kecamatan"].astype(np.int64)
    uniq, idx = np.unique(ids, return_inverse=True)
    named = [look.kecamatan.get(int(i), (None, None)) for i in uniq]
    distinct = sorted(set(named), key=lambda t: tuple((v is None, v or "") for v in t))
    remap = np.array([distinct.index(t) for t in named], np.int64)
    return remap[idx], [{"kecamatan_code": c, "kecamatan_name": n} for c, n in distinct]


def _stats(x: np.ndarray, d: dict[str, np.ndarray], tg: dict[str, Any]) -> dict[str, Any]:
    """One group's row, as STATS_SQL returns it."""
    nf = ~d["fast"]
    row: dict[str, Any] = {
        "tasks": len(x), "incidents": len(x),  # one task per agency and incident (unique index)
        "fast_closures": int(d["fast"].sum()),
        "rejected": int(((x["flags"] & REJECTED) > 0).sum()),
        "open": int(((x["flags"] & OPEN) > 0).sum()),
    }
    for col, field in METRIC_FIELDS.items():
        v = x[field]
        keep = v[nf & (v >= 0)]
        row[f"{col}_pct"] = percentile_cont(keep)
        row[f"{col}_n"] = len(keep)
    turnout = tg.get("turnout_s")
    if turnout is not None:
        en_route = x["en_route"]
        row.update(turnout_n=int((nf & ~np.isnan(en_route)).sum()), turnout_met=int((nf & (en_route <= turnout)).sum()),
                   turnout_target=float(turnout), turnout_goal=tg.get("turnout_goal"))
    else:
        row.update(turnout_n=0, turnout_met=0, turnout_target=None, turnout_goal=None)
    arrival, target = d["arrival"], d["arrival_target"]
    reached = nf & ~np.isnan(arrival)
    known = target[~np.isnan(target)]
    basis = np.unique(d["basis"][reached])
    row.update(arrival_n=int(reached.sum()), arrival_met=int((nf & (arrival <= target)).sum()),
               arrival_target_min=float(known.min()) if len(known) else None,
               arrival_target_max=float(known.max()) if len(known) else None,
               arrival_goal=float(tg["arrival_goal"]) if tg.get("arrival_goal") is not None else 0.9,
               arrival_basis=[BASIS_NAMES[b] for b in basis] if len(basis) else None)
    return row


def rows(session: Session, snap: Snapshot, *, since: datetime, until: datetime, categories: list[str] | None,
         kecamatan: str | None, group: str, fast_s: float, targets: list[dict[str, Any]],
         tz: ZoneInfo) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Group rows and totals for the window and filters, ordered as STATS_SQL orders them."""
    look = _lookups(session, snap)
    kec_ids = None if kecamatan is None else [i for i, (c, _n) in look.kecamatan.items() if c == kecamatan]
    by_agency = snap.in_window(since, until, categories, kec_ids)
    tg_by_agency = {t["agency"]: t for t in targets}
    out: list[dict[str, Any]] = []
    totals = {"tasks": 0, "incidents": 0}
    for agency in sorted(by_agency):
        x = by_agency[agency]
        totals["tasks"] += len(x)
        totals["incidents"] += int(((x["flags"] & FIRST) > 0).sum())
        tg = tg_by_agency.get(agency, {})
        cat = x["category"].astype(np.int64) + 1
        task_t = look.task_target.get(agency)
        task_t = task_t[cat] if task_t is not None else np.full(len(x), np.nan)
        has_task = ~np.isnan(task_t)
        from_call = ~has_task if (tg.get("arrival_origin") or "received") == "received" else np.zeros(len(x), bool)
        agency_target = tg.get("arrival_s")
        fallback = np.full(len(x), float(agency_target)) if agency_target is not None else look.category_target[cat]
        derived = {
            "fast": ~np.isnan(x["resolve"]) & (x["resolve"] < fast_s),
            "arrival": np.where(from_call, x["arrival_received"], x["on_scene"]),
            "arrival_target": np.where(has_task, task_t, fallback),
            "basis": np.where(has_task, 2, 0 if agency_target is not None else 1),
        }
        idx, columns = _group_keys(x, group, look, tz)
        if len(columns) == 1:
            out.append({"agency": agency, **columns[0], **_stats(x, derived, tg)})
            continue
        order = np.argsort(idx, kind="stable")
        bounds = np.searchsorted(idx[order], np.arange(len(columns) + 1))
        for k, cols in enumerate(columns):
            sel = order[bounds[k]:bounds[k + 1]]
            if not len(sel):
                continue
            row = {"agency": agency, **cols}
            row.update(_stats(x[sel], {n: a[sel] for n, a in derived.items()}, tg))
            out.append(row)
    return out, totals
