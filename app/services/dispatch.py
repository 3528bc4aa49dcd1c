"""Call intake, forwarding to agencies, lifecycle, assignment: what a 112 dispatcher does.

Every change goes through here so that each one is validated once, lands in
one transaction with its ``incident_events`` audit row, and is safe when two
dispatchers act at the same moment (row locks and the one-open-assignment
index in the database, not checks in Python, decide races).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.incidents import queries
from app.incidents.lifecycle import (
    INCIDENT_TERMINAL,
    INCIDENT_TIMESTAMP,
    INCIDENT_UNDISPATCHED,
    TASK_STATUSES,
    TASK_TIMESTAMP,
    IllegalTransition,
    check_incident_transition,
    check_task_transition,
)
from app.incidents.queries import incident_dict as _incident_dict
from app.incidents.queries import iso as _iso
from app.routing import nearest as routing
from app.services import geocode
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.mapview import city_bounds

MAX_TEXT = {"description": 2000, "caller_name": 200, "address": 500, "source": 32, "actor": 100,
            "idempotency_key": 200, "note": 1000, "reason": 500, "text": 1000}
# A response plan sends a handful of units; more in one request is a client's mistake.
MAX_UNITS_AT_ONCE = 20
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{2,30}$")
SOURCES = ("phone", "sms", "whatsapp", "app", "web", "radio", "open311", "import", "demo")
DUPLICATE_RADIUS_M = 300.0
DUPLICATE_WINDOW_S = 3600
PRANK_REPEAT_THRESHOLD = 3
# Indonesia's extent: the fallback bound when no city area is loaded yet.
INDONESIA_BBOX = (94.0, -11.5, 141.5, 6.5)
CITY_MARGIN_DEG = 0.02
# AVL positions: a unit may be out of town (a hospital run, mutual aid) but not across the country.
UNIT_MARGIN_M = 10_000.0
METRES_PER_DEGREE = 111_320.0


@dataclass
class Intake:
    category: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    description: str | None = None
    source: str = "phone"
    idempotency_key: str | None = None
    actor: str = "operator"
    recommend: bool = True  # integrations and bulk feeds may skip the nearest-unit advice


# -- SQL ---------------------------------------------------------------------------------
# The category and the intake statement (app/incidents/sql/intake.sql) run on the driver (sqlfiles.row).
PACKAGE, FILE = "app.incidents", "sql/intake.sql"


@functools.cache
def _intake_sql() -> str:
    """The intake statement with the open statuses written in, as the partial index it reads has them."""
    from app.incidents import facts

    return facts.render("intake", package=PACKAGE, file=FILE)

# The city's extent: admin areas when loaded (a few hundred rows), else the road network.
CITY_BOUNDS = """
    (SELECT COALESCE((SELECT ST_Extent(geom) FROM admin_areas),
                     (SELECT ST_Extent(geom) FROM road_edges))::geometry AS box) bounds
"""

CITY_BOUNDS_SQL = text(f"SELECT box FROM {CITY_BOUNDS}")

EVENT_SQL = text("""
    INSERT INTO incident_events (incident_id, actor, kind, from_status, to_status, data)
    VALUES (:incident_id, :actor, :kind, :from_status, :to_status, CAST(:data AS jsonb))
""")

UNITS_SQL = """
    SELECT u.id, u.callsign, u.unit_type, u.agency_code AS agency, u.status, u.status_since, u.station_id,
           s.name AS station_name, u.current_incident_id, u.position_at,
           ST_Y(u.geom) AS lat, ST_X(u.geom) AS lon
    FROM units u LEFT JOIN stations s ON s.id = u.station_id
