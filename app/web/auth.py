"""Sign-in, sign-out, and the checks every request passes: role, CSRF, rate limit, privacy.

Browsers sign in with a password and carry a cookie holding a random session
id; the session itself lives in the database (app/services/sessions.py), so
signing out, disabling the user or changing the password ends it at once.
Unsafe requests from a session must echo its CSRF token in ``X-CSRF-Token``.
Machine clients (AVL boxes, other city systems) send ``Authorization: Bearer``
tokens and need no CSRF token.  The role table is app/web/policy.py.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, current_app, g, jsonify, redirect, render_template, request
from flask.sessions import SessionInterface

from app.db import get_session, request_viewer
from app.domain.roles import mask_caller, sees_personal_data
from app.incidents.facts import apply_viewer
from app.live import live_version
from app.services import sessions, tokens, users
from app.services.auth import AccountLocked, authenticate
from app.services.credential_cache import CredentialCache
from app.services.users import User
from app.web import policy
from app.web.policy import allowed
from app.web.problems import Problem

bp = Blueprint("auth", __name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGES = frozenset({"map.page", "dashboard.page"})  # a browser is redirected to the login page
CREDENTIAL_BLUEPRINTS = frozenset({"auth", "accounts"})  # where credentials end
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

    def hit(self, endpoint: str, client: str, per_minute: int, count: bool = True) -> int | None:
        """Count a request (unless ``count`` is false); return seconds to wait when over the limit, else None."""
        window = int(time.time() // 60)
        with self._lock:
            if len(self._hits) > 50_000:
                self._hits = defaultdict(int, {k: v for k, v in self._hits.items() if k[2] == window})
            key = (endpoint, client, window)
            if count:
                self._hits[key] += 1
            if self._hits[key] > per_minute or (not count and self._hits[key] >= per_minute):
                return 60 - int(time.time() % 60)
        return None


class NoClientSessions(SessionInterface):
    """``flask.session`` stays empty and is never written: sessions are server-side (see the module doc)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        return None


# -- the user of this request ----------------------------------------------------------------
def current_user() -> User | None:
    return g.get("user")


def current_session() -> sessions.Current | None:
    """The browser session of this request (None for token and anonymous requests)."""
    return g.get("browser_session")


def current_token() -> tokens.TokenUse | None:
    return g.get("token")


def actor() -> str:
    user = current_user()
    return user.username if user else (request.headers.get("X-Actor") or "anonymous")[:100]


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _timeouts() -> sessions.Timeouts:
    return current_app.extensions["peta112.session_timeouts"]


def _credentials() -> CredentialCache:
    return current_app.extensions["peta112.credentials"]


def _lookup_token(cache: CredentialCache, token: str, db: Callable[[], Any]) -> tokens.TokenUse | None:
    return cache.lookup("token", tokens.digest(token), lambda: tokens.lookup(db(), token))


def _lookup_session(cache: CredentialCache, key: str, sid: str, timeouts: sessions.Timeouts,
                    db: Callable[[], Any]) -> sessions.Current | None:
    if not sid or len(sid) > sessions.MAX_ID_LENGTH:
        return None
    return cache.lookup("session", sessions.id_hmac(key, sid), lambda: sessions.lookup(db(), key, sid, timeouts))


def _resolve_user() -> User | None:
    """The request's user; from the process's credential cache when it may answer (app/services/credential_cache.py)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        g.auth_method = "token"
        g.token = _lookup_token(_credentials(), header[7:].strip(), get_session)
        return g.token.user if g.token else None
    sid = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    if sid:
        g.auth_method = "session"
        g.browser_session = _lookup_session(_credentials(), _secret(), sid, _timeouts(), get_session)
        if g.browser_session is None:
            g.cookie_action = "clear"  # ended or expired: tell the browser to forget it
            return None
        return g.browser_session.user
    return None


def credential_check() -> Callable[[], bool]:
    """A check of this request's credential that can run after the request has returned.

    A long response (the live stream) is authorised once, when it opens; it asks this now
    and then so that logout, a disabled user, a new password or a revoked token end it too.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    sid = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
    key, timeouts = _secret(), _timeouts()

    cache = app.extensions["peta112.credentials"]

    def still_valid() -> bool:
        with app.app_context():
            opened: list[Any] = []

            def db() -> Any:
                opened.append(app.extensions["peta112.session_factory"]())
                return opened[0]

            try:
                if token is not None:
                    return _lookup_token(cache, token, db) is not None
                return bool(sid) and _lookup_session(cache, key, sid, timeouts, db) is not None
            finally:
                for s in opened:
                    s.close()

    return still_valid


def _check_request() -> Response | None:
    endpoint = request.endpoint
    limits: dict[str, int] = current_app.config["PETA112_RATE_LIMITS"]
    if endpoint in limits:
        wait = current_app.extensions["peta112.ratelimit"].hit(endpoint, request.remote_addr or "-", limits[endpoint])
        if wait is not None:
            raise Problem(429, "Too Many Requests", f"limit of {limits[endpoint]} per minute reached; "
                          f"retry in {wait} s", retry_after=wait)
    if endpoint is None or endpoint == "static":  # 404 / 405: let Flask answer; static files need no user
        return None
    user = _resolve_user()
    g.user = user
    # The lookup (a cache miss) ran as anonymous: tell the same transaction who reads from now on
    # (app/db: every transaction tells the database who reads, for row-level security; the setting
    # is transaction-local, and each statement reads it), instead of a commit and a second transaction.
    if "db_session" in g:
        session = g.db_session
        if session.in_transaction():
            apply_viewer(session, request_viewer())
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
        # As bytes: compare_digest refuses str with non-ASCII characters (a header may carry any Latin-1).
        if not sent or not secrets.compare_digest(sent.encode("utf-8", "replace"), g.browser_session.csrf.encode()):
            raise Problem(403, "Forbidden", "missing or wrong X-CSRF-Token header", field="X-CSRF-Token")
    if endpoint == "tiles.tile":
        _check_layer(user)
    return None


