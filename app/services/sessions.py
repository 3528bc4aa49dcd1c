"""Server-side browser sessions: the cookie carries a random id, the database decides if it is valid.

A signed cookie that holds the user id cannot be taken back: logout, a disabled
account or a new password would leave it working until it expires.  Here the
cookie is only a random 256-bit id; the ``sessions`` table keeps an HMAC of it
(keyed with the server's secret key, so neither a database dump nor a cookie
signed with any key yields a session), the user, and when it was created and
last used.  Deleting the row ends the session everywhere at once.

``last_seen_at`` is written at most once a minute: writing it on every request
would make every GET a write transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import users
from app.services.users import User

TOUCH_SECONDS = 60
MAX_ID_LENGTH = 100


@dataclass(frozen=True)
class Timeouts:
    idle_minutes: int
    max_hours: int


@dataclass(frozen=True)
class Current:
    """The user of a valid session, and the session's CSRF token."""

    user: User
    session_id: int
    csrf: str


def _mac(key: str, message: str) -> bytes:
    return hmac.new(key.encode(), message.encode("utf-8", "replace"), hashlib.sha256).digest()


def id_hmac(key: str, sid: str) -> str:
    return _mac(key, "session:" + sid).hex()


def csrf_token(key: str, sid: str) -> str:
    """Derived from the session id: it changes with every new session and needs no storage."""
    return base64.urlsafe_b64encode(_mac(key, "csrf:" + sid)).decode().rstrip("=")[:32]


def _valid(t: Timeouts) -> str:
    return (f"s.last_seen_at > now() - make_interval(mins => {int(t.idle_minutes)}) "
            f"AND s.created_at > now() - make_interval(hours => {int(t.max_hours)})")


def start(db: Session, key: str, user_id: int, timeouts: Timeouts, *, ip: str | None = None,
          user_agent: str | None = None, replaces: str | None = None) -> str:
    """Create a session for ``user_id`` and return its id (for the cookie); never reuse one the client sent.

    The session the browser had before signing in (``replaces``) is deleted, and
    so are all expired sessions (a few rows; sign-ins are rare next to requests).
    """
    if replaces:
        db.execute(text("DELETE FROM sessions WHERE id_hmac = :h"), {"h": id_hmac(key, replaces[:MAX_ID_LENGTH])})
    db.execute(text(f"DELETE FROM sessions s WHERE NOT ({_valid(timeouts)})"))
    sid = secrets.token_urlsafe(32)
    db.execute(text("INSERT INTO sessions (id_hmac, user_id, ip, user_agent) VALUES (:h, :u, :ip, :ua)"),
               {"h": id_hmac(key, sid), "u": user_id, "ip": ip, "ua": (user_agent or "")[:200] or None})
    return sid


def lookup(db: Session, key: str, sid: str, timeouts: Timeouts) -> Current | None:
    """The session's user if the session exists, has not timed out and its user is active; one indexed read."""
    if not sid or len(sid) > MAX_ID_LENGTH:
        return None
    row = db.execute(text(
        f"SELECT {users.COLUMNS}, s.id AS session_id, "
        f"       s.last_seen_at < now() - make_interval(secs => {TOUCH_SECONDS}) AS stale "
        f"FROM sessions s JOIN users u ON u.id = s.user_id "
        f"WHERE s.id_hmac = :h AND u.active AND {_valid(timeouts)}"), {"h": id_hmac(key, sid)}).one_or_none()
    if row is None:
        return None
    if row.stale:
        db.execute(text("UPDATE sessions SET last_seen_at = now() WHERE id = :i"), {"i": row.session_id})
        db.commit()
    return Current(users.from_row(row), row.session_id, csrf_token(key, sid))


def end(db: Session, session_id: int) -> None:
    """Delete one session (logout); the caller commits."""
    db.execute(text("DELETE FROM sessions WHERE id = :i"), {"i": session_id})


def end_all(db: Session, user_id: int) -> int:
    """Delete every session of a user (disabled, new password); the caller commits."""
    return db.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": user_id}).rowcount
