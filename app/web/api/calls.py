"""Calls: the desk's list of contacts, one contact with the caller's history, and the PBX webhook.

``POST /api/v1/calls/events`` is what the telephony system (an Asterisk ARI adapter, see
docs/call-centre.md) sends for ``ring``, ``answer`` and ``hangup``; a ring reaches every
open desk console as a ``call`` event on the live stream carrying what
``GET /api/v1/calls/<id>`` answers (the number, its history and its location), so no
console asks again; the hub sends it to the desk's reader classes only (app/live/hub.py).
Thin: validation and SQL live in app/calls/.
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.calls import numbers, queries, records
from app.db import get_session, request_viewer
from app.incidents import audit
from app.web import integrations, links
from app.web.api import bp
from app.web.api.incidents import _int_arg, _parse_time, json_body
from app.web.auth import actor, current_user
from app.web.problems import Problem


def _is_desk() -> bool:
    return request_viewer().personal_data


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise Problem(422, "Unprocessable Content", f"{name} must be one of {', '.join(choices)}", field=name)
    return value


@bp.get("/calls")
def list_calls():
    a = request.args
    incident = _int_arg("incident", 0, 1, 2**63 - 1)
    f = queries.CallFilter(
        since=_parse_time(a.get("since"), "since"), until=_parse_time(a.get("until"), "until"),
        channel=_choice_arg("channel", records.CHANNELS),
        disposition=_choice_arg("disposition", records.DISPOSITIONS),
        operator=(a.get("operator") or None), phone=numbers.normalise(a.get("phone") or None, "phone"),
        state=_choice_arg("state", ("ringing", "answered", "ended", "open")), incident=incident or None,
        limit=_int_arg("limit", 100, 1, 1000), offset=_int_arg("offset", 0, 0, 10_000_000))
    if f.operator is not None and len(f.operator) > 100:
        raise Problem(422, "Unprocessable Content", "operator must be a username", field="operator")
    page = queries.list_calls(get_session(), f)
    audit.record_read(get_session(), request_viewer(), request.endpoint or "api.list_calls", f.as_json(),
                      len(page["items"]))
    if f.offset + f.limit < page["total"]:
        page["next"] = links.this_page(offset=f.offset + f.limit)
    return jsonify(page)


@bp.post("/calls")
def create_call():
    call_id = records.log_call(get_session(), json_body(), actor(), _is_desk())
    resp = jsonify(queries.get_call(get_session(), call_id))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/calls/{call_id}"
    return resp


@bp.get("/calls/<int:call_id>")
def get_call(call_id: int):
    return jsonify(queries.get_call(get_session(), call_id))


@bp.patch("/calls/<int:call_id>")
def patch_call(call_id: int):
    records.update_call(get_session(), call_id, json_body(), actor(), _is_desk())
    return jsonify(queries.get_call(get_session(), call_id))


@bp.post("/calls/events")
def call_events():
    """One telephony event (ring, answer, hangup) from the PBX, keyed, or from a desk user's soft-phone."""
    keys = current_app.extensions["peta112.settings"].telephony_keys
    sender = integrations.authenticate(keys, "telephony")
    result = records.telephony_event(get_session(), json_body(), sender)
    # The PBX learns only that its event arrived: the caller's history is for the consoles.
    body = {"id": result.call_id, "event": result.event, "created": result.created}
    if current_user() is not None:
        body["call"] = f"/api/v1/calls/{result.call_id}"
    return jsonify(body), 201 if result.created else 200
