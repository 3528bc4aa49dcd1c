"""The dispatcher's map page: GET / and /map, and the layer list the page is drawn from.

The page is static HTML plus ``static/js``; everything it shows comes from the
JSON API and the vector tiles, so this view only hands over where those are.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for

from app.city.profile import city_timezone
from app.db import get_session
from app.incidents import lifecycle
from app.layers import registry
from app.services.mapview import city_bounds
from app.web.auth import current_user
from app.web.policy import allowed

bp = Blueprint("map", __name__, template_folder="templates")

ATTRIBUTION = {
    "peta112": "peta112",
    "osm": '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a>',
}


@bp.get("/")
def index() -> Response:
    return redirect(url_for("map.page"))  # type: ignore[return-value]


@bp.get("/map")
def page() -> str:
    # The page subscribes to live updates only where a stream endpoint is registered.
    stream = url_for("stream.events") if "stream.events" in current_app.view_functions else ""
    # The role table decides which controls the page shows (a button that would be refused is not drawn).
    user = current_user()
    may_set_flood = bool(user and allowed("api.flood_state_set", user.role))
    # Times on the console are the city's wall clock (WIB, WITA or WIT), whatever the PC's own setting.
    timezone = city_timezone(get_session().connection())
    return render_template("map.html", stream_url=stream, may_set_flood=may_set_flood, timezone=timezone)


@bp.get("/map/layers.json")
def layers() -> Response:
    """Layer definitions (without SQL), the city's extent for the first view, attribution, and the lifecycle.

    The page reads which statuses exist, are open and may follow each other from here
    (app/incidents/lifecycle.py) rather than keeping a copy that could drift.
    """
    resp = jsonify({
        "layers": [layer.public() for layer in registry().values()],
        "bounds": city_bounds(get_session()),
        "attribution": ATTRIBUTION,
        "lifecycle": lifecycle.rules(),
    })
    resp.headers["Cache-Control"] = "no-cache"
    return resp
