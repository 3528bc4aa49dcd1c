"""Duplicates before save: which open calls a new caller may be describing, and merging into one.

When a house burns, ten neighbours ring 112.  Logging each as its own incident
makes ten markers a dispatcher must recognise as one fire and cancel by hand, and
intake's own duplicate flag (``incidents.duplicate_of``) reached the dispatcher only
after the fact.  So while the call-taker types, :func:`nearby_open` lists open calls
of related categories near the chosen point, and :func:`merge_report` keeps the new
caller as a further report on the existing incident (``incident_reports``) instead of
a new incident: the dispatcher sees how many callers there are (``report_count``),
and a caller who rings back can be reached.

Both run under the reader's row-level security: an agency officer sees only its own
agency's calls, and callers' name and phone only where the read model shows them.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.domain.roles import MASK
from app.incidents import queries
from app.incidents.lifecycle import INCIDENT_OPEN
from app.incidents.viewer import Viewer
from app.services import dispatch
from app.services.errors import Conflict, InvalidInput, NotFound

PACKAGE, FILE = "app.incidents", "sql/duplicates.sql"

# The radius a call-taker looks within by default: a caller's "near the market" is often a
# few hundred metres off, and a fire is seen from further away than a fallen tree.
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 5000.0
MAX_RESULTS = 20


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _number(value: Any, field: str, default: float, lo: float, hi: float) -> float:
    if value is None or value == "":
        return default
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number", field) from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise InvalidInput(f"{field} must be between {lo:g} and {hi:g}", field)
    return x


def _categories(session: Session, code: Any) -> list[str] | None:
    """The category and those describing the same event; None (any) when no category is given."""
    if code is None or code == "":
        return None
    # 422 naming ``category`` when unknown or retired; related categories from the city's catalog
    return dispatch.related_categories(dispatch.category_row(session, code))


def nearby_open(session: Session, viewer: Viewer, lat: Any, lon: Any, category: Any = None,
                radius_m: Any = None, limit: Any = None) -> dict[str, Any]:
    """Open calls the viewer may see within ``radius_m`` of a point, of related categories, nearest first."""
    lat, lon = dispatch.coordinate(lat, "lat"), dispatch.coordinate(lon, "lon")
    radius = _number(radius_m, "radius_m", DEFAULT_RADIUS_M, 1.0, MAX_RADIUS_M)
    n = int(_number(limit, "limit", 10, 1, MAX_RESULTS))
    cats = _categories(session, category)
    # A box a little larger than the circle, for the index; the exact test is ST_DWithin.
    rows = session.execute(_sql("nearby_open"), {
        "lat": lat, "lon": lon, "radius": radius, "categories": cats, "limit": n,
        **dispatch.duplicate_box(lat, lon, radius)}).mappings().all()
    items = []
    for r in rows:
        item = {k: queries.iso(v) for k, v in r.items() if k not in ("caller_name", "caller_phone")}
        item["distance_m"] = float(r["distance_m"])
        item["caller"] = ({"name": MASK, "phone": MASK} if not viewer.personal_data
                          else {"name": r["caller_name"], "phone": r["caller_phone"]})
        items.append(item)
    return {"lat": lat, "lon": lon, "radius_m": radius, "categories": cats, "items": items}


def merge_report(session: Session, viewer: Viewer, incident_id: int,
                 req: dispatch.Intake) -> tuple[dict[str, Any], bool]:
    """Keep a further caller on an open incident; return (incident as the viewer reads it, created).

    The report is validated as a call of the incident's category (name, phone, text, a
    location of its own or the incident's).  An Idempotency-Key makes a retry return
    the first merge; the same key with a different report is refused, as for intake.
    """
    inc = session.execute(_sql("lock_incident"), {"id": incident_id}).mappings().one_or_none()
    if inc is None:
        session.rollback()
        raise NotFound(f"incident {incident_id} does not exist", "id")
    req.category = inc["category"]
    if req.lat is None and req.lon is None and not req.address:
        req.lat, req.lon = inc["lat"], inc["lon"]
    v = dispatch.validate_intake(session, req)
    fp = dispatch.fingerprint(v) if v["idempotency_key"] else None
    if v["idempotency_key"]:
        done = session.execute(_sql("report_by_key"), {"key": v["idempotency_key"]}).one_or_none()
        if done is not None:
            session.rollback()
            if done.idempotency_fingerprint != fp or done.incident_id != incident_id:
                raise InvalidInput("this Idempotency-Key was already used for a different report; the caller was "
                                   "not added: send it again with a new key", "Idempotency-Key")
            return _answer(session, viewer, incident_id, done.id), False
    if inc["status"] not in INCIDENT_OPEN:
        session.rollback()
        raise Conflict(f"incident {incident_id} is {inc['status']}: log the call as a new incident", "id")
    row = session.execute(_sql("insert_report"), {
        "incident_id": incident_id, "actor": v["actor"] or "operator", "source": v["source"],
        "caller_name": v["caller_name"], "caller_phone": v["caller_phone"], "description": v["description"],
        "address": v["address"], "key": v["idempotency_key"], "fingerprint": fp,
        "lat": v["lat"], "lon": v["lon"]}).one_or_none()
    if row is None:  # a concurrent retry with the same key won
        session.rollback()
        done = session.execute(_sql("report_by_key"), {"key": v["idempotency_key"]}).one()
        if done.idempotency_fingerprint != fp or done.incident_id != incident_id:
            raise InvalidInput("this Idempotency-Key was already used for a different report", "Idempotency-Key")
        return _answer(session, viewer, incident_id, done.id), False
    session.commit()
    return _answer(session, viewer, incident_id, row.id), True


def _answer(session: Session, viewer: Viewer, incident_id: int, report_id: int) -> dict[str, Any]:
    incident = queries.get_incident(session, viewer, incident_id)
    incident["report"] = next((r for r in incident["reports"] if r["id"] == report_id), {"id": report_id})
    return incident
