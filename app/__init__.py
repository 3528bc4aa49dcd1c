"""peta112: GIS situational awareness for Indonesian Call Center 112."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import PROJECT_ROOT, Settings, from_env


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The only way an app is built: settings in, blueprints and database wired.

    Raises :class:`app.secret_key.SecretKeyError` when the secret key is a published default or too weak.
    """
    from app import db, secret_key
    from app.web import (
        accounts,
        alerts,
        analytics_limits,
        api,
        auth,
        dashboard,
        features,
        health,
        hygiene,
        lapor,
        open311,
        openapi,
        problems,
        stream,
        tiles,
    )
    from app.web import map as map_page
    from app.web.caching import init_app as init_caching
    from app.web.json_provider import OrjsonProvider

    settings = settings or from_env()
    if overrides:
        settings = settings.with_overrides(**overrides)
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"), static_url_path="/static")
    app.config.update(SECRET_KEY=secret_key.resolve(settings), TESTING=settings.testing)
    app.json = OrjsonProvider(app)  # large answers (lists, GeoJSON, analytics); same JSON as Flask's
    app.extensions["peta112.settings"] = settings
    db.init_app(app, settings)
    problems.init_app(app)
    hygiene.init_app(app)  # first: before authentication and before any route is added
    # Sign-in is limited by failures, per account and per address, in the login view itself.
    limits = {"api.create_incident": settings.rate_limit_intake, "open311.create_request": settings.rate_limit_intake,
              "accounts.create_token": settings.rate_limit_login,
              "api.public_report": settings.rate_limit_public, "api.public_report_status": settings.rate_limit_public,
              **dict.fromkeys(open311.PUBLIC_READS, settings.rate_limit_public)}
    auth.init_app(app, {k: v for k, v in limits.items() if v > 0}, settings)
    analytics_limits.init_app(app)  # after auth: a slot belongs to the signed-in user
    init_caching(app)  # answers to signed-in readers are private
    app.register_blueprint(auth.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    tiles.init_app(app)  # the basemap tile cache
    app.register_blueprint(tiles.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(map_page.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(lapor.bp)
    app.register_blueprint(features.bp)
    app.register_blueprint(openapi.bp)
    return app