"""


# -- validation --------------------------------------------------------------------------
def _text(value: Any, field: str, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field)
    value = value.strip()
    limit = MAX_TEXT.get(field, 500)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field)
    return value


def coordinate(value: Any, field: str) -> float:
    """A finite number in range; strings from query strings are accepted."""
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a number", field)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number", field) from None
    if not math.isfinite(x):
        raise InvalidInput(f"{field} must be a finite number", field)
    lo, hi = (-90.0, 90.0) if field == "lat" else (-180.0, 180.0)
    if not lo <= x <= hi:
        raise InvalidInput(f"{field} must be between {lo:g} and {hi:g}", field)
    return x


def check_in_city(bounds: tuple[Any, Any, Any, Any], lat: float, lon: float, margin_deg: float = CITY_MARGIN_DEG,
                  fallback: tuple[float, float, float, float] | None = INDONESIA_BBOX) -> None:
    """Refuse points outside the city (plus a margin); swapped lat/lon lands here too.

    Without city data the ``fallback`` box applies (Indonesia), or nothing when it is None.
    """
    if bounds[0] is None:
        if fallback is None:
            return
        xmin, ymin, xmax, ymax = fallback
        where = "Indonesia"
    else:
        m = margin_deg
        xmin, ymin, xmax, ymax = bounds[0] - m, bounds[1] - m, bounds[2] + m, bounds[3] + m
        where = "the city"
    if not (xmin <= lon <= xmax and ymin <= lat <= ymax):
        field = "lat" if not ymin <= lat <= ymax else "lon"
        raise InvalidInput(
            f"location ({lat:.5f}, {lon:.5f}) is outside {where} "
            f"(lon {xmin:.3f}..{xmax:.3f}, lat {ymin:.3f}..{ymax:.3f})", field)


def city_box(session: Session) -> tuple[Any, Any, Any, Any]:
    """[west, south, east, north] of the city: in a server process once per basemap version (its hub
    counts the imports, see app/live), elsewhere (the CLI, no hub listening) asked each time."""
    try:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        app = None
    if app is None:
        box = city_bounds(session)
    else:
        from app.live import per_version

        box = per_version(app, "basemap", "city_bounds", lambda: city_bounds(session))
    return tuple(box) if box else (None, None, None, None)  # type: ignore[return-value]


def category_row(session: Session, code: Any) -> Any:
    """The category (routing, plan, agencies); 422 naming ``category`` when unknown or retired."""
    if not isinstance(code, str) or not code:
        raise InvalidInput("category is required", "category")
    row = sqlfiles.row(session, sqlfiles.raw(PACKAGE, FILE, "category"), {"code": code})
    if row is None or row["code"] is None:
        raise InvalidInput(f"unknown category '{code[:50]}'", "category")
    if row["retired_at"] is not None:  # the city's catalog dropped it (app/city/catalog.py); history keeps it
        raise InvalidInput(f"category '{code[:50]}' is retired and no longer takes new calls", "category")
    return row


def duplicate_box(lat: float, lon: float, radius_m: float = DUPLICATE_RADIUS_M) -> dict[str, float]:
    """A box a little larger than the duplicate search's circle (``x0``..``y1``), for the GiST index."""
    dy = radius_m / METRES_PER_DEGREE * 1.01
    dx = dy / max(math.cos(math.radians(lat)), 0.01)
    return {"x0": lon - dx, "y0": lat - dy, "x1": lon + dx, "y1": lat + dy}


def related_categories(cat: Any) -> list[str]:
    """The category and those describing the same event nearby (the city's catalog: ``related``)."""
    return sorted({cat["code"], *(cat["related"] or [])})


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=str)


def fingerprint(v: dict[str, Any]) -> str:
    """SHA-256 of the validated call, canonicalised: what an Idempotency-Key promises to repeat.

    Built from the normalised fields (trimmed text, phone without spaces), so a retry that
    differs only in formatting is still the same request; coordinates a geocoder found
    are left out, since they follow from the address.
    """
    given = v["geocoded"] is None
    canonical = {"category": v["category"]["code"], "lat": v["lat"] if given else None,
                 "lon": v["lon"] if given else None, "address": v["address"], "caller_name": v["caller_name"],
                 "caller_phone": v["caller_phone"], "description": v["description"], "source": v["source"]}
    text_ = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text_.encode()).hexdigest()


def _event(session: Session, incident_id: int, actor: str, kind: str, from_status: str | None = None,
           to_status: str | None = None, **data: Any) -> None:
    session.execute(EVENT_SQL, {"incident_id": incident_id, "actor": actor, "kind": kind,
                                "from_status": from_status, "to_status": to_status, "data": _json(data)})


