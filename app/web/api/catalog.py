"""Agencies and incident categories: what the call-taker chooses from."""

from __future__ import annotations

from flask import jsonify

from app.db import get_session
from app.services import catalog
from app.web.api import bp


@bp.get("/categories")
def list_categories():
    return jsonify({"categories": catalog.categories(get_session())})


@bp.get("/agencies")
def list_agencies():
    return jsonify({"agencies": catalog.agencies(get_session())})
