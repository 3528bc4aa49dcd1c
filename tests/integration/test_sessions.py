"""Server-side sessions: forged, copied, expired and signed-out cookies get nobody in.

Time is moved by rewriting the session's timestamps in the database (a test's
requests share one transaction, so ``now()`` stands still); nothing sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import text

from app import create_app
from app.secret_key import SecretKeyError
from tests import users

COOKIE = "peta112_session"
IN_EAST = {"category": "banjir", "lat": -6.978, "lon": 110.431}


@pytest.fixture()
def city(tiny_city):
    return tiny_city


def sign_in(client, username: str = "t_dispatcher"):
    res = client.post("/login", json={"username": username, "password": users.password(username)})
    assert res.status_code == 200, res.get_json()
    return res


def sid_of(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def with_cookie(app, sid: str):
    """A second browser holding a copy of the cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, sid)
    return other


def sessions_of(conn, username: str) -> int:
    return conn.execute(text("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                             "WHERE u.username = :u"), {"u": username}).scalar_one()


def test_cookie_is_httponly_samesite_lax_and_holds_only_a_random_id(anon, db_conn):
    res = sign_in(anon)
    header = res.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header and "Max-Age=43200" in header  # 12 h, one shift
    sid = sid_of(anon)
    assert len(sid) >= 43 and "." not in sid  # 256 random bits, not a signed payload
    stored = db_conn.execute(text("SELECT id_hmac FROM sessions")).scalars().all()
    assert sid not in stored and all(len(h) == 64 for h in stored)  # only an HMAC of the id is kept
    assert res.headers["Cache-Control"] == "no-store"


def test_secure_cookie_behind_https(make_app):
    c = make_app(secure_cookies=True).test_client()
    header = sign_in(c).headers["Set-Cookie"]
    assert header.startswith("__Host-peta112=") and "; Secure" in header and "SameSite=Lax" in header


def test_secure_cookies_follow_the_base_url():
    from app.config import from_env

    assert from_env({"PETA112_BASE_URL": "https://peta112.semarangkota.go.id"}).secure_cookies
    assert from_env({"PETA112_SECURE_COOKIES": "1"}).secure_cookies
    assert not from_env({"PETA112_BASE_URL": "http://127.0.0.1:5000"}).secure_cookies


@pytest.mark.parametrize("key", ["dev-only-change-me", "the-real-key"])
def test_a_cookie_signed_with_any_key_is_refused(app, anon, city, key):
    """The old attack: sign {"user_id": <admin>} with Flask's serializer. Even the server's own key gets nowhere."""
    admin_id = city.execute(text("SELECT id FROM users WHERE username = 't_admin'")).scalar_one()
    app.secret_key = app.config["SECRET_KEY"] if key == "the-real-key" else key
    forged = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"user_id": admin_id, "csrf": "x"})
    for name in (COOKIE, "session"):
        anon.set_cookie(name, forged)
    assert anon.get("/api/v1/me").status_code == 401
    res = anon.post("/api/v1/incidents", json=IN_EAST, headers={"X-CSRF-Token": "x"})
    assert res.status_code == 401
    assert city.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0


def test_unknown_session_id_is_refused_and_forgotten(anon, city):
    anon.set_cookie(COOKIE, "x" * 43)
    res = anon.get("/api/v1/me")
    assert res.status_code == 401
    assert f"{COOKIE}=;" in res.headers["Set-Cookie"]  # the browser is told to drop it
    assert anon.get("/map").status_code == 302


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app, anon, city):
    csrf = sign_in(anon).get_json()["csrf_token"]
    sid = sid_of(anon)
    copy = with_cookie(app, sid)  # e.g. stolen from the browser before logout
    assert copy.get("/api/v1/me").status_code == 200
    res = anon.post("/logout", json={}, headers={"X-CSRF-Token": csrf})
    assert res.status_code == 200 and res.get_json() == {"signed_out": True}
    assert f"{COOKIE}=;" in res.headers["Set-Cookie"]
    assert copy.get("/api/v1/me").status_code == 401  # read
    write = copy.post("/api/v1/incidents", json=IN_EAST, headers={"X-CSRF-Token": csrf})
    assert write.status_code == 401  # write
    assert sessions_of(city, "t_dispatcher") == 0
    kinds = city.execute(text("SELECT kind FROM account_events WHERE username = 't_dispatcher' ORDER BY id"))
    assert kinds.scalars().all() == ["login_ok", "logout"]


def test_session_id_is_new_at_every_sign_in(app, anon, city):
    anon.set_cookie(COOKIE, "chosen-by-an-attacker-" + "a" * 30)  # session fixation attempt
    sign_in(anon, "t_operator")
    first = sid_of(anon)
    assert first != "chosen-by-an-attacker-" + "a" * 30
    sign_in(anon, "t_dispatcher")  # another user at the same desk
    second = sid_of(anon)
    assert second != first
    assert with_cookie(app, first).get("/api/v1/me").status_code == 401  # the pre-login id is gone
    assert anon.get("/api/v1/me").get_json()["user"]["username"] == "t_dispatcher"
    assert sessions_of(city, "t_operator") == 0 and sessions_of(city, "t_dispatcher") == 1