# -- intake ------------------------------------------------------------------------------
def validate_intake(session: Session, req: Intake) -> dict[str, Any]:
    """Check and resolve everything before anything is written."""
    cat = category_row(session, req.category)
    out: dict[str, Any] = {"category": cat}
    for field in ("address", "caller_name", "description", "idempotency_key", "actor"):
        out[field] = _text(getattr(req, field), field)
    phone = _text(req.caller_phone, "caller_phone")
    if phone is not None and not PHONE_RE.match(phone):
        raise InvalidInput("caller_phone must be digits, optionally starting with +", "caller_phone")
    out["caller_phone"] = re.sub(r"[ \-]", "", phone) if phone else None
    source = _text(req.source, "source") or "phone"
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", "source")
    out["source"] = source
    geocoded = None
    if req.lat is not None or req.lon is not None:
        if req.lat is None or req.lon is None:
            missing = "lat" if req.lat is None else "lon"
            raise InvalidInput(f"{missing} is required when the other coordinate is given", missing)
        lat, lon = coordinate(req.lat, "lat"), coordinate(req.lon, "lon")
    elif out["address"]:
        hits = geocode.geocode(session, out["address"], limit=1)
        if not hits:
            raise InvalidInput(f"could not find a place matching '{out['address'][:80]}'", "address")
        geocoded = hits[0]
        lat, lon = geocoded["lat"], geocoded["lon"]
    else:
        raise InvalidInput("give a location: lat and lon, or an address", "location")
    check_in_city(city_box(session), lat, lon)
    out.update(lat=lat, lon=lon, geocoded=geocoded)
    return out


def _state(session: Session, viewer: Any, incident_id: int) -> dict[str, Any]:
    try:
        return queries.incident_state(session, viewer, incident_id)
    except NotFound:  # a reader who may not see it: the call is stored all the same
        return {}


def intake(session: Session, req: Intake, state_for: Any = None) -> tuple[dict[str, Any], bool]:
    """Log a call; return (incident, created).

    ``state_for`` (a :class:`~app.incidents.viewer.Viewer`): also read the incident's state as
    that reader says it (``queries.incident_state``) in the same transaction, before the commit,
    so a call over HTTP is one transaction.

    A repeated Idempotency-Key with the same request returns the first incident; with a
    different request it is a 422 naming ``Idempotency-Key``, so the second call is never
    silently answered with the first (issue 14).  Incidents stored before fingerprints
    existed replay for any request, as they used to.
    """
    v = validate_intake(session, req)
    cat = v["category"]
    fp = fingerprint(v) if v["idempotency_key"] else None
    row = sqlfiles.row(session, _intake_sql(), {
        "lat": v["lat"], "lon": v["lon"], **duplicate_box(v["lat"], v["lon"]),
        "related": related_categories(cat), "window": DUPLICATE_WINDOW_S,
        "radius": DUPLICATE_RADIUS_M, "category": cat["code"], "priority": cat["priority"],
        "source": v["source"], "address": v["address"], "caller_name": v["caller_name"],
        "caller_phone": v["caller_phone"], "description": v["description"], "key": v["idempotency_key"],
        "fingerprint": fp, "actor": v["actor"] or "operator", "category_name": cat["name_id"],
        "category_name_en": cat["name_en"], "target": cat["target_response_s"],
        "created_data": _json({"category": cat["code"], "source": v["source"], "geocoded": v["geocoded"]}),
    })
    if row is None:  # the Idempotency-Key was used before (or by a concurrent retry)
        session.rollback()
        existing = session.execute(text("SELECT id, idempotency_fingerprint FROM incidents "
                                        "WHERE idempotency_key = :k"), {"k": v["idempotency_key"]}).one()
        if existing.idempotency_fingerprint not in (None, fp):
            raise InvalidInput("this Idempotency-Key was already used for a different request; the call was not "
                               "stored: send it again with a new key", "Idempotency-Key")
        replayed = get_incident(session, existing.id)
        if state_for is not None:
            replayed.update(_state(session, state_for, existing.id))
        return replayed, False
    state = _state(session, state_for, row["id"]) if state_for is not None else {}
    session.commit()
    incident = _incident_dict(row)
    incident["tasks"] = [{k: _iso(x) if not isinstance(x, str) else x for k, x in t.items()}
                         for t in (row["tasks"] or [])]
    incident["assignments"] = []
    history = row["prank_history"]  # the query's snapshot does not include this call
    history["suspect"] = history["pranks"] >= PRANK_REPEAT_THRESHOLD
    incident["prank_history"] = history
    incident["geocoded"] = v["geocoded"]
    incident.update(state)
    if req.recommend:
        incident["recommended"] = recommend(session, incident["lat"], incident["lon"], cat["response_plan"],
                                            [t["agency"] for t in incident["tasks"]])
    return incident, True


