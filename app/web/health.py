"""Health: ``GET /healthz`` says only up or down; ``GET /api/v1/health`` gives admins the details.

A load balancer or uptime monitor needs one bit and no credentials.  Versions,
the schema revision and row counts tell an attacker which CVEs to try and how big
the city's data is, so they moved behind the admin role (app/web/policy.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from app.db import get_engine, request_viewer
from app.incidents.facts import apply_viewer
from app.services.status import database_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - the database being down is the answer, not an error
        return jsonify({"status": "down"}), 503
    return jsonify({"status": "ok"}), 200


@bp.get("/api/v1/health")
def details() -> tuple[Response, int]:
    """Database reachable, PostgreSQL/PostGIS/pgRouting versions, schema revision, row counts (admins)."""
    try:
        with get_engine().connect() as conn:
            apply_viewer(conn, request_viewer())  # row counts as this admin sees them (RLS)
            info = database_status(conn)
    except Exception as exc:  # noqa: BLE001 - the database being down is the answer, not an error
        info = {"reachable": False, "error": str(exc).splitlines()[0][:300]}
    status = 200 if info.get("reachable") else 503
    return jsonify({"status": "ok" if status == 200 else "down", "database": info}), status
