"""``GET /api/v1/reports/monthly``: the recap for the ministry, as JSON or CSV (app/calls/monthly.py)."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.calls import monthly
from app.db import get_session
from app.web.api import bp
from app.web.api.analytics import _choice_arg


@bp.get("/reports/monthly")
def monthly_report():
    """Calls by disposition and channel, incidents by category and agency, response times: one month."""
    fmt = _choice_arg("format", "json", ("json", "csv"))
    report = monthly.recap(get_session(), request.args.get("month"))
    if fmt == "csv":
        resp = Response(monthly.as_csv(report), mimetype="text/csv")
        resp.headers["Content-Disposition"] = f'attachment; filename="peta112-{report["month"]}.csv"'
        return resp
    return jsonify(report)
