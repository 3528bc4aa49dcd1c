"""Agency performance ("OPD mana yang cepat atau lambat") from the per-agency task clocks.

Every interval is measured from ``forwarded_at``, the moment the call centre
handed the task to the agency, so the call centre's own desk time does not
count against the agency.  Which tasks are measured is decided by the call, as
in every analytic: tasks of counted calls (``incident_facts.is_counted``) received
in the window, so a week's performance covers the same calls as that week's
hotspots, trends and report (a prank that was forwarded is not a job done).

Medians and p90 (not means): response times are log-normal with long tails,
and one forgotten ticket must not decide a rank.

Implausibly fast closures (resolved within ``fast_closure_s`` of forwarding:
a ticket closed without anyone going anywhere) are counted and left out of the
statistics, so an agency cannot look fast by clicking "selesai".

Ranking is by median time to **acknowledge** by default, not by time on scene
or to resolve: those are dominated by what an agency is sent to (PU's street
lights have a three-day target, DAMKAR's fires eight minutes), so a raw
on-scene ranking mostly ranks the category mix.  Acknowledging a forwarded
ticket is the one step every OPD does the same way, whatever the job.
``rank_by`` switches to en_route, on_scene or resolve when comparing like with
like (e.g. ``group=agency,category``).

Each task is judged against the target of *its* job, in this order: the agency's own
target for that category (``category_agencies.task_target_s``, from forwarding: PLN
cutting the power at a fire is not measured against the fire crew's eight minutes),
then the agency's standard (``targets``: NFPA-style for DAMKAR and DINKES), then the
category's ``target_response_s`` from the call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics import performance_cells, rollup
from app.services.analytics.common import (
    COUNTED,
    IN_KECAMATAN,
    NOT_COUNTED,
    Window,
    check_categories,
    check_choice,
    check_kecamatan,
    check_range,
)
from app.services.errors import InvalidInput

GROUPS = ("agency", "agency,category", "agency,kecamatan", "agency,month")
RANK_BY = ("acknowledge", "en_route", "on_scene", "resolve")
METRICS = RANK_BY
DEFAULT_FAST_CLOSURE_S = 120


@dataclass(frozen=True)
class Target:
    """A response-time target: ``metric`` within ``seconds`` for ``goal`` of tasks, from ``origin``."""

    metric: str  # "turnout" (to en_route) or "arrival" (to on scene)
    seconds: float
    goal: float = 0.9
    origin: str = "forwarded"  # or "received": the 112 call itself


# In the spirit of NFPA 1710: fire turnout 80 s, first arrival 480 s (turnout + 240 s travel)
# for 90% of calls; EMS arrival 480 s.  Others use their category's target_response_s,
# which is defined from the call (received_at) to first arrival.
DEFAULT_TARGETS: dict[str, list[Target]] = {
    "DAMKAR": [Target("turnout", 80), Target("arrival", 480)],
    "DINKES": [Target("arrival", 480)],
}


@dataclass(frozen=True)
class PerformanceQuery:
    window: Window
    categories: list[str] | None = None
    kecamatan: str | None = None
    group: str = "agency"
    rank_by: str = "acknowledge"
    fast_closure_s: float = DEFAULT_FAST_CLOSURE_S
    targets: dict[str, list[Target]] = field(default_factory=lambda: dict(DEFAULT_TARGETS))


_TASKS = f"""
WITH tg AS (
    SELECT * FROM jsonb_to_recordset(CAST(:targets AS jsonb))
        AS x(agency text, turnout_s float8, turnout_goal float8, arrival_s float8, arrival_goal float8,
             arrival_origin text)
),
t AS (
    SELECT t.agency_code AS agency, t.incident_id, f.category, f.kecamatan_code, f.kecamatan AS kecamatan_name,
           to_char(f.received_at AT TIME ZONE CAST(:tz AS text), 'YYYY-MM') AS month,
           t.status, t.rejected_at IS NOT NULL AS rejected,
           EXTRACT(epoch FROM t.acknowledged_at - t.forwarded_at) AS ack_s,
           EXTRACT(epoch FROM t.en_route_at - t.forwarded_at) AS en_route_s,
           EXTRACT(epoch FROM t.on_scene_at - t.forwarded_at) AS on_scene_s,
           EXTRACT(epoch FROM t.resolved_at - t.forwarded_at) AS resolve_s,
           CASE WHEN ca.task_target_s IS NULL AND COALESCE(tg.arrival_origin, 'received') = 'received'
                THEN EXTRACT(epoch FROM t.on_scene_at - f.received_at)
                ELSE EXTRACT(epoch FROM t.on_scene_at - t.forwarded_at) END AS arrival_s,
           tg.turnout_s AS turnout_target, tg.turnout_goal,
           COALESCE(ca.task_target_s, tg.arrival_s, f.target_response_s) AS arrival_target,
           CASE WHEN ca.task_target_s IS NOT NULL THEN 'task'
                WHEN tg.arrival_s IS NOT NULL THEN 'agency' ELSE 'category' END AS arrival_basis,
           COALESCE(tg.arrival_goal, 0.9) AS arrival_goal,
           (t.resolved_at IS NOT NULL
            AND t.resolved_at - t.forwarded_at < make_interval(secs => :fast_s)) AS fast
    FROM incident_tasks t
    JOIN incident_facts f ON f.id = t.incident_id
    LEFT JOIN tg ON tg.agency = t.agency_code
    LEFT JOIN category_agencies ca ON ca.category_code = f.category AND ca.agency_code = t.agency_code
    WHERE {COUNTED} AND {IN_KECAMATAN}
)
"""


def _stats_sql(group_cols: list[str]) -> str:
    def pct(col: str) -> str:
        return (f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {col}) "
                f"FILTER (WHERE NOT fast AND {col} >= 0) AS {col}_pct, "
                f"count({col}) FILTER (WHERE NOT fast AND {col} >= 0) AS {col}_n")

    cols = ", ".join(group_cols)
    return _TASKS + f"""
