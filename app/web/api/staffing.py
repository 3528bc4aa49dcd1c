"""Call-centre analytics: operators needed per hour of the week (Erlang C), and per shift and operator.

Thin: parameters (422 naming the field) here, the figures in app/calls/staffing.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import jsonify, request

from app.calls import staffing
from app.city.profile import city_zone
from app.db import get_session
from app.services.analytics.common import as_aware, make_window
from app.services.errors import InvalidInput
from app.web.api import bp
from app.web.api.analytics import _float_arg
from app.web.api.incidents import _int_arg, _parse_time


def _target() -> staffing.Target:
    return staffing.Target(share=_float_arg("service_level", 0.9, 0.5, 0.999),
                           within_s=_float_arg("answer_within_s", 10, 1, 600),
                           max_occupancy=_float_arg("max_occupancy", 0.85, 0.3, 1.0),
                           shrinkage=_float_arg("shrinkage", 0.3, 0.0, 0.8),
                           minimum=_int_arg("minimum_operators", 1, 1, 100))


@bp.get("/analytics/staffing")
def analytics_staffing():
    """Hour-of-week load of the last weeks and the Erlang C recommendation for each hour."""
    now = datetime.now(UTC)
    until = as_aware(_parse_time(request.args.get("until"), "until"), city_zone(get_session())) or now
    if not datetime(2000, 1, 1, tzinfo=UTC) <= until <= now + timedelta(days=1):
        raise InvalidInput("until must be a time between 2000 and tomorrow", "until")
    until = until.replace(minute=0, second=0, microsecond=0)
    return jsonify(staffing.staffing(get_session(), until, _int_arg("weeks", 8, 1, 52), _target()))


@bp.get("/analytics/operators")
def analytics_operators():
    """Per shift and per operator and shift: offered, answered, abandoned, answer and handle times, incidents."""
    window = make_window(_parse_time(request.args.get("since"), "since"),
                         _parse_time(request.args.get("until"), "until"), 7, city_zone(get_session()))
    return jsonify(staffing.operators(get_session(), window.since, window.until, _target()))
