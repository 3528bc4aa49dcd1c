"""``GET /lapor``: the public report form (no sign-in), for the categories the city made public."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.calls.public_reports import public_categories
from app.db import get_session

bp = Blueprint("lapor", __name__, template_folder="templates")


@bp.get("/lapor")
def page() -> str:
    return render_template("lapor.html", categories=public_categories(get_session()))
