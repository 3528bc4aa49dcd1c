"""Managing accounts: create, list, change password, disable, enable, change role.

Shared by ``peta112 user ...`` and the admin API.  A new password or a disabled
account ends every session and revokes every API token of that user in the
same transaction: whoever had them (a stolen laptop, a former employee's phone)
is out at once, not when their cookie or token expires.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.roles import ROLES
from app.services import auth, passwords, sessions, tokens, users
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.users import User

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,64}$")


def _check_role(db: Session, role: str, agency: str | None) -> str | None:
    """Validate a role and its agency; return the agency to store."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
    if role == "agency" and not agency:
        raise InvalidInput("an agency user needs an agency (e.g. DAMKAR)", "agency")
    if role == "bpbd":
        agency = agency or "BPBD"
    if agency:
        row = db.execute(text("SELECT retired_at FROM agencies WHERE code = :c"), {"c": agency}).first()
        if row is None:
            raise InvalidInput(f"unknown agency {agency!r}", "agency")
        if row.retired_at is not None:  # the city's catalog dropped it: no new accounts for it
            raise InvalidInput(f"agency {agency!r} is retired in the city's catalog", "agency")
    return agency


def add_user(db: Session, username: str, role: str, password: str, agency: str | None = None,
             display_name: str | None = None, *, demo: bool = False, actor: str = "cli") -> User:
    """Create a user; ``demo`` accounts (known passwords, flagged everywhere) skip the password policy."""
    if not USERNAME_RE.match(username or ""):
        raise InvalidInput("username must be 2-64 characters of a-z, 0-9, _ . -", "username")
    agency = _check_role(db, role, agency)
    if not demo:
        passwords.check_policy(password, username)
    try:
        row = db.execute(text(
            f"INSERT INTO users AS u (username, role, agency_code, display_name, password_hash, is_demo, "
            f"                        password_changed_at) "
            f"VALUES (:u, :r, :a, :d, :h, :demo, now()) RETURNING {users.COLUMNS}"),
            {"u": username, "r": role, "a": agency, "d": display_name, "demo": demo,
             "h": passwords.hash_password(password)}).one()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"user {username!r} already exists", "username") from None
    users.record_event(db, "created", actor=actor, user_id=row.id, username=username, role=role, demo=demo)
    db.commit()
    return users.from_row(row)


def _user_id(db: Session, username: str) -> int:
    uid = db.execute(text("SELECT id FROM users WHERE username = :u"),
                     {"u": (username or "").strip().lower()}).scalar_one_or_none()
    if uid is None:
        raise NotFound(f"no user {username!r}", "username")
    return uid


def _end_everything(db: Session, user_id: int) -> dict[str, int]:
    return {"sessions_ended": sessions.end_all(db, user_id), "tokens_revoked": tokens.revoke_all(db, user_id)}


def _keep_an_admin(db: Session, user_id: int, field: str) -> None:
    """Refuse to disable or demote the last active admin: nobody could manage accounts over the API then."""
    row = db.execute(text(
        "SELECT u.role, (SELECT count(*) FROM users o WHERE o.role = 'admin' AND o.active AND o.id <> u.id) AS others "
        "FROM users u WHERE u.id = :i"), {"i": user_id}).one()
    if row.role == "admin" and row.others == 0:
        raise Conflict("this is the last active admin; enable another admin first", field)


def set_password(db: Session, username: str, password: str, *, actor: str = "cli") -> dict[str, int]:
    """Give a user a new password (policy checked); end all their sessions and tokens."""
    uid = _user_id(db, username)
    passwords.check_policy(password, username)
    db.execute(text("UPDATE users SET password_hash = :h, password_changed_at = now(), failed_logins = 0, "
                    "locked_until = NULL WHERE id = :i"), {"h": passwords.hash_password(password), "i": uid})
    ended = _end_everything(db, uid)
    users.record_event(db, "password_changed", actor=actor, user_id=uid, username=username, **ended)
    db.commit()
    return ended


def change_own_password(db: Session, user: User, old: str, new: str, *, ip: str | None = None) -> dict[str, int]:
    """A user changes their own password: the old one is checked (and counts towards the lockout)."""
    if auth.authenticate(db, user.username, old, ip=ip) is None:
        raise InvalidInput("the current password is wrong", "old_password")
    if new == old:
        raise InvalidInput("the new password must differ from the current one", "new_password")
    try:
        passwords.check_policy(new, user.username)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, "new_password") from None
    return set_password(db, user.username, new, actor=user.username)


def set_active(db: Session, username: str, active: bool, *, actor: str = "cli") -> dict[str, int]:
    """Disable (ending every session and token) or enable (clearing a lockout) an account."""
    uid = _user_id(db, username)
    if not active:
        _keep_an_admin(db, uid, "active")
        db.execute(text("UPDATE users SET active = false WHERE id = :i"), {"i": uid})
        ended = _end_everything(db, uid)
        users.record_event(db, "disabled", actor=actor, user_id=uid, username=username, **ended)
    else:
        db.execute(text("UPDATE users SET active = true, failed_logins = 0, locked_until = NULL WHERE id = :i"),
                   {"i": uid})
        ended = {}
        users.record_event(db, "enabled", actor=actor, user_id=uid, username=username)
    db.commit()
    return ended


def set_role(db: Session, username: str, role: str, agency: str | None = None, *, actor: str = "cli") -> None:
    uid = _user_id(db, username)
    agency = _check_role(db, role, agency)
    if role != "admin":
        _keep_an_admin(db, uid, "role")
    db.execute(text("UPDATE users SET role = :r, agency_code = :a WHERE id = :i"), {"r": role, "a": agency, "i": uid})
    users.record_event(db, "role_changed", actor=actor, user_id=uid, username=username, role=role, agency=agency)
    db.commit()


def get(db: Session, username: str) -> dict[str, Any]:
    rows = list_users(db, username)
    if not rows:
        raise NotFound(f"no user {username!r}", "username")
    return rows[0]


def list_users(db: Session, username: str | None = None) -> list[dict[str, Any]]:
    """Every account (or one), with its state; never the hash."""
    rows = db.execute(text(
        "SELECT u.id, u.username, u.role, u.agency_code AS agency, u.display_name, u.active, u.is_demo AS demo, "
        "       u.created_at, u.last_login_at, u.password_changed_at, u.failed_logins, "
        "       CASE WHEN u.locked_until > now() THEN u.locked_until END AS locked_until "
        "FROM users u WHERE CAST(:u AS text) IS NULL OR u.username = :u ORDER BY u.username"),
        {"u": username}).mappings().all()
    return [dict(r) for r in rows]
