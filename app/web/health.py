"""GET /healthz: is the database there, which PostGIS/pgRouting, how much data."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.db import get_engine
from app.services.status import database_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with get_engine().connect() as conn:
            info = database_status(conn)
    except Exception as exc:  # the database being down is the answer, not an error
        info = {"reachable": False, "error": str(exc).splitlines()[0][:300]}
    status = 200 if info.get("reachable") else 503
    body = {"status": "ok" if status == 200 else "unavailable", "database": info}
    return jsonify(body), status
