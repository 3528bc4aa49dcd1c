"""Incidents: intake, list, detail, lifecycle, agency tasks, assignments, triage queue.

Reads go through app/incidents/queries.py with the request's viewer; which incidents a
reader may see is decided by the database (row-level security), so an agency officer
asking for another agency's incident gets 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request

from app.db import get_session, request_viewer
from app.incidents import audit, plans, queries
from app.services import dispatch
from app.services.errors import InvalidInput
from app.web import links
from app.web.api import bp
from app.web.auth import actor, current_user
from app.web.policy import AGENCY_BOUND
from app.web.problems import Problem

# The console asks for the whole queue: every open call, whatever the volume.
QUEUE_LIMIT_MAX = 100_000


def check_own_agency(agency: str | None) -> None:
    user = current_user()
    if user is not None and user.role in AGENCY_BOUND and agency != user.agency_code:
        raise Problem(403, "Forbidden", f"{user.username} acts only for {user.agency_code}", field="agency")


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object", "body")
    return body


def _parse_time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time", field) from None


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer", name) from None
    if not lo <= v <= hi:
        raise InvalidInput(f"{name} must be between {lo} and {hi}", name)
    return v


def _list_arg(name: str) -> list[str] | None:
    raw = request.args.get(name)
    return [x.strip() for x in raw.split(",") if x.strip()] if raw else None


def _bbox_arg() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", "bbox")
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput("bbox must be four numbers", "bbox") from None
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat within range", "bbox")
    return x0, y0, x1, y1


def intake_from_json(body: dict[str, Any]) -> dispatch.Intake:
    loc = body.get("location") if isinstance(body.get("location"), dict) else {}
    caller = body.get("caller") if isinstance(body.get("caller"), dict) else {}
    return dispatch.Intake(
        category=body.get("category"),
        lat=loc.get("lat", body.get("lat")),
        lon=loc.get("lon", body.get("lon")),
        address=body.get("address") if body.get("address") is not None else loc.get("address"),
        caller_name=caller.get("name", body.get("caller_name")),
        caller_phone=caller.get("phone", body.get("caller_phone")),
        description=body.get("description"),
        source=body.get("source") or "phone",
        idempotency_key=request.headers.get("Idempotency-Key") or body.get("idempotency_key"),
        actor=actor(),
        recommend=request.args.get("recommend", "1").lower() not in ("0", "false", "no"),
    )


@bp.post("/incidents")
def create_incident():
    # One transaction: the call, and its state as this reader sees it, read before the commit.
    incident, created = dispatch.intake(get_session(), intake_from_json(json_body()), state_for=request_viewer())
    resp = jsonify(incident)
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/incidents/{incident['id']}"
    if not created:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


@bp.get("/incidents")
def list_incidents():
    f = queries.IncidentFilter(
        bbox=_bbox_arg(), categories=_list_arg("category"), statuses=_list_arg("status"),
        agency=request.args.get("agency") or None,
        kelurahan=request.args.get("kelurahan") or None,
        since=_parse_time(request.args.get("since"), "since"),
        until=_parse_time(request.args.get("until"), "until"),
        open_only=request.args.get("open") in ("1", "true"),
        limit=_int_arg("limit", 100, 1, 1000), offset=_int_arg("offset", 0, 0, 10_000_000),
    )
    viewer = request_viewer()
    page = queries.list_incidents(get_session(), viewer, f)
    audit.record_read(get_session(), viewer, request.endpoint or "api.list_incidents", f.as_json(),
                      len(page["items"]))
    nxt = f.offset + f.limit
    if nxt < page["total"]:
        page["next"] = links.this_page(offset=nxt)
    return jsonify(page)


@bp.get("/incidents/<int:incident_id>")
def get_incident(incident_id: int):
    dispatch.record_view(get_session(), incident_id, actor())
    return jsonify(queries.get_incident(get_session(), request_viewer(), incident_id))


@bp.patch("/incidents/<int:incident_id>")
def patch_incident(incident_id: int):
    body = json_body()
    return jsonify(dispatch.change_status(get_session(), incident_id, body.get("status"), actor(),
                                          body.get("note")))


@bp.patch("/incidents/<int:incident_id>/tasks/<agency>")
def patch_task(incident_id: int, agency: str):
    check_own_agency(agency)
    body = json_body()
    return jsonify(dispatch.update_task(get_session(), incident_id, agency, body.get("status"), actor(),
                                        body.get("reason")))


@bp.post("/incidents/<int:incident_id>/assignments")
def assign(incident_id: int):
    """One unit (``unit_id``) or a whole response plan (``unit_ids``: all assigned, or none)."""
    body = json_body()
    if "unit_ids" in body:
        incident = dispatch.assign_units(get_session(), incident_id, body["unit_ids"], actor())
    else:
        incident = dispatch.assign_unit(get_session(), incident_id, body.get("unit_id"), actor())
    return jsonify(incident), 201


@bp.post("/incidents/<int:incident_id>/notes")
def add_note(incident_id: int):
    return jsonify(dispatch.add_note(get_session(), incident_id, json_body().get("text"), actor())), 201


@bp.get("/incidents/<int:incident_id>/plan")
def incident_plan(incident_id: int):
    return jsonify(plans.for_incident(get_session(), request_viewer(), incident_id))


@bp.delete("/incidents/<int:incident_id>/assignments/<int:assignment_id>")
def release(incident_id: int, assignment_id: int):
    return jsonify(dispatch.release_assignment(get_session(), incident_id, assignment_id, actor()))


@bp.get("/queue")
def triage_queue():
    limit = _int_arg("limit", 200, 1, QUEUE_LIMIT_MAX)
    return jsonify(queries.queue(get_session(), request_viewer(), limit=limit))


@bp.get("/units")
def units():
    return jsonify({"units": dispatch.list_units(get_session(), request.args.get("agency"),
                                                 request.args.get("status"))})


@bp.post("/units/<int:unit_id>/position")
def unit_position(unit_id: int):
    user = current_user()
    if user is not None and user.role in AGENCY_BOUND:
        check_own_agency(dispatch.unit_agency(get_session(), unit_id))
    body = json_body()
    return jsonify(dispatch.update_unit_position(get_session(), unit_id, body.get("lat"), body.get("lon"), actor()))


@bp.get("/incidents/<int:incident_id>/nearest")
def incident_nearest(incident_id: int):
    a = request.args
    return jsonify(queries.nearest_for_incident(get_session(), request_viewer(), incident_id,
                                                agency=a.get("agency") or None, k=a.get("k", "5"),
                                                by=a.get("by", "time"), unit_type=a.get("unit_type") or None))


@bp.get("/incidents/<int:incident_id>/eta")
def incident_eta(incident_id: int):
    return jsonify(queries.eta(get_session(), request_viewer(), incident_id))