def test_odd_csrf_headers_and_cookies_are_4xx_not_500(anon, city):
    sign_in(anon)
    res = anon.post("/api/v1/incidents", json=IN_EAST, headers={"X-CSRF-Token": "\u00e9t\u00e9"})
    assert res.status_code in (403, 422) and res.get_json()["field"] == "X-CSRF-Token", res.get_json()
    anon.set_cookie(COOKIE, "caf\u00e9-" + "x" * 40)
    assert anon.get("/api/v1/me").status_code == 401


def test_csrf_token_belongs_to_its_session(app, anon, city):
    csrf_a = sign_in(anon).get_json()["csrf_token"]
    other = app.test_client()
    csrf_b = sign_in(other).get_json()["csrf_token"]
    assert csrf_a != csrf_b
    assert other.post("/api/v1/incidents", json=IN_EAST, headers={"X-CSRF-Token": csrf_a}).status_code == 403
    assert other.post("/api/v1/incidents", json=IN_EAST, headers={"X-CSRF-Token": csrf_b}).status_code == 201
    assert anon.get("/api/v1/me").get_json()["csrf_token"] == csrf_a  # the browser JS reads it here


@pytest.mark.parametrize("column,age,valid", [
    ("last_seen_at", "29 minutes", True),
    ("last_seen_at", "31 minutes", False),  # idle
    ("created_at", "11 hours 59 minutes", True),
    ("created_at", "12 hours 1 minute", False),  # absolute
])
def test_idle_and_absolute_timeouts(anon, city, column, age, valid):
    sign_in(anon)
    city.execute(text(f"UPDATE sessions SET {column} = now() - CAST(:a AS interval)"), {"a": age})
    assert anon.get("/api/v1/me").status_code == (200 if valid else 401)


def test_timeouts_are_configurable(make_app, db_conn):
    c = make_app(session_idle_minutes=5, session_max_hours=1).test_client()
    sign_in(c)
    db_conn.execute(text("UPDATE sessions SET last_seen_at = now() - interval '4 minutes'"))
    assert c.get("/api/v1/me").status_code == 200
    db_conn.execute(text("UPDATE sessions SET last_seen_at = now() - interval '6 minutes'"))
    assert c.get("/api/v1/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(anon, city):
    sign_in(anon)
    city.execute(text("UPDATE sessions SET last_seen_at = now() - interval '30 seconds'"))
    anon.get("/api/v1/me")
    assert city.execute(text("SELECT now() - last_seen_at FROM sessions")).scalar_one().total_seconds() == 30
    city.execute(text("UPDATE sessions SET last_seen_at = now() - interval '2 minutes'"))
    anon.get("/api/v1/me")
    assert city.execute(text("SELECT now() - last_seen_at FROM sessions")).scalar_one().total_seconds() == 0


def test_rotating_the_secret_key_ends_sessions_but_not_tokens(make_app):
    app_a = make_app(secret_key="abcdefghijklmnopqrstuvwxyz-0123456789")
    app_b = make_app(secret_key="ZYXWVUTSRQPONMLKJIHGFEDCBA-9876543210")
    c = app_a.test_client()
    sign_in(c)
    sid = sid_of(c)
    assert with_cookie(app_a, sid).get("/api/v1/me").status_code == 200
    assert with_cookie(app_b, sid).get("/api/v1/me").status_code == 401
    assert app_b.test_client().get("/api/v1/me", headers=users.auth("dispatcher")).status_code == 200


def test_signing_in_from_another_site_is_refused(anon, city):
    """Login CSRF: a form on evil.example posting to /login must not sign the browser into its account."""
    res = anon.post("/login", data={"username": "t_dispatcher", "password": users.password("t_dispatcher")},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert res.status_code == 403 and res.get_json()["field"] == "Sec-Fetch-Site"
    assert "Set-Cookie" not in res.headers
    ok = anon.post("/login", data={"username": "t_dispatcher", "password": users.password("t_dispatcher")},
                   headers={"Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 302


def test_a_published_or_weak_secret_key_is_refused(settings):
    for key in ("dev-only-change-me", "short-key", "a" * 64):
        with pytest.raises(SecretKeyError, match="PETA112_SECRET_KEY"):
            create_app(settings.with_overrides(secret_key=key))


def test_serve_refuses_the_old_default_key_in_one_line(tmp_path):
    env = {**os.environ, "PETA112_SECRET_KEY": "dev-only-change-me", "PETA112_VAR_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "app.cli_main", "serve", "--workers", "0"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: PETA112_SECRET_KEY is a published default")
    assert not (tmp_path / "pgdata").exists()  # refused before anything started
