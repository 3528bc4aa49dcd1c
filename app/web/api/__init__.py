"""The JSON API under /api/v1: one blueprint, one module per resource."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Resource modules register their routes on ``bp`` when imported (one line each).
from app.web.api import (  # noqa: E402,F401
    aml,
    analytics,
    audit,
    calls,
    catalog,  # noqa: E402,F401
    channels,
    coverage,
    duplicates,
    floods,
    geocoding,
    incidents,
    nearest,
    pranks,
    public_reports,
    reports,
    staffing,
)
