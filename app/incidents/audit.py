"""The read audit: who read callers' data in bulk, and what an official sees of it.

The single-incident view leaves a ``viewed`` event in that incident's trail; a list
or export returns many incidents at once, so it leaves one ``read_audit`` row per
request instead (who, role, which surface, the filter as given, how many incidents,
whether callers' name and phone were in it).  A city's data-protection officer asks
"who pulled phone numbers, how many, when": :func:`reads` answers per user.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.incidents.viewer import Viewer

PACKAGE, FILE = "app.incidents", "sql/audit.sql"


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def record_read(session: Session, viewer: Viewer, surface: str, filters: dict[str, Any], count: int) -> None:
    """Write (and commit) one audit row for a list or export that returned callers' data.

    Only readers who may see callers' data leave a row: what others get carries none
    (the database withholds it), so there is nothing personal to account for.
    """
    if not viewer.personal_data:
        return
    session.execute(_sql("record"), {
        "username": viewer.username, "role": viewer.role, "surface": surface,
        "filter": json.dumps(filters, default=str, sort_keys=True), "count": count, "personal_data": True})
    session.commit()


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def reads(session: Session, username: str | None = None, since: datetime | None = None,
          until: datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """The audit for a window (and optionally one user): a summary per user and the newest rows."""
    params = {"username": username, "since": since, "until": until}
    users = [{k: _iso(v) for k, v in r.items()} for r in session.execute(_sql("per_user"), params).mappings()]
    rows = [{k: _iso(v) for k, v in r.items()}
            for r in session.execute(_sql("rows"), {**params, "limit": limit}).mappings()]
    return {"user": username, "since": _iso(since), "until": _iso(until), "limit": limit,
            "users": users, "items": rows}