SELECT {cols}, count(*) AS tasks, count(DISTINCT incident_id) AS incidents,
       count(*) FILTER (WHERE fast) AS fast_closures,
       count(*) FILTER (WHERE rejected) AS rejected,
       count(*) FILTER (WHERE status NOT IN ('resolved', 'rejected')) AS open,
       {pct('ack_s')}, {pct('en_route_s')}, {pct('on_scene_s')}, {pct('resolve_s')},
       count(*) FILTER (WHERE NOT fast AND turnout_target IS NOT NULL AND en_route_s IS NOT NULL) AS turnout_n,
       count(*) FILTER (WHERE NOT fast AND turnout_target IS NOT NULL AND en_route_s <= turnout_target) AS turnout_met,
       max(turnout_target) AS turnout_target, max(turnout_goal) AS turnout_goal,
       count(*) FILTER (WHERE NOT fast AND arrival_s IS NOT NULL) AS arrival_n,
       count(*) FILTER (WHERE NOT fast AND arrival_s <= arrival_target) AS arrival_met,
       min(arrival_target) AS arrival_target_min, max(arrival_target) AS arrival_target_max,
       max(arrival_goal) AS arrival_goal,
       array_agg(DISTINCT arrival_basis ORDER BY arrival_basis)
           FILTER (WHERE NOT fast AND arrival_s IS NOT NULL) AS arrival_basis