def recommend(session: Session, lat: float, lon: float, plan: list[dict[str, Any]],
              agencies: list[str]) -> dict[str, Any]:
    """Fill the category's response plan with the nearest free units by drive time.

    Each plan line (e.g. two fire engines) takes the fastest units of that type not
    already picked; a responsible agency outside the plan gets its single nearest
    unit or office.  Runs after the commit: a routing failure never loses the call.
    """
    picked: set[int] = set()
    lines: list[dict[str, Any]] = []
    method = "drive_time"
    try:
        wanted = [(p["agency"], p.get("unit_type"), int(p.get("count", 1))) for p in plan]
        covered = {a for a, _, _ in wanted}
        wanted += [(a, None, 1) for a in agencies if a not in covered]
        for agency, unit_type, count in wanted:
            res = routing.nearest(session, lat, lon, agency=agency, k=count + len(picked), unit_type=unit_type)
            if res["method"] != "drive_time":
                method = res["method"]
            chosen = [c for c in res["candidates"] if c.get("unit_id") is None or c["unit_id"] not in picked][:count]
            picked.update(c["unit_id"] for c in chosen if c.get("unit_id") is not None)
            lines.append({"agency": agency, "unit_type": unit_type, "count": count, "filled": len(chosen),
                          "candidates": chosen})
    except Exception as exc:  # noqa: BLE001 - the incident is stored; say why there is no advice
        session.rollback()
        return {"method": "unavailable", "reason": str(exc).splitlines()[0][:200], "plan": lines}
    return {"method": method, "plan": lines}


# -- reading ---------------------------------------------------------------------------
# Reads live in app/incidents/queries.py (the read model, with an explicit viewer); commands
# answer with the incident as the session's own viewer reads it after the change.
def get_incident(session: Session, incident_id: int, events: bool = True) -> dict[str, Any]:
    return queries.get_incident(session, queries.session_viewer(session), incident_id, events)


def record_view(session: Session, incident_id: int, actor: str) -> None:
    """Who looked at a call (and its caller's details) is part of the audit trail."""
    row = session.execute(text(
        "INSERT INTO incident_events (incident_id, actor, kind) SELECT id, :a, 'viewed' FROM incidents "
        "WHERE id = :i RETURNING id"), {"i": incident_id, "a": actor}).first()
    if row is not None:
        session.commit()


def unit_agency(session: Session, unit_id: int) -> str | None:
    return session.execute(text("SELECT agency_code FROM units WHERE id = :u"), {"u": unit_id}).scalar_one_or_none()


# -- lifecycle ---------------------------------------------------------------------------
def _lock_incident(session: Session, incident_id: int) -> Any:
    row = session.execute(text("SELECT id, status FROM incidents WHERE id = :id FOR UPDATE"),
                          {"id": incident_id}).one_or_none()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist", "id")
    return row


