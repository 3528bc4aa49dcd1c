"""Duplicates before save: open calls near the call being typed, and merging a caller into one."""

from __future__ import annotations

from flask import jsonify, request

from app.db import get_session, request_viewer
from app.incidents import duplicates
from app.web.api import bp
from app.web.api.incidents import intake_from_json, json_body


@bp.get("/incidents/nearby-open")
def nearby_open():
    a = request.args
    return jsonify(duplicates.nearby_open(get_session(), request_viewer(), a.get("lat"), a.get("lon"),
                                          a.get("category"), a.get("radius_m"), a.get("limit")))


@bp.post("/incidents/<int:incident_id>/reports")
def merge_report(incident_id: int):
    body = json_body()
    body.setdefault("category", "-")  # the incident's category applies; intake's parser wants one
    incident, created = duplicates.merge_report(get_session(), request_viewer(), incident_id,
                                                intake_from_json(body))
    resp = jsonify(incident)
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/incidents/{incident_id}"
    if not created:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp
