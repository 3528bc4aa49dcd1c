"""BPBD flood states per kelurahan and the public CAP 1.2 Atom feed.

``PUT/DELETE /api/v1/flood-states/<kelurahan code or id>`` are BPBD's controls;
``GET /api/v1/flood-states`` is the choropleth; ``GET /api/v1/cap/feed.atom`` and
``GET /api/v1/cap/flood/<id>.xml`` are what alert aggregators poll.
Thin: validation and representation live in app/services/floods.py.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from app.db import get_session
from app.services import floods
from app.services.analytics.clusters import DEFAULT_SENDER, DEFAULT_SENDER_NAME
from app.web import links
from app.web.api import bp
from app.web.api.incidents import _int_arg, actor, json_body


def _epsg() -> int:
    return current_app.extensions["peta112.settings"].utm_epsg


def _sender() -> dict[str, str]:
    extra = current_app.extensions["peta112.settings"].extra
    return {"sender": extra.get("cap_sender", DEFAULT_SENDER),
            "sender_name": extra.get("cap_sender_name", DEFAULT_SENDER_NAME)}


@bp.get("/flood-states")
def flood_states_list():
    hours = _int_arg("hours", floods.DEFAULT_INCIDENT_HOURS, 1, floods.MAX_INCIDENT_HOURS)
    resp = jsonify(floods.current_states(get_session(), hours=hours))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/flood-states/<ref>")
def flood_state_history(ref: str):
    return jsonify(floods.history(get_session(), ref, limit=_int_arg("limit", 100, 1, 1000)))


@bp.put("/flood-states/<ref>")
def flood_state_set(ref: str):
    body = json_body()
    return jsonify(floods.set_state(get_session(), ref, body.get("level"), body.get("note"), actor()))


@bp.delete("/flood-states/<ref>")
def flood_state_clear(ref: str):
    return jsonify(floods.clear_state(get_session(), ref, actor()))


@bp.get("/cap/feed.atom")
def cap_feed():
    embed = request.args.get("embed", "1") not in ("0", "false", "no")
    xml = floods.atom_feed(get_session(), links.base_url(), _epsg(), embed=embed, **_sender())
    return Response(xml, mimetype=floods.ATOM_TYPE)


@bp.get("/cap/flood/<int:state_id>.xml")
def cap_flood_alert(state_id: int):
    return Response(floods.cap_alert(get_session(), state_id, _epsg(), **_sender()), mimetype=floods.CAP_TYPE)
