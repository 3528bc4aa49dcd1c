"""Nearest responders to a point: ``GET /api/v1/nearest?lat=&lon=&agency=&k=&by=&unit_type=``.

The call-taker's map asks this while the caller is still on the line, so it answers
from the per-process routing cache (see app/routing/cache.py) in milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, jsonify, request

from app.db import get_session
from app.live import per_version
from app.routing import nearest as routing
from app.services.dispatch import check_in_city
from app.services.mapview import city_bounds
from app.web.api import bp
from app.web.problems import Problem

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise Problem(422, "Invalid parameter", f"{name} must be true or false", field=name)
    return raw in _TRUE


def _check_in_city(lat_raw: Any, lon_raw: Any) -> None:
    """A point far outside the city has no road to snap to (and breaks the UTM transform): 422 as in intake."""
    try:
        lat, lon = float(lat_raw), float(lon_raw)
    except (TypeError, ValueError):
        return  # routing names the malformed field
    if math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180:
        # The city's box changes with an import: once per basemap version, not per request.
        bounds = per_version(current_app, "basemap", "city_bounds", lambda: city_bounds(get_session()))
        check_in_city(tuple(bounds or (None, None, None, None)), lat, lon)


@bp.get("/nearest")
def get_nearest():
    a = request.args
    _check_in_city(a.get("lat"), a.get("lon"))
    return jsonify(routing.nearest_for_point(
        get_session(), a.get("lat"), a.get("lon"), agency=a.get("agency") or None,
        k=a.get("k", "5"), by=a.get("by", "time"), unit_type=a.get("unit_type") or None,
        include_busy=_flag("include_busy")))
