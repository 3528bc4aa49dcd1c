"""API tokens for devices and other city systems (``Authorization: Bearer p112_...``).

Tokens are random, shown once and stored only as SHA-256 (a stolen database
does not yield usable tokens; unlike sessions they do not depend on the secret
key, so rotating it leaves devices working).  A token made with a token records
its parent: it cannot outlive it (its expiry is capped at the parent's) and is
revoked with it, in the same transaction, so the lookup stays one indexed read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import users
from app.services.errors import NotFound
from app.services.users import User

PREFIX = "p112_"
SHOWN_PREFIX = 12  # characters of a token kept (and listed) to recognise it


@dataclass(frozen=True)
class TokenUse:
    """The user a request's token acts as, and the token itself (to bound tokens it creates)."""

    user: User
    token_id: int
    expires_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Session, username: str, name: str = "api", days: int | None = 365,
           parent: TokenUse | None = None, actor: str | None = None) -> tuple[str, dict[str, Any]]:
    """Return (token, info); the token itself is never stored and cannot be shown again.

    With ``parent`` (the token of the request that asks), the new token expires
    no later than the parent and is revoked with it.
    """
    user_id = db.execute(text("SELECT id FROM users WHERE username = :u AND active"),
                         {"u": username}).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"no active user {username!r}", "username")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now().astimezone() + timedelta(days=days) if days else None
    if parent is not None and parent.expires_at is not None:
        expires = min(expires, parent.expires_at) if expires else parent.expires_at
    row = db.execute(text(
        "INSERT INTO api_tokens (user_id, name, token_sha256, prefix, expires_at, parent_id) "
        "VALUES (:u, :n, :h, :p, :e, :parent) RETURNING id, created_at, expires_at"),
        {"u": user_id, "n": name, "h": digest(token), "p": token[:SHOWN_PREFIX], "e": expires,
         "parent": parent.token_id if parent else None}).one()
    users.record_event(db, "token_created", actor=actor or username, user_id=user_id, username=username,
                       token_id=row.id, name=name, parent_id=parent.token_id if parent else None)
    db.commit()
    return token, {"id": row.id, "name": name, "prefix": token[:SHOWN_PREFIX], "expires_at": row.expires_at,
                   "parent_id": parent.token_id if parent else None}


def lookup(db: Session, token: str) -> TokenUse | None:
    """The token's user, with one indexed read; ``last_used_at`` is written at most every 5 minutes.

    Writing it on every request would make each API call a write transaction
    (a WAL flush per GET), which cost ~2 ms per request in the benchmarks.
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.execute(text(
        f"SELECT {users.COLUMNS}, t.id AS token_id, t.expires_at, "
        f"       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '5 minutes') AS stale "
        f"FROM api_tokens t JOIN users u ON u.id = t.user_id "
        f"WHERE t.token_sha256 = :h AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) "
        f"AND u.active"), {"h": digest(token)}).one_or_none()
    if row is None:
        return None
    if row.stale:
        db.execute(text("UPDATE api_tokens SET last_used_at = now() WHERE id = :i"), {"i": row.token_id})
        db.commit()
    return TokenUse(users.from_row(row), row.token_id, row.expires_at)


def _revoke_with_children(db: Session, where: str, params: dict[str, Any]) -> list[Any]:
    """Revoke the tokens matching ``where`` (on alias ``t``) and every token descending from them."""
    return db.execute(text(f"""
        WITH RECURSIVE tree AS (
            SELECT t.id FROM api_tokens t WHERE {where}
            UNION
            SELECT c.id FROM api_tokens c JOIN tree ON c.parent_id = tree.id
        )
        UPDATE api_tokens a SET revoked_at = now() FROM tree
        WHERE a.id = tree.id AND a.revoked_at IS NULL
        RETURNING a.id, a.user_id"""), params).all()


def revoke(db: Session, id_or_prefix: str | int, *, owner_id: int | None = None, actor: str = "cli") -> int:
    """Revoke a token by id or by its shown prefix, with its children; return how many were revoked.

    ``owner_id`` restricts it to that user's tokens (a user revoking their own).
    """
    key = str(id_or_prefix)
    where = "t.id = :id" if key.isdigit() else "t.prefix = :p"
    if owner_id is not None:
        where += " AND t.user_id = :owner"
    params = {"id": int(key) if key.isdigit() and len(key) < 10 else -1, "p": key, "owner": owner_id}
    rows = _revoke_with_children(db, where, params)
    for r in rows:
        users.record_event(db, "token_revoked", actor=actor, user_id=r.user_id, token_id=r.id)
    db.commit()
    return len(rows)


def revoke_all(db: Session, user_id: int) -> int:
    """Revoke every token of a user (and their children); the caller commits."""
    return len(_revoke_with_children(db, "t.user_id = :u", {"u": user_id}))


def list_tokens(db: Session, user_id: int | None = None) -> list[dict[str, Any]]:
    """Tokens (never their secret), newest first; only ``user_id``'s when given."""
    rows = db.execute(text(
        "SELECT t.id, t.name, t.prefix, u.username, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "
        "       t.parent_id, (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())) AS active "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE CAST(:u AS integer) IS NULL OR t.user_id = :u ORDER BY t.id DESC"), {"u": user_id}).mappings().all()
    return [dict(r) for r in rows]
