"""Test accounts: one user per role, each with a fixed API token and password.

Hashing a password costs ~20 ms (argon2id), so the hashes are computed once per process.
"""

from __future__ import annotations

import functools
import hashlib

from sqlalchemy import Connection, text

from app.services.passwords import hash_password

# username: (role, agency)
USERS = {
    "t_operator": ("call_taker", None),
    "t_dispatcher": ("dispatcher", None),
    "t_damkar": ("agency", "DAMKAR"),
    "t_dinkes": ("agency", "DINKES"),
    "t_polri": ("agency", "POLRI"),
    "t_bpbd": ("bpbd", "BPBD"),
    "t_official": ("official", None),
    "t_admin": ("admin", None),
}
BY_ROLE = {"call_taker": "t_operator", "dispatcher": "t_dispatcher", "agency": "t_damkar", "bpbd": "t_bpbd",
           "official": "t_official", "admin": "t_admin"}


def token(username: str) -> str:
    return f"p112_test_{username}"


def password(username: str) -> str:
    return f"{username}-password"


def auth(role_or_user: str) -> dict[str, str]:
    """Headers authenticating as a role (or a username)."""
    username = BY_ROLE.get(role_or_user, role_or_user)
    return {"Authorization": f"Bearer {token(username)}"}


@functools.cache
def _hash(username: str) -> str:
    return hash_password(password(username))


def seed(conn: Connection) -> None:
    """Create the test users and tokens, or restore them (active, unlocked, unrevoked) after a test changed them."""
    for username, (role, agency) in USERS.items():
        uid = conn.execute(text(
            "INSERT INTO users (username, role, agency_code, password_hash) VALUES (:u, :r, :a, :h) "
            "ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, agency_code = EXCLUDED.agency_code, "
            "password_hash = EXCLUDED.password_hash, active = true, failed_logins = 0, locked_until = NULL "
            "RETURNING id"),
            {"u": username, "r": role, "a": agency, "h": _hash(username)}).scalar_one()
        conn.execute(text(
            "INSERT INTO api_tokens (user_id, name, token_sha256, prefix) VALUES (:u, 'test', :h, :p) "
            "ON CONFLICT (token_sha256) DO UPDATE SET revoked_at = NULL, expires_at = NULL"),
            {"u": uid, "h": hashlib.sha256(token(username).encode()).hexdigest(), "p": token(username)[:12]})


def signed_in(client, role: str = "admin"):
    """Make a Flask test client send the role's API token with every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = auth(role)["Authorization"]
    return client


def browser_login(page, base_url: str, role: str = "dispatcher") -> None:
    """Sign a Playwright page in through the real login form."""
    username = BY_ROLE.get(role, role)
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password(username))
    page.click("button[type=submit]")
    page.wait_for_url("**/map**", wait_until="commit")
    page.wait_for_selector("body.ready", timeout=30_000)  # let the map finish loading before moving on


def wait_js(page, expression: str, arg=None, timeout: float = 20.0) -> None:  # noqa: ANN001
    """Poll a JS expression (or ``arg => ...`` function) until truthy.

    Playwright's ``wait_for_function`` evaluates its predicate with ``eval``, which the
    page's Content-Security-Policy (no 'unsafe-eval') rightly refuses; ``page.evaluate``
    runs over the DevTools protocol and is not subject to the page's CSP.
    """
    import time

    deadline = time.monotonic() + timeout
    while not (page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)
