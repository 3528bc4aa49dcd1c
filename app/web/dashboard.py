"""The officials' dashboard: GET /dashboard (agency performance, trends, hotspots, the weekly report).

Like the map, the page is static HTML plus ``static/js/dashboard.js``; every
figure comes from the analytics API (agency-performance, trends), so the
dashboard, the CLI reports and notebooks can never disagree.  The view only
renders the kecamatan list for the filter, which no API lists, and which unit hotspots use.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, url_for
from sqlalchemy import text

from app.city.profile import city_timezone, zone_abbreviation
from app.db import get_session

bp = Blueprint("dashboard", __name__, template_folder="templates")

KECAMATAN_SQL = text("SELECT code, name FROM admin_areas WHERE level = 'kecamatan' ORDER BY name")
KELURAHAN_COUNT_SQL = text("SELECT count(*) FROM admin_areas WHERE level = 'kelurahan'")
# Gi* needs neighbours: with fewer kelurahan than this (a city just imported) hotspots use hexagons.
MIN_HOTSPOT_UNITS = 3


@bp.get("/dashboard")
def page() -> str:
    session = get_session()
    kecamatan = [{"code": c, "name": n} for c, n in session.execute(KECAMATAN_SQL).all()]
    hotspot_unit = "kelurahan" if session.execute(KELURAHAN_COUNT_SQL).scalar_one() >= MIN_HOTSPOT_UNITS else "hex"
    # The city's own clock (WIB, WITA or WIT, from city setup): "today" in Balikpapan is not Jakarta's.
    return render_template("dashboard.html", kecamatan=kecamatan, map_url=url_for("map.page"),
                           report_url=url_for("api.analytics_weekly_report"),
                           timezone=(tz := city_timezone(session.connection())),
                           zone=zone_abbreviation(ZoneInfo(tz)), hotspot_unit=hotspot_unit)
