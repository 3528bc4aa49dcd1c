"""Signing in with a password: lockout with back-off, equal time for unknown users, re-hashing.

Guessing is slowed per account (after 5 failures the account is locked for 1,
2, 4, 8, then 15 minutes per further failure), with the state in the users
table so every gunicorn worker agrees.  The per-address limit lives in the web
layer and counts failures only, so one person's typos or an attacker behind a
call centre's NAT do not lock out everybody else there.  An unknown or disabled
username is checked against a dummy hash, so it takes as long as a known one
and usernames cannot be told apart by timing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import passwords, users
from app.services.errors import ServiceError
from app.services.users import User

LOCK_AFTER = 5
LOCK_MAX_MINUTES = 15


class AccountLocked(ServiceError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins for this account; retry in {retry_after} s", "username")
        self.retry_after = retry_after


def authenticate(db: Session, username: str, password: str, *, ip: str | None = None) -> User | None:
    """The user if the password is right; None if not; :class:`AccountLocked` while the account is locked."""
    name = (username or "").strip().lower()[:100]
    if not passwords.encodable(name):
        name = ""  # cannot be a username; checked like an unknown one
    password = (password or "")[: passwords.MAX_LENGTH * 4]
    row = db.execute(text(
        f"SELECT {users.COLUMNS}, u.password_hash, u.active, "
        f"       ceil(extract(epoch FROM u.locked_until - now()))::int AS wait "
        f"FROM users u WHERE u.username = :u"), {"u": name}).one_or_none()
    if row is None or not row.active or (row.wait or 0) > 0:
        passwords.verify(passwords.dummy_hash(), password)  # same work as a real check
        if row is not None and row.active:
            users.record_event(db, "login_refused_locked", actor=name, user_id=row.id, username=name, ip=ip)
            db.commit()
            raise AccountLocked(row.wait)
        users.record_event(db, "login_failed", actor="anonymous", user_id=row.id if row else None,
                           username=name if row else None, ip=ip,
                           reason="disabled" if row is not None else "unknown user")
        db.commit()
        return None
    if not passwords.verify(row.password_hash, password):
        _count_failure(db, row.id, name, ip)
        return None
    if passwords.needs_rehash(row.password_hash):
        db.execute(text("UPDATE users SET password_hash = :h WHERE id = :i"),
                   {"h": passwords.hash_password(password), "i": row.id})
    db.execute(text("UPDATE users SET last_login_at = now(), failed_logins = 0, locked_until = NULL WHERE id = :i"),
               {"i": row.id})
    users.record_event(db, "login_ok", actor=name, user_id=row.id, username=name, ip=ip)
    db.commit()
    return users.from_row(row)


def _count_failure(db: Session, user_id: int, username: str, ip: str | None) -> None:
    """One more failure, decided in one UPDATE so that concurrent attempts on several workers all count."""
    res = db.execute(text(
        "UPDATE users SET failed_logins = failed_logins + 1, "
        "  locked_until = CASE WHEN failed_logins + 1 >= :after "
        "    THEN now() + make_interval(mins => least(power(2, failed_logins + 1 - :after)::int, :cap)) "
        "    ELSE locked_until END "
        "WHERE id = :i RETURNING failed_logins, locked_until"),
        {"i": user_id, "after": LOCK_AFTER, "cap": LOCK_MAX_MINUTES}).one()
    users.record_event(db, "login_failed", actor="anonymous", user_id=user_id, username=username, ip=ip,
                       failures=res.failed_logins)
    if res.failed_logins >= LOCK_AFTER:
        users.record_event(db, "locked", actor="system", user_id=user_id, username=username, ip=ip,
                           until=res.locked_until, failures=res.failed_logins)
    db.commit()
