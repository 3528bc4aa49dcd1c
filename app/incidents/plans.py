"""Response plans: which units a call of this category needs, and the fastest free ones to send.

A category's ``response_plan`` (e.g. a fire: two fire engines and an ambulance) is the
dispatcher's checklist.  Filling it by drive time per slot, rather than offering the
nearest units of any kind, is what keeps a narcotics team from being proposed for a
house fire.  Units already assigned to the incident fill their slots first, so the
plan shows what is still missing.  Read-only: sending the units is
:func:`app.services.dispatch.assign_units`, one transaction for the whole plan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.incidents.queries import iso
from app.incidents.viewer import Viewer
from app.routing import nearest as routing
from app.services.dispatch import recommend
from app.services.errors import NotFound

PACKAGE, FILE = "app.incidents", "sql/queries.sql"
OTHERS_NEARBY = 5


def _assigned_to(line: dict[str, Any], active: list[dict[str, Any]], used: set[int]) -> list[dict[str, Any]]:
    """The incident's units that already fill this plan line (each unit counts once)."""
    out = []
    for a in active:
        if a["unit_id"] in used or a["agency"] != line["agency"]:
            continue
        if line["unit_type"] is not None and a["unit_type"] != line["unit_type"]:
            continue
        if len(out) >= line["count"]:
            break
        out.append(a)
        used.add(a["unit_id"])
    return out


def for_incident(session: Session, viewer: Viewer, incident_id: int) -> dict[str, Any]:
    """The incident's response plan, each slot filled by an assigned unit or the fastest free one.

    Agencies with a task but no line in the plan (police at a fire) get one slot each;
    ``others`` lists the nearest free units of any kind, after the plan, for the
    dispatcher who knows better.  404 when the viewer cannot see the incident.
    """
    row = session.execute(sqlfiles.statement(PACKAGE, FILE, "plan_input"), {"id": incident_id}).mappings().first()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist", "id")
    active = [{k: iso(v) for k, v in a.items()} for a in session.execute(
        sqlfiles.statement(PACKAGE, FILE, "active_assignments"), {"id": incident_id}).mappings()]
    lines = [{"agency": p["agency"], "unit_type": p.get("unit_type"), "count": int(p.get("count", 1))}
             for p in (row["response_plan"] or [])]
    covered = {x["agency"] for x in lines}
    lines += [{"agency": a, "unit_type": None, "count": 1} for a in row["agencies"] if a not in covered]
    used: set[int] = set()
    for line in lines:
        line["assigned"] = _assigned_to(line, active, used)
    missing = [{**x, "count": x["count"] - len(x["assigned"])} for x in lines if len(x["assigned"]) < x["count"]]
    advice = recommend(session, row["lat"], row["lon"], missing, []) if missing else {"method": "drive_time",
                                                                                       "plan": []}
    filled = iter(advice["plan"])
    for line in lines:
        need = line["count"] - len(line["assigned"])
        got = next(filled, None) if need > 0 else None
        line["candidates"] = got["candidates"] if got else []
        line["filled"] = len(line["assigned"]) + len(line["candidates"])
    out: dict[str, Any] = {"incident_id": incident_id, "category": row["category"], "method": advice["method"],
                           "plan": lines}
    if advice.get("reason"):
        out["reason"] = advice["reason"]
        out["others"] = []
        return out
    picked = {c["unit_id"] for x in lines for c in x["candidates"] if c.get("unit_id") is not None}
    near = routing.nearest(session, row["lat"], row["lon"], k=OTHERS_NEARBY + len(picked))
    out["others"] = [c for c in near["candidates"]
                     if c.get("unit_id") is not None and c["unit_id"] not in picked][:OTHERS_NEARBY]
    return out
