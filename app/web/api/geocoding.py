"""Forward and reverse geocoding for the call form."""

from __future__ import annotations

from flask import jsonify, request

from app.db import get_session
from app.services import geocode
from app.services.dispatch import coordinate
from app.services.errors import InvalidInput
from app.web.api import bp


@bp.get("/geocode")
def forward():
    q = (request.args.get("q") or "").strip()
    if not q:
        raise InvalidInput("q is required", "q")
    if len(q) > geocode.MAX_QUERY_LEN:
        raise InvalidInput(f"q is longer than {geocode.MAX_QUERY_LEN} characters", "q")
    return jsonify({"query": q, "normalized": geocode.normalize(q),
                    "results": geocode.geocode(get_session(), q)})


@bp.get("/reverse")
def reverse():
    lat = coordinate(request.args.get("lat"), "lat")
    lon = coordinate(request.args.get("lon"), "lon")
    return jsonify(geocode.reverse(get_session(), lat, lon))
