"""Drive-time coverage: ``GET /api/v1/analytics/coverage?agency=&minutes=&levels=&per=&format=``.

Thin: parse the query (422 problems naming the field) and pick the representation;
the analysis is app/services/analytics/coverage.py.
"""

from __future__ import annotations

from flask import jsonify, request

from app.city.profile import city_zone
from app.db import get_session
from app.services.analytics import coverage as cov
from app.services.analytics.common import make_window
from app.web.api import bp
from app.web.api.analytics import _choice_arg, _float_arg
from app.web.api.incidents import _int_arg, _parse_time

DEFAULT_INCIDENT_DAYS = 365


@bp.get("/analytics/coverage")
def analytics_coverage():
    fmt = _choice_arg("format", "json", ("json", "geojson"))
    window = make_window(_parse_time(request.args.get("since"), "since"),
                         _parse_time(request.args.get("until"), "until"), DEFAULT_INCIDENT_DAYS,
                         city_zone(get_session().connection()))
    q = cov.CoverageQuery(
        agency=(request.args.get("agency") or "").strip().upper(),
        minutes=_float_arg("minutes", cov.DEFAULT_TARGET, 0.1, cov.MAX_MINUTES),
        levels=cov.parse_levels(request.args.get("levels")),
        per=_choice_arg("per", "agency", cov.PER_VALUES),
        candidates=_int_arg("candidates", cov.DEFAULT_CANDIDATES, 1, cov.MAX_CANDIDATES),
        sites=_int_arg("sites", 1, 0, cov.MAX_SITES),
        window=window,
    )
    res = cov.coverage(get_session(), q)
    if fmt == "geojson":
        resp = jsonify(cov.as_feature_collection(res))
        resp.mimetype = "application/geo+json"
        return resp
    return jsonify(res)