def change_status(session: Session, incident_id: int, status: Any, actor: str = "operator",
                  note: str | None = None) -> dict[str, Any]:
    if not isinstance(status, str):
        raise InvalidInput("status is required", "status")
    note = _text(note, "note")
    row = _lock_incident(session, incident_id)
    try:
        check_incident_transition(row.status, status)
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(str(exc), "status") from None
    except ValueError as exc:
        session.rollback()
        raise InvalidInput(str(exc), "status") from None
    col = INCIDENT_TIMESTAMP.get(status)
    stamp = f", {col} = COALESCE({col}, now())" if col else ""
    prank = ", is_prank = true" if status == "prank" else ""
    session.execute(text(f"UPDATE incidents SET status = :s, updated_at = now(){stamp}{prank} WHERE id = :id"),
                    {"s": status, "id": incident_id})
    _event(session, incident_id, actor, "status_changed", row.status, status, note=note)
    if status in INCIDENT_TERMINAL or status == "resolved":
        _release_all(session, incident_id, actor)
    elif status in ("en_route", "on_scene"):
        session.execute(text(
            "UPDATE units SET status = :s, version = version + 1 WHERE id IN ("
            "SELECT unit_id FROM assignments WHERE incident_id = :id AND released_at IS NULL)"),
            {"s": status, "id": incident_id})
    session.commit()
    return get_incident(session, incident_id)


def update_task(session: Session, incident_id: int, agency: str, status: Any, actor: str = "agency",
                reason: str | None = None) -> dict[str, Any]:
    if not isinstance(status, str):
        raise InvalidInput("status is required", "status")
    reason = _text(reason, "reason")
    _lock_incident(session, incident_id)
    task = session.execute(text(
        "SELECT id, status FROM incident_tasks WHERE incident_id = :i AND agency_code = :a FOR UPDATE"),
        {"i": incident_id, "a": agency}).one_or_none()
    if task is None:
        session.rollback()
        raise NotFound(f"incident {incident_id} has no task for agency {agency}", "agency")
    if status not in TASK_STATUSES:
        session.rollback()
        raise InvalidInput(f"unknown task status '{status[:40]}'", "status")
    if status == "rejected" and not reason:
        session.rollback()
        raise InvalidInput("a rejection needs a reason", "reason")
    try:
        check_task_transition(task.status, status)
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(str(exc), "status") from None
    col = TASK_TIMESTAMP[status]
    session.execute(text(
        f"UPDATE incident_tasks SET status = :s, {col} = now(), reject_reason = COALESCE(:r, reject_reason) "
        "WHERE id = :id"), {"s": status, "r": reason, "id": task.id})
    _event(session, incident_id, actor, "task_" + status, task.status, status, agency=agency, reason=reason)
    _touch(session, incident_id)
    session.commit()
    return get_incident(session, incident_id)


def _touch(session: Session, incident_id: int) -> None:
    """Mark the incident changed: its row's NOTIFY trigger (migration 0004) tells every open map.

    Tasks and notes live in their own tables, which have no trigger; without this an agency's
    acknowledgement would reach the dispatcher's screen only at the next poll.
    """
    session.execute(text("UPDATE incidents SET updated_at = now() WHERE id = :id"), {"id": incident_id})


def add_note(session: Session, incident_id: int, note: Any, actor: str = "operator") -> dict[str, Any]:
    """A note on the incident's timeline, by anyone who may see the incident, at any time after intake.

    Stored as an ``incident_events`` row (kind ``note``): audited with who and when, never
    edited, and visible through the same row-level security as the incident itself.
    """
    body = _text(note, "text", required=True)
    row = session.execute(text(
        "INSERT INTO incident_events (incident_id, actor, kind, data) "
        "SELECT id, :actor, 'note', jsonb_build_object('text', CAST(:t AS text)) FROM incidents WHERE id = :i "
        "RETURNING id"), {"i": incident_id, "actor": actor, "t": body}).first()
    if row is None:
        session.rollback()
        raise NotFound(f"incident {incident_id} does not exist", "id")
    _touch(session, incident_id)
    session.commit()
    return get_incident(session, incident_id)


# -- units and assignment ----------------------------------------------------------------
def assign_unit(session: Session, incident_id: int, unit_id: Any, actor: str = "dispatcher",
                eta_s: float | None = None) -> dict[str, Any]:
    """Send a unit; exactly one of two concurrent dispatchers wins a unit (409 for the other)."""
    if isinstance(unit_id, bool) or not isinstance(unit_id, int):
        raise InvalidInput("unit_id must be an integer", "unit_id")
    if eta_s is None:
        eta_s = _eta_before_assigning(session, incident_id, unit_id)
    return _assign(session, incident_id, {unit_id: eta_s}, actor, "unit_id")


