"""Login, API tokens, and the checks every request passes: role, CSRF, rate limit, privacy.

Browsers sign in with a password and carry a signed session cookie; unsafe
requests from a session must echo its CSRF token in ``X-CSRF-Token``.
Machine clients (AVL boxes, other city systems) send ``Authorization: Bearer``
tokens and need no CSRF token.  The role table is app/web/policy.py.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, current_app, g, jsonify, redirect, render_template, request, session

from app.db import get_session
from app.domain.roles import mask_caller, sees_personal_data
from app.services import auth as auth_service
from app.web.policy import allowed
from app.web.problems import Problem

bp = Blueprint("auth", __name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGES = frozenset({"map.page", "dashboard.page"})  # a browser is redirected to the login page
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


# -- rate limits -----------------------------------------------------------------------------
class RateLimiter:
    """Fixed one-minute windows per (endpoint, client), per process.

    Per process is enough to blunt password guessing and runaway intake loops;
    with N gunicorn workers the effective limit is at most N times the setting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str, int], int] = defaultdict(int)

    def hit(self, endpoint: str, client: str, per_minute: int) -> int | None:
        """Count a request; return seconds to wait when over the limit, else None."""
        window = int(time.time() // 60)
        with self._lock:
            if len(self._hits) > 50_000:
                self._hits = defaultdict(int, {k: v for k, v in self._hits.items() if k[2] == window})
            key = (endpoint, client, window)
            self._hits[key] += 1
            if self._hits[key] > per_minute:
                return 60 - int(time.time() % 60)
        return None


# -- the user of this request ----------------------------------------------------------------
def current_user() -> auth_service.User | None:
    return g.get("user")


def actor() -> str:
    user = current_user()
    return user.username if user else (request.headers.get("X-Actor") or "anonymous")[:100]


def _resolve_user() -> auth_service.User | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        g.auth_method = "token"
        return auth_service.user_for_token(get_session(), header[7:].strip())
    user_id = session.get("user_id")
    if user_id is not None:
        g.auth_method = "session"
        return auth_service.get_user(get_session(), int(user_id))
    return None


def _check_request() -> Response | None:
    endpoint = request.endpoint
    limits: dict[str, int] = current_app.config["PETA112_RATE_LIMITS"]
    if endpoint in limits:
        wait = current_app.extensions["peta112.ratelimit"].hit(endpoint, request.remote_addr or "-", limits[endpoint])
        if wait is not None:
            raise Problem(429, "Too Many Requests", f"limit of {limits[endpoint]} per minute reached; "
                          f"retry in {wait} s", retry_after=wait)
    if endpoint is None:  # 404 / 405: let Flask answer
        return None
    user = _resolve_user()
    g.user = user
    # The lookup ran as anonymous; end its transaction so the next one starts as this user
    # (app/db: every transaction tells the database who reads, for row-level security).
    if "db_session" in g:
        g.db_session.commit()
    verdict = allowed(endpoint, user.role if user else None)
    if verdict is None:
        raise Problem(403, "Forbidden", f"endpoint {endpoint} is not open to any role")
    if not verdict:
        if user is None:
            if endpoint in PAGES:
                return redirect(f"/login?next={request.full_path.rstrip('?')}")
            raise Problem(401, "Unauthorized", "sign in, or send an API token as 'Authorization: Bearer ...'")
        raise Problem(403, "Forbidden", f"role {user.role} may not use {endpoint}")
    # Signing in again (another user at the same desk) replaces the session; no CSRF token needed.
    if user and g.get("auth_method") == "session" and request.method in UNSAFE and endpoint != "auth.login":
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            raise Problem(403, "Forbidden", "missing or wrong X-CSRF-Token header", field="X-CSRF-Token")
    if endpoint == "tiles.tile":
        _check_layer(user)
    return None


def _check_layer(user: auth_service.User | None) -> None:
    from app.layers import registry

    layer = registry().get((request.view_args or {}).get("layer_id", ""))
    roles = getattr(layer, "roles", None) if layer else None
    if layer is not None and roles and user is not None and user.role not in roles and user.role != "admin":
        raise Problem(403, "Forbidden", f"role {user.role} may not see layer {layer.id}")


# -- responses ---------------------------------------------------------------------------------
def _mask(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "caller" in obj or "caller_phone" in obj or "caller_name" in obj:
            mask_caller(obj)
        for v in obj.values():
            _mask(v)
    elif isinstance(obj, list):
        for v in obj:
            _mask(v)
    return obj


def _after(resp: Response) -> Response:
    user = current_user()
    if user is not None and not sees_personal_data(user.role) and resp.mimetype == "application/json":
        resp.set_data(json.dumps(_mask(resp.get_json()), ensure_ascii=False))
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if resp.status_code == 429:
        body = resp.get_json(silent=True) or {}
        if "retry_after" in body:
            resp.headers["Retry-After"] = str(body["retry_after"])
    return resp


def init_app(app: Flask, rate_limits: dict[str, int]) -> None:
    app.config["PETA112_RATE_LIMITS"] = rate_limits
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.extensions["peta112.ratelimit"] = RateLimiter()
    app.before_request(_check_request)
    app.after_request(_after)
    app.context_processor(lambda: {"csrf_token": session.get("csrf", ""), "user": current_user()})


# -- views -------------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce a user to another site."""
    # Control characters (CRLF) would split the Location header; a backslash reads as "//" in browsers.
    if not target or any(c < " " or c == "\x7f" or c == "\\" for c in target):
        return "/map"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/map"
    return target


@bp.get("/login")
def login_page():
    return render_template("login.html", next=_safe_next(request.args.get("next")), error=None)


@bp.post("/login")
def login():
    form = request.form if request.form else (request.get_json(silent=True) or {})
    user = auth_service.authenticate(get_session(), str(form.get("username", "")), str(form.get("password", "")))
    wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
    if user is None:
        if wants_json:
            raise Problem(401, "Unauthorized", "wrong username or password", field="password")
        return render_template("login.html", next=_safe_next(form.get("next")), error=True), 401
    session.clear()
    session["user_id"] = user.id
    session["csrf"] = secrets.token_urlsafe(24)
    if wants_json:
        return jsonify({"user": user.to_dict(), "csrf_token": session["csrf"]})
    return redirect(_safe_next(form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify({"signed_out": True})
    return redirect("/login")


@bp.get("/api/v1/me")
def me():
    user = current_user()
    assert user is not None
    return jsonify({"user": user.to_dict(), "personal_data": sees_personal_data(user.role),
                    "csrf_token": session.get("csrf")})


@bp.post("/api/v1/tokens")
def create_token():
    """A signed-in user makes an API token for a device or integration acting as them."""
    user = current_user()
    assert user is not None
    body = request.get_json(silent=True) or {}
    name = str(body.get("name") or "api")[:100]
    days = body.get("days", 365)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise Problem(422, "Unprocessable Content", "days must be an integer from 1 to 3650", field="days")
    token, info = auth_service.create_token(get_session(), user.username, name, days)
    return jsonify({"token": token, **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                       for k, v in info.items()}}), 201
