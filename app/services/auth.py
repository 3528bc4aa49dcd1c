"""Users, passwords and API tokens, as plain services for the CLI and the web layer.

Tokens are random, shown once and stored only as SHA-256 (a stolen database
does not yield usable tokens); passwords use werkzeug's salted scrypt hashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.roles import ROLES
from app.services.errors import Conflict, InvalidInput, NotFound

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,64}$")
TOKEN_PREFIX = "p112_"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    agency_code: str | None
    display_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "role": self.role, "agency": self.agency_code,
                "display_name": self.display_name}


USER_COLUMNS = "u.id, u.username, u.role, u.agency_code, u.display_name"


def _user(row: Any) -> User:
    return User(row.id, row.username, row.role, row.agency_code, row.display_name)


def add_user(session: Session, username: str, role: str, password: str, agency: str | None = None,
             display_name: str | None = None) -> User:
    if not USERNAME_RE.match(username or ""):
        raise InvalidInput("username must be 2-64 characters of a-z, 0-9, _ . -", "username")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
    if role == "agency" and not agency:
        raise InvalidInput("an agency user needs --agency (e.g. DAMKAR)", "agency")
    if role == "bpbd":
        agency = agency or "BPBD"
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters", "password")
    if agency and session.execute(text("SELECT 1 FROM agencies WHERE code = :c"), {"c": agency}).first() is None:
        raise InvalidInput(f"unknown agency {agency!r}", "agency")
    try:
        row = session.execute(text(
            "INSERT INTO users (username, role, agency_code, display_name, password_hash) "
            "VALUES (:u, :r, :a, :d, :h) RETURNING id, username, role, agency_code, display_name"),
            {"u": username, "r": role, "a": agency, "d": display_name,
             "h": generate_password_hash(password)}).one()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"user {username!r} already exists", "username") from None
    session.commit()
    return _user(row)


def authenticate(session: Session, username: str, password: str) -> User | None:
    row = session.execute(text(
        f"SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = :u AND u.active"),
        {"u": (username or "").strip().lower()}).one_or_none()
    if row is None or not check_password_hash(row.password_hash, password or ""):
        return None
    session.execute(text("UPDATE users SET last_login_at = now() WHERE id = :i"), {"i": row.id})
    session.commit()
    return _user(row)


def get_user(session: Session, user_id: int) -> User | None:
    row = session.execute(text(f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = :i AND u.active"),
                          {"i": user_id}).one_or_none()
    return _user(row) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, name: str = "api", days: int | None = 365) -> tuple[str, dict]:
    """Return (token, info); the token itself is never stored and cannot be shown again."""
    user = session.execute(text("SELECT id FROM users WHERE username = :u AND active"),
                           {"u": username}).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no active user {username!r}", "username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now().astimezone() + timedelta(days=days) if days else None
    row = session.execute(text(
        "INSERT INTO api_tokens (user_id, name, token_sha256, prefix, expires_at) "
        "VALUES (:u, :n, :h, :p, :e) RETURNING id, created_at, expires_at"),
        {"u": user, "n": name, "h": _digest(token), "p": token[:12], "e": expires}).one()
    session.commit()
    return token, {"id": row.id, "name": name, "prefix": token[:12], "expires_at": row.expires_at}


def user_for_token(session: Session, token: str) -> User | None:
    """The token's user, with one indexed read; ``last_used_at`` is written at most every 5 minutes.

    Writing it on every request would make each API call a write transaction
    (a WAL flush per GET), which cost ~2 ms per request in the benchmarks.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.execute(text(
        f"SELECT {USER_COLUMNS}, t.id AS token_id, "
        f"       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '5 minutes') AS stale "
        f"FROM api_tokens t JOIN users u ON u.id = t.user_id "
        f"WHERE t.token_sha256 = :h AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) "
        f"AND u.active"), {"h": _digest(token)}).one_or_none()
    if row is None:
        return None
    if row.stale:
        session.execute(text("UPDATE api_tokens SET last_used_at = now() WHERE id = :i"), {"i": row.token_id})
        session.commit()
    return _user(row)


def revoke_token(session: Session, prefix: str) -> int:
    n = session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE prefix = :p AND revoked_at IS NULL"),
                        {"p": prefix}).rowcount
    session.commit()
    return n


def generate_password() -> str:
    return secrets.token_urlsafe(12)