def assign_units(session: Session, incident_id: int, unit_ids: Any, actor: str = "dispatcher") -> dict[str, Any]:
    """Send several units at once (a whole response plan): all of them in one transaction, or none.

    A plan half sent is worse than none: the dispatcher would believe the fire engines are
    on their way while one of them was taken by a colleague a second earlier.
    """
    if (not isinstance(unit_ids, list) or not unit_ids
            or any(isinstance(u, bool) or not isinstance(u, int) for u in unit_ids)):
        raise InvalidInput("unit_ids must be a non-empty list of unit ids (integers)", "unit_ids")
    if len(unit_ids) > MAX_UNITS_AT_ONCE:
        raise InvalidInput(f"unit_ids may name at most {MAX_UNITS_AT_ONCE} units", "unit_ids")
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput("unit_ids names a unit twice", "unit_ids")
    etas = {u: _eta_before_assigning(session, incident_id, u) for u in unit_ids}
    return _assign(session, incident_id, etas, actor, "unit_ids")


def _assign(session: Session, incident_id: int, etas: dict[int, float | None], actor: str,
            field: str) -> dict[str, Any]:
    """Assign every unit of ``etas`` (unit id -> ETA) to the incident in one transaction; ``field`` names errors."""
    ids = list(etas)
    inc = _lock_incident(session, incident_id)
    if inc.status in INCIDENT_TERMINAL or inc.status == "resolved":
        session.rollback()
        raise Conflict(f"incident {incident_id} is {inc.status}", "status")
    units = session.execute(text(
        "UPDATE units SET status = 'dispatched', current_incident_id = :i, version = version + 1 "
        "WHERE id = ANY(:ids) AND status = 'available' RETURNING id, agency_code, callsign"),
        {"i": incident_id, "ids": ids}).all()
    if len(units) != len(ids):
        taken = [u for u in ids if u not in {x.id for x in units}]
        found = {r.id: r.status for r in session.execute(
            text("SELECT id, status FROM units WHERE id = ANY(:ids)"), {"ids": taken})}
        session.rollback()
        unknown = [u for u in taken if u not in found]
        if unknown:
            raise InvalidInput(f"unit {unknown[0]} does not exist", field)
        busy = ", ".join(f"{u} (status {found[u]})" for u in taken)
        if len(taken) == 1:
            raise Conflict(f"unit {taken[0]} is not available (status {found[taken[0]]})", field)
        raise Conflict(f"units {busy} are not available; none was assigned", field)
    by_id = {u.id: u for u in units}
    try:
        with session.begin_nested():
            for unit_id in ids:
                unit = by_id[unit_id]
                session.execute(text(
                    "INSERT INTO incident_tasks (incident_id, agency_code) VALUES (:i, :a) "
                    "ON CONFLICT (incident_id, agency_code) DO NOTHING"), {"i": incident_id, "a": unit.agency_code})
                task_id = session.execute(text(
                    "SELECT id FROM incident_tasks WHERE incident_id = :i AND agency_code = :a"),
                    {"i": incident_id, "a": unit.agency_code}).scalar_one()
                session.execute(text(
                    "INSERT INTO assignments (incident_id, unit_id, task_id, eta_s, actor) "
                    "VALUES (:i, :u, :t, :eta, :actor)"),
                    {"i": incident_id, "u": unit_id, "t": task_id, "eta": etas[unit_id], "actor": actor})
    except IntegrityError:
        session.rollback()
        raise Conflict(f"unit {ids[0] if len(ids) == 1 else ids} is already assigned", field) from None
    if inc.status in INCIDENT_UNDISPATCHED:
        session.execute(text(
            "UPDATE incidents SET status = 'dispatched', dispatched_at = COALESCE(dispatched_at, now()), "
            "updated_at = now() WHERE id = :id"), {"id": incident_id})
        _event(session, incident_id, actor, "status_changed", inc.status, "dispatched")
    for unit_id in ids:
        _event(session, incident_id, actor, "assigned", unit_id=unit_id, callsign=by_id[unit_id].callsign,
               agency=by_id[unit_id].agency_code, eta_s=etas[unit_id])
    session.commit()
    return get_incident(session, incident_id)