def _check_layer(user: User | None) -> None:
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
        resp.set_data(current_app.json.dumps(_mask(resp.get_json())))
    if request.method in UNSAFE and request.blueprint in CREDENTIAL_BLUEPRINTS:
        # Sign-out, a disabled user, a revoked token: this process forgets at once (the database's
        # notice reaches the other processes).
        _credentials().bump()
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    _set_cookie(resp)
    if resp.status_code == 429:
        body = resp.get_json(silent=True) or {}
        if "retry_after" in body:
            resp.headers["Retry-After"] = str(body["retry_after"])
    return resp


def _set_cookie(resp: Response) -> None:
    """Send a new session id after sign-in, or make the browser forget an ended one."""
    action = g.get("cookie_action")
    if action is None:
        return
    cfg = current_app.config
    attrs = {"path": "/", "httponly": True, "secure": cfg["SESSION_COOKIE_SECURE"],
             "samesite": cfg["SESSION_COOKIE_SAMESITE"]}
    if action == "clear":
        resp.delete_cookie(cfg["SESSION_COOKIE_NAME"], **attrs)
    else:
        resp.set_cookie(cfg["SESSION_COOKIE_NAME"], action, max_age=_timeouts().max_hours * 3600, **attrs)
    resp.headers["Cache-Control"] = "no-store"


def init_app(app: Flask, rate_limits: dict[str, int], settings: Any) -> None:
    app.config["PETA112_RATE_LIMITS"] = rate_limits
    # Set, not setdefault: Flask has already filled these keys, so setdefault never changed them.
    # Lax, not Strict: writes need the CSRF token anyway, and Strict would sign officials out when they
    # follow a link into /map from a chat message or the weekly report.
    app.config.update(SESSION_COOKIE_NAME="__Host-peta112" if settings.secure_cookies else "peta112_session",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.secure_cookies)
    app.session_interface = NoClientSessions()
    app.extensions["peta112.session_timeouts"] = sessions.Timeouts(settings.session_idle_minutes,
                                                                   settings.session_max_hours)
    app.extensions["peta112.login_failures_per_minute"] = settings.rate_limit_login
    app.extensions["peta112.ratelimit"] = RateLimiter()
    app.extensions["peta112.credentials"] = CredentialCache(lambda: live_version(app, "auth"))
    app.before_request(_check_request)
    app.after_request(_after)
    app.context_processor(lambda: {"csrf_token": g.browser_session.csrf if g.get("browser_session") else "",
                                   "user": current_user()})


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
    # Login CSRF: a form on another site must not sign this browser into the attacker's account.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Problem(403, "Forbidden", "signing in from another site is refused", field="Sec-Fetch-Site")
    form = request.form if request.form else request.get_json(silent=True)
    if not isinstance(form, dict):
        form = {}  # a JSON array or number: no username, no password
    wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
    db, ip = get_session(), request.remote_addr or "-"
    limiter: RateLimiter = current_app.extensions["peta112.ratelimit"]
    per_minute = current_app.extensions["peta112.login_failures_per_minute"]
    if per_minute and (wait := limiter.hit("login-failures", ip, per_minute, count=False)) is not None:
        raise Problem(429, "Too Many Requests", f"too many failed sign-ins from this address; retry in {wait} s",
                      retry_after=wait)
    try:
        user = authenticate(db, str(form.get("username", "")), str(form.get("password", "")), ip=ip)
    except AccountLocked as exc:
        if wants_json:
            raise Problem(429, "Too Many Requests", exc.detail, field="username", retry_after=exc.retry_after) from None
        return render_template("login.html", next=_safe_next(form.get("next")), error="locked",
                               wait_minutes=-(-exc.retry_after // 60)), 429
    if user is None:
        if per_minute:
            limiter.hit("login-failures", ip, per_minute)
        if wants_json:
            raise Problem(401, "Unauthorized", "wrong username or password", field="password")
        return render_template("login.html", next=_safe_next(form.get("next")), error="wrong"), 401
    # A fresh id at every sign-in; the id this browser had before (if any) is deleted, never adopted.
    sid = sessions.start(db, _secret(), user.id, _timeouts(), ip=ip, user_agent=request.user_agent.string,
                         replaces=request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]))
    db.commit()
    g.cookie_action = sid
    if wants_json:
        return jsonify({"user": user.to_dict(), "csrf_token": sessions.csrf_token(_secret(), sid)})
    return redirect(_safe_next(form.get("next")))


@bp.post("/logout")
def logout():
    """End this browser's session on the server: the cookie is worthless from now on, wherever it was copied."""
    current = current_session()
    if current is not None:
        db = get_session()
        sessions.end(db, current.session_id)
        users.record_event(db, "logout", actor=current.user.username, user_id=current.user.id,
                           username=current.user.username, ip=request.remote_addr)
        db.commit()
        g.cookie_action = "clear"
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify({"signed_out": True})
    return redirect("/login")


@bp.get("/api/v1/me")
def me():
    user = current_user()
    assert user is not None
    current = current_session()
    return jsonify({"user": user.to_dict(), "personal_data": sees_personal_data(user.role),
                    "csrf_token": current.csrf if current else None, "auth": g.get("auth_method"),
                    "actions": policy.actions(user.role),
                    "acts_for_agency": user.agency_code if user.role in policy.AGENCY_BOUND else None})
