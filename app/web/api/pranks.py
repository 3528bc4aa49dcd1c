"""Prank callers: repeat numbers and their review (the desk), the block-list, prank rates (analysts).

Thin: parameters here, rules and SQL in app/calls/pranks.py.  The block-list is a reviewed
recommendation for the telephony operator; nothing here blocks a call.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request

from app.calls import pranks
from app.city.profile import city_zone
from app.db import get_session, request_viewer
from app.incidents import audit
from app.services.analytics.common import make_window
from app.services.dispatch import PRANK_REPEAT_THRESHOLD
from app.web.api import bp
from app.web.api.incidents import _int_arg, _parse_time, json_body
from app.web.auth import actor


@bp.get("/pranks")
def prank_numbers():
    """Numbers with repeated pranks, with the system's recommendation and the supervisors' decision."""
    days = _int_arg("days", 90, 1, 730)
    result = pranks.offenders(get_session(), datetime.now(UTC), days,
                              _int_arg("min_pranks", PRANK_REPEAT_THRESHOLD, 1, 1000), _int_arg("limit", 200, 1, 1000))
    audit.record_read(get_session(), request_viewer(), request.endpoint or "api.prank_numbers",
                      {"days": days}, len(result["items"]))
    return jsonify(result)


@bp.post("/pranks/reviews")
def prank_review():
    """A supervisor approves, rejects or lifts a number's block-list listing, with a reason."""
    return jsonify(pranks.review(get_session(), json_body(), actor(), datetime.now(UTC))), 201


@bp.get("/pranks/blocklist")
def prank_blocklist():
    """The approved listings: what is handed to the telephony operator (never an automatic block)."""
    items = pranks.blocklist(get_session())
    audit.record_read(get_session(), request_viewer(), request.endpoint or "api.prank_blocklist", {}, len(items))
    return jsonify({"items": items})


@bp.get("/analytics/pranks")
def analytics_pranks():
    """Prank rate of calls by local hour and by kelurahan."""
    window = make_window(_parse_time(request.args.get("since"), "since"),
                         _parse_time(request.args.get("until"), "until"), 90, city_zone(get_session()))
    return jsonify(pranks.rates(get_session(), window.since, window.until))