def _eta_before_assigning(session: Session, incident_id: int, unit_id: int) -> float | None:
    """Drive time from the unit to the incident, computed before any row is locked."""
    row = session.execute(text(
        "SELECT ST_Y(i.geom) AS ilat, ST_X(i.geom) AS ilon, ST_Y(u.geom) AS ulat, ST_X(u.geom) AS ulon "
        "FROM incidents i, units u WHERE i.id = :i AND u.id = :u"), {"i": incident_id, "u": unit_id}).one_or_none()
    session.commit()  # end the read-only transaction before taking locks
    if row is None or row.ulat is None:
        return None
    return routing.route(session, (row.ulat, row.ulon), (row.ilat, row.ilon))["eta_s"]


def _release_all(session: Session, incident_id: int, actor: str) -> None:
    released = session.execute(text(
        "UPDATE assignments SET released_at = now() WHERE incident_id = :i AND released_at IS NULL "
        "RETURNING unit_id"), {"i": incident_id}).scalars().all()
    if released:
        session.execute(text(
            "UPDATE units SET status = 'available', current_incident_id = NULL, version = version + 1 "
            "WHERE id = ANY(:ids)"), {"ids": list(released)})
        _event(session, incident_id, actor, "released", unit_ids=list(released))


def release_assignment(session: Session, incident_id: int, assignment_id: int,
                       actor: str = "dispatcher") -> dict[str, Any]:
    _lock_incident(session, incident_id)
    unit_id = session.execute(text(
        "UPDATE assignments SET released_at = now() WHERE id = :a AND incident_id = :i "
        "AND released_at IS NULL RETURNING unit_id"), {"a": assignment_id, "i": incident_id}).scalar_one_or_none()
    if unit_id is None:
        session.rollback()
        raise NotFound(f"no open assignment {assignment_id} on incident {incident_id}", "assignment_id")
    session.execute(text(
        "UPDATE units SET status = 'available', current_incident_id = NULL, version = version + 1 "
        "WHERE id = :u"), {"u": unit_id})
    _event(session, incident_id, actor, "released", unit_ids=[unit_id])
    session.commit()
    return get_incident(session, incident_id)


def list_units(session: Session, agency: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    where, params = ["TRUE"], {}
    if agency:
        where.append("u.agency_code = :agency")
        params["agency"] = agency
    if status:
        where.append("u.status = :status")
        params["status"] = status
    rows = session.execute(text(UNITS_SQL + " WHERE " + " AND ".join(where) + " ORDER BY u.agency_code, u.callsign"),
                           params).mappings()
    return [{k: _iso(v) for k, v in r.items()} for r in rows]


def update_unit_position(session: Session, unit_id: int, lat: Any, lon: Any,
                         actor: str = "avl") -> dict[str, Any]:
    """Move a unit; the position must lie within the city plus UNIT_MARGIN_M, and is audited in unit_positions.

    A tracker sending (-89.9, 0) or a stolen token moving units about would otherwise
    put them on the map and into nearest-unit advice with no trace of who did it.
    """
    lat, lon = coordinate(lat, "lat"), coordinate(lon, "lon")
    bounds = city_bounds(session)
    if bounds is not None:
        widest = max(abs(bounds[1]), abs(bounds[3]))  # a degree of longitude is shortest there
        margin = UNIT_MARGIN_M / (METRES_PER_DEGREE * math.cos(math.radians(min(widest, 89.0))))
        check_in_city(tuple(bounds), lat, lon, margin_deg=margin, fallback=None)
    row = session.execute(text(
        "UPDATE units SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), position_at = now(), "
        "version = version + 1 WHERE id = :u RETURNING id"), {"u": unit_id, "lat": lat, "lon": lon}).one_or_none()
    if row is None:
        session.rollback()
        raise NotFound(f"unit {unit_id} does not exist", "unit_id")
    session.execute(text("INSERT INTO unit_positions (unit_id, actor, geom) "
                         "VALUES (:u, :actor, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                    {"u": unit_id, "actor": actor, "lat": lat, "lon": lon})
    session.commit()
    return next(u for u in list_units(session) if u["id"] == unit_id)
