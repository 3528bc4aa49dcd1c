"""GET /api/v1/audit/reads: who read callers' data in bulk (officials and admins).

The city's officials answer for what staff do with callers' phone numbers; this is
their view of the read audit (app/incidents/audit.py): one line per user and the
newest rows, for a window and optionally one user.
"""

from __future__ import annotations

from flask import jsonify, request

from app.db import get_session
from app.incidents import audit
from app.services.errors import InvalidInput
from app.web.api import bp
from app.web.api.incidents import _int_arg, _parse_time


@bp.get("/audit/reads")
def audit_reads():
    user = request.args.get("user") or None
    if user is not None and len(user) > 100:
        raise InvalidInput("user is longer than 100 characters", "user")
    since = _parse_time(request.args.get("since"), "since")
    until = _parse_time(request.args.get("until"), "until")
    return jsonify(audit.reads(get_session(), user, since, until, _int_arg("limit", 100, 1, 1000)))