FROM t
GROUP BY {cols}
"""


GROUP_COLUMNS = {
    "agency": ["agency"],
    "agency,category": ["agency", "category"],
    "agency,kecamatan": ["agency", "kecamatan_code", "kecamatan_name"],
    "agency,month": ["agency", "month"],
}
STATS_SQL = {g: text(_stats_sql(cols)) for g, cols in GROUP_COLUMNS.items()}
# Incidents are counted once however many agencies they went to.
TOTALS_SQL = text(_TASKS + "SELECT count(*) AS tasks, count(DISTINCT incident_id) AS incidents FROM t")
AGENCY_NAMES_SQL = text("SELECT code, name FROM agencies")
BASIS = {"task": "task target (category_agencies.task_target_s)", "agency": "agency target",
         "category": "category target_response_s"}
RANK_COLUMN = {"acknowledge": "ack_s", "en_route": "en_route_s", "on_scene": "on_scene_s", "resolve": "resolve_s"}


def _target_rows(targets: dict[str, list[Target]]) -> list[dict[str, Any]]:
    """One row per agency, as the raw query's ``tg`` reads them (jsonb_to_recordset) and the rollup's."""
    rows = []
    for agency, ts in targets.items():
        row: dict[str, Any] = {"agency": agency}
        for t in ts:
            if t.metric not in ("turnout", "arrival"):
                raise InvalidInput(f"target metric must be turnout or arrival, not {t.metric}", "targets")
            row[f"{t.metric}_s"] = t.seconds
            row[f"{t.metric}_goal"] = t.goal
            if t.metric == "arrival":
                row["arrival_origin"] = t.origin
        rows.append(row)
    return rows


def _share(met: int, n: int) -> float | None:
    return round(met / n, 4) if n else None


def _order(group: str) -> Any:
    """Groups in the order of their columns (NULL last), whichever path computed them."""
    cols = GROUP_COLUMNS[group]
    return lambda r: tuple((r[c] is None, r[c] or "") for c in cols)


def _stat_rows(session: Session, q: PerformanceQuery, params: dict[str, Any], targets: list[dict[str, Any]],
               zone: ZoneInfo, use_rollup: bool) -> tuple[list[dict[str, Any]], dict[str, int], str]:
    snap = rollup.snapshot(session, "tasks", q.window.since, q.window.until) if use_rollup else None
    if snap is not None:
        rows, totals = performance_cells.rows(
            session, snap, since=q.window.since, until=q.window.until, categories=params["categories"],
            kecamatan=params["kecamatan"], group=q.group, fast_s=q.fast_closure_s, targets=targets, tz=zone)
        return rows, totals, "rollup"
    rows = [dict(r) for r in session.execute(STATS_SQL[q.group], params).mappings()]
    return rows, dict(session.execute(TOTALS_SQL, params).mappings().one()), "tasks"


def performance(session: Session, q: PerformanceQuery, use_rollup: bool = True) -> dict[str, Any]:
    """Per group: task counts, median/p90 of each interval, fast closures, target compliance; plus a ranking.

    Read from the task rollup (app/services/analytics/rollup.py) when the reader may see every
    incident, else from the tasks under row-level security; both give the same answer.
    """
    check_choice(q.group, GROUPS, "group")
    check_choice(q.rank_by, RANK_BY, "rank_by")
    check_range(q.fast_closure_s, 0, 3600, "fast_closure_s")
    cats = check_categories(session, q.categories)
    kec = check_kecamatan(session, q.kecamatan)
    zone = q.window.zone(session)
    targets = _target_rows(q.targets)
    params = {"since": q.window.since, "until": q.window.until, "categories": cats, "kecamatan": kec,
              "fast_s": q.fast_closure_s, "targets": json.dumps(targets), "tz": zone.key}
    names = dict(session.execute(AGENCY_NAMES_SQL).all())
    stat_rows, totals, source = _stat_rows(session, q, params, targets, zone, use_rollup)
    stat_rows.sort(key=_order(q.group))
    groups = []
    for r in stat_rows:
        g: dict[str, Any] = {c: r[c] for c in GROUP_COLUMNS[q.group]}
        g["agency_name"] = names.get(r["agency"])
        g.update(tasks=r["tasks"], incidents=r["incidents"], fast_closures=r["fast_closures"],
                 rejected=r["rejected"], open=r["open"])
        for metric, col in RANK_COLUMN.items():
            pct = r[f"{col}_pct"]
            g[metric] = {"n": r[f"{col}_n"],
                         "median_s": round(pct[0], 1) if pct and pct[0] is not None else None,
                         "p90_s": round(pct[1], 1) if pct and pct[1] is not None else None}
        compliance: dict[str, Any] = {}
        if r["turnout_target"] is not None:
            share = _share(r["turnout_met"], r["turnout_n"])
            compliance["turnout"] = {"target_s": r["turnout_target"], "goal": r["turnout_goal"], "from": "forwarded",
                                     "n": r["turnout_n"], "met": r["turnout_met"], "share": share,
                                     "meets_goal": share is not None and share >= r["turnout_goal"]}
        share = _share(r["arrival_met"], r["arrival_n"])
        agency_target = next((t for t in q.targets.get(r["agency"], []) if t.metric == "arrival"), None)
        basis = r["arrival_basis"] or []
        origins = {"task": "forwarded", "agency": agency_target.origin if agency_target else "received",
                   "category": "received"}
        from_ = sorted({origins[b] for b in basis})
        compliance["arrival"] = {
            "target_s": r["arrival_target_min"] if r["arrival_target_min"] == r["arrival_target_max"] else None,
            "target_range_s": [r["arrival_target_min"], r["arrival_target_max"]],
            "goal": r["arrival_goal"], "from": from_[0] if len(from_) == 1 else "mixed",
            "basis": [BASIS[b] for b in basis],
            "n": r["arrival_n"], "met": r["arrival_met"], "share": share,
            "meets_goal": share is not None and share >= r["arrival_goal"]}
        g["compliance"] = compliance
        groups.append(g)
    key = q.rank_by
    groups.sort(key=lambda g: (g[key]["median_s"] is None, -(g[key]["median_s"] or 0)))
    for k, g in enumerate(groups, 1):
        g["rank"] = k
    return {
        "groups": groups,
        "ranking": [{"rank": g["rank"], **{c: g[c] for c in GROUP_COLUMNS[q.group]},
                     "median_s": g[key]["median_s"], "p90_s": g[key]["p90_s"], "n": g[key]["n"]} for g in groups],
        "parameters": {"category": cats, "kecamatan": kec, "group": q.group, "rank_by": q.rank_by,
                       "order": "slowest first", "intervals_from": "forwarded_at",
                       "window_of": "received_at (the call)", "excludes": list(NOT_COUNTED),
                       "fast_closure_s": q.fast_closure_s,
                       "targets": {a: [t.__dict__ for t in ts] for a, ts in q.targets.items()},
                       "task_targets": "category_agencies.task_target_s from forwarded_at, before targets",
                       "other_agencies_target": "category target_response_s from the call (received_at)",
                       "computed_from": source},
        "window": q.window.to_dict(),
        "summary": {"tasks": totals["tasks"], "incidents": totals["incidents"],
                    "fast_closures": sum(g["fast_closures"] for g in groups)},
    }
