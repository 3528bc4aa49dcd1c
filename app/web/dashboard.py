"""The officials' dashboard: GET /dashboard (agency performance and trends, with drill-down to the map).

Like the map, the page is static HTML plus ``static/js/dashboard.js``; every
figure comes from the analytics API (agency-performance, trends), so the
dashboard, the CLI reports and notebooks can never disagree.  The view only
renders the kecamatan list for the filter, which no API lists.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from sqlalchemy import text

from app.db import get_session
from app.services.analytics.common import LOCAL_TZ_NAME

bp = Blueprint("dashboard", __name__, template_folder="templates")

KECAMATAN_SQL = text("SELECT code, name FROM admin_areas WHERE level = 'kecamatan' ORDER BY name")


@bp.get("/dashboard")
def page() -> str:
    kecamatan = [{"code": c, "name": n} for c, n in get_session().execute(KECAMATAN_SQL).all()]
    return render_template("dashboard.html", kecamatan=kecamatan, map_url=url_for("map.page"),
                           timezone=LOCAL_TZ_NAME)
