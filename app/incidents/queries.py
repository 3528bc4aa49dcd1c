"""Reading incidents: the list, one incident with its trail, the triage queue, ETA and nearest units.

Commands (intake, status changes, assignments: app/services/dispatch.py) and
queries are kept apart so that every read goes through the read model
``incident_facts`` (``sql/queries.sql``) and takes the reader explicitly.  The
database enforces what the reader may see (row-level security under
``incident_facts`` and the task, assignment and event tables): an agency officer
asking for another agency's incident finds nothing, which the API answers as
404.  The viewer passed in decides only what the *shape* says about hidden
data: callers' name and phone are reported as withheld (``***``) rather than
missing, so a screen can tell "not for you" from "not given".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.domain.roles import MASK
from app.incidents.lifecycle import INCIDENT_STATUSES
from app.incidents.viewer import Viewer
from app.routing import nearest as routing
from app.services.errors import InvalidInput, NotFound

PACKAGE, FILE = "app.incidents", "sql/queries.sql"


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _raw(name: str) -> str:
    return sqlfiles.raw(PACKAGE, FILE, name)


def iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


FIELDS = ("id", "category", "category_name", "category_name_en", "status", "priority", "source", "address",
          "description", "is_prank", "duplicate_of", "received_at", "verified_at", "dispatched_at",
          "en_route_at", "on_scene_at", "resolved_at", "closed_at", "cancelled_at", "updated_at",
          "target_response_s", "lat", "lon")
LIFECYCLE_FIELDS = ("is_open", "is_overdue", "due_at", "report_count")


def incident_dict(r: Any, viewer: Viewer | None = None) -> dict[str, Any]:
    """One incident row in the API's shape.

    With a viewer who may not see callers' data, name and phone read ``***`` (withheld);
    the database has already left them out (``incident_facts`` returns NULL), so nothing
    here decides who sees them.  Rows from elsewhere (intake's INSERT ... RETURNING) have
    no lifecycle columns; :func:`incident_state` adds them.
    """
    d = {k: iso(r[k]) for k in FIELDS}
    for k in LIFECYCLE_FIELDS:
        if k in r:
            d[k] = iso(r[k])
    if viewer is not None and not viewer.personal_data:
        d["caller"] = {"name": MASK, "phone": MASK}
    else:
        d["caller"] = {"name": r["caller_name"], "phone": r["caller_phone"]}
    d["kelurahan"] = {"id": r["kel_id"], "code": r["kel_code"], "name": r["kel_name"]} if r["kel_id"] else None
    d["kecamatan"] = {"id": r["kec_id"], "code": r["kec_code"], "name": r["kec_name"]} if r["kec_id"] else None
    return d


def attach(session: Session, incidents: list[dict[str, Any]]) -> None:
    """Add each incident's agency tasks and unit assignments (two queries for the whole page)."""
    ids = [i["id"] for i in incidents]
    by_id = {i["id"]: i for i in incidents}
    for i in incidents:
        i["tasks"], i["assignments"] = [], []
    # On the driver: the live hub runs this for every batch of changes, lists for every page.
    for t in sqlfiles.rows(session, _raw("tasks"), {"ids": ids}):
        by_id[t["incident_id"]]["tasks"].append({k: iso(v) for k, v in t.items() if k != "incident_id"})
    for a in sqlfiles.rows(session, _raw("assignments"), {"ids": ids}):
        by_id[a["incident_id"]]["assignments"].append({k: iso(v) for k, v in a.items() if k != "incident_id"})


def session_viewer(session: Session) -> Viewer:
    """The viewer this session's transaction told the database (anonymous when none did)."""
    role, agency = session.execute(_sql("session_viewer")).one()
    return Viewer(role, agency)


def get_incident(session: Session, viewer: Viewer, incident_id: int, events: bool = True) -> dict[str, Any]:
    """One incident with tasks, assignments and (``events``) its audit trail; 404 if the viewer cannot see it."""
    row = session.execute(text(_raw("incident_by_id").format(columns=_raw("incident_columns"))),
                          {"id": incident_id}).mappings().first()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist", "id")
    inc = incident_dict(row, viewer)
    attach(session, [inc])
    inc["reports"] = reports(session, viewer, incident_id)
    if events:
        inc["events"] = [{k: iso(v) for k, v in e.items()}
                         for e in session.execute(_sql("events"), {"id": incident_id}).mappings()]
    return inc


def summaries(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The incidents ``ids`` in the list's shape, with tasks and assignments but no caller fields.

    What the live stream sends to every reader allowed to see an incident, so a map updates
    without asking again (and without a 'viewed' audit row per map).  The caller's name and
    phone are left out for everyone: the key is absent, so a desk's map keeps what it has.
    """
    if not ids:
        return []
    rows = sqlfiles.rows(session, _raw("incidents_by_ids").format(columns=_raw("incident_columns")), {"ids": ids})
    out = [incident_dict(r) for r in rows]
    for inc in out:
        del inc["caller"]
    attach(session, out)
    return out


def reports(session: Session, viewer: Viewer, incident_id: int) -> list[dict[str, Any]]:
    """Further callers merged into an incident (app/incidents/duplicates.py), callers masked as for the incident."""
    out = []
    for r in session.execute(_sql("reports"), {"id": incident_id}).mappings():
        item = {k: iso(v) for k, v in r.items() if k not in ("caller_name", "caller_phone")}
        item["caller"] = ({"name": MASK, "phone": MASK} if not viewer.personal_data
                          else {"name": r["caller_name"], "phone": r["caller_phone"]})
        out.append(item)
    return out


def incident_state(session: Session, viewer: Viewer, incident_id: int) -> dict[str, Any]:
    """``is_open``, ``is_overdue``, ``due_at`` and ``report_count`` of one incident, as the read model says now."""
    # On the driver: intake answers with it, in the call's own transaction (sqlfiles.row).
    row = sqlfiles.row(session, _raw("incident_state"), {"id": incident_id})
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist", "id")
    return {k: iso(v) for k, v in row.items()}


@dataclass
class IncidentFilter:
    bbox: tuple[float, float, float, float] | None = None
    categories: list[str] | None = None
    statuses: list[str] | None = None
    agency: str | None = None
    kelurahan: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    open_only: bool = False
    limit: int = 100
    offset: int = 0

    def as_json(self) -> dict[str, Any]:
        """The filters given (and the page), JSON-ready, for the read audit."""
        out = {k: iso(v) for k, v in vars(self).items() if v is not None and v is not False and v != []}
        if self.bbox:
            out["bbox"] = list(self.bbox)
        return out

    def conditions(self) -> tuple[list[str], dict[str, Any]]:
        """The ``filter_*`` blocks of sql/queries.sql for the filters given, and their parameters."""
        names: list[str] = []
        params: dict[str, Any] = {}
        if self.bbox:
            names.append("bbox")
            params.update(x0=self.bbox[0], y0=self.bbox[1], x1=self.bbox[2], y1=self.bbox[3])
        if self.categories:
            names.append("categories")
            params["categories"] = self.categories
        if self.statuses:
            bad = [s for s in self.statuses if s not in INCIDENT_STATUSES]
            if bad:
                raise InvalidInput(f"unknown status '{bad[0][:40]}'", "status")
            names.append("statuses")
            params["statuses"] = self.statuses
        if self.open_only:
            names.append("open")
        for name in ("agency", "kelurahan", "since", "until"):
            value = getattr(self, name)
            if value:
                names.append(name)
                params[name] = value
        return [_raw("filter_" + n) for n in names], params


def list_incidents(session: Session, viewer: Viewer, f: IncidentFilter) -> dict[str, Any]:
    """One page of the incidents the viewer may see, newest first, with the total that matched."""
    conds, params = f.conditions()
    where = " AND ".join(conds) or "TRUE"
    counted = where
    if viewer.scoped_agency:
        # Not a filter (row-level security already leaves other agencies' incidents out): counting
        # from the agency's own tasks spares the per-row visibility check on every incident (~2x).
        counted = " AND ".join([*conds, _raw("count_from_reader_agency")])
        params["reader_agency"] = viewer.scoped_agency
    total = session.execute(text(_raw("incident_count").format(where=counted)), params).scalar_one()
    page = _raw("incident_page").format(columns=_raw("incident_columns"), where=where)
    rows = session.execute(text(page), {**params, "limit": f.limit, "offset": f.offset}).mappings().all()
    items = [incident_dict(r, viewer) for r in rows]
    if items:
        attach(session, items)
    return {"total": total, "limit": f.limit, "offset": f.offset, "items": items}


def queue(session: Session, viewer: Viewer, limit: int = 200) -> dict[str, Any]:
    """Open incidents the viewer may see, most urgent first, with the whole queue counted.

    Ordered by priority, then overdue, then waiting time, so an overdue P1 call is always at
    the top; ``counts`` covers every open call the viewer may see, however short the page.
    ``overdue`` is the read model's ``is_overdue`` (kept under its old name for clients).
    """
    rows = session.execute(_sql("queue"), {"limit": limit}).mappings().all()
    items = [{k: iso(v) for k, v in r.items()} for r in rows]
    for it in items:
        it["waiting_s"] = round(float(it["waiting_s"]), 1)
        it["overdue"] = it["is_overdue"]
    if items:
        attach(session, items)
    counts: dict[str, Any] = {"open": 0, "overdue": 0, "by_status": {}, "by_priority": {}}
    for r in session.execute(_sql("queue_counts")).mappings():
        counts["open"] += r["open"]
        counts["overdue"] += r["overdue"]
        for key, value in (("by_status", r["status"]), ("by_priority", str(r["priority"]))):
            slot = counts[key].setdefault(value, {"open": 0, "overdue": 0})
            slot["open"] += r["open"]
            slot["overdue"] += r["overdue"]
    return {"items": items, "total": counts["open"], "counts": counts}


def _location(session: Session, incident_id: int) -> Any:
    row = session.execute(_sql("location"), {"id": incident_id}).one_or_none()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist", "id")
    return row


def nearest_for_incident(session: Session, viewer: Viewer, incident_id: int, agency: str | None = None,
                         k: Any = 5, by: str = "time", unit_type: str | None = None) -> dict[str, Any]:
    """Nearest responders to an incident the viewer may see (404 otherwise, as if it did not exist).

    Like every query here it names its reader; the rows it may touch were fixed when the
    session's transaction told the database that reader.
    """
    inc = _location(session, incident_id)
    res = routing.nearest_for_point(session, inc.lat, inc.lon, agency=agency, k=k, by=by, unit_type=unit_type)
    return {"incident_id": incident_id, **res}


def eta(session: Session, viewer: Viewer, incident_id: int) -> dict[str, Any]:
    """What the caller asks: when will help arrive?  One line per unit on its way."""
    inc = _location(session, incident_id)
    rows = session.execute(_sql("active_assignments"), {"id": incident_id}).mappings().all()
    units = []
    for r in rows:
        item = {k: iso(v) for k, v in r.items() if k not in ("lat", "lon")}
        if r["status"] == "on_scene":
            item.update(eta_s=0.0, method="on_scene", arrives_at=iso(inc.now))
        elif r["lat"] is None:
            item.update(eta_s=None, method="unknown_position", arrives_at=None)
        else:
            leg = routing.route(session, (r["lat"], r["lon"]), (inc.lat, inc.lon))
            item.update(eta_s=leg["eta_s"], method=leg["method"], distance_m=leg["distance_m"],
                        arrives_at=iso(inc.now + timedelta(seconds=leg["eta_s"])), route=leg["route"])
        units.append(item)
    first = min((u["eta_s"] for u in units if u["eta_s"] is not None), default=None)
    return {"incident_id": incident_id, "status": inc.status, "first_eta_s": first, "units": units}
