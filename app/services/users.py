"""Who a user is (as every request sees them) and the audit trail of their account.

Sessions, tokens, sign-in and account changes all read users the same way and
record what happened in ``account_events`` (append-only in the database), so an
auditor can answer "who signed in, who failed, who was locked or disabled, when".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    agency_code: str | None
    display_name: str | None = None
    is_demo: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "role": self.role, "agency": self.agency_code,
                "display_name": self.display_name, "demo": self.is_demo}


# The columns every query that yields a User selects (table alias ``u``).
COLUMNS = "u.id, u.username, u.role, u.agency_code, u.display_name, u.is_demo"


def from_row(row: Any) -> User:
    return User(row.id, row.username, row.role, row.agency_code, row.display_name, row.is_demo)


def get_user(session: Session, user_id: int) -> User | None:
    row = session.execute(text(f"SELECT {COLUMNS} FROM users u WHERE u.id = :i AND u.active"),
                          {"i": user_id}).one_or_none()
    return from_row(row) if row else None


def record_event(session: Session, kind: str, *, actor: str, user_id: int | None = None,
                 username: str | None = None, ip: str | None = None, **data: Any) -> None:
    """Append an account event (in the caller's transaction: it commits with the change it records)."""
    session.execute(text(
        "INSERT INTO account_events (kind, user_id, username, actor, ip, data) "
        "VALUES (:k, :uid, :u, :a, :ip, CAST(:d AS jsonb))"),
        {"k": kind, "uid": user_id, "u": username, "a": actor[:100], "ip": ip, "d": json.dumps(data, default=str)})
