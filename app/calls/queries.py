"""Reading calls: the call list, one call, and the caller's history the console pops at ring time.

Every read goes through ``call_facts`` (and ``incident_facts`` for the caller's incidents)
with the reader's row-level security, so the number and the history exist only for the
people who talk to callers; for anyone else the history is empty, not hidden by this code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.calls import pranks
from app.db import sqlfiles
from app.incidents.queries import iso
from app.services.dispatch import PRANK_REPEAT_THRESHOLD
from app.services.errors import NotFound

PACKAGE, FILE = "app.calls", "sql/calls.sql"
HISTORY_LIMIT = 10
LOCATION_HOURS = 2  # an AML fix older than this says little about where the caller is now


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _raw(name: str) -> str:
    return sqlfiles.raw(PACKAGE, FILE, name)


def _row(r: Any) -> dict[str, Any]:
    return {k: iso(v) for k, v in dict(r).items()}


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    disposition: str | None = None
    operator: str | None = None
    phone: str | None = None
    state: str | None = None
    incident: int | None = None
    limit: int = 100
    offset: int = 0

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def as_json(self) -> dict[str, Any]:
        return {k: iso(v) for k, v in asdict(self).items() if v is not None}


def list_calls(session: Session, f: CallFilter) -> dict[str, Any]:
    where = _raw("list_where")
    base = _raw("call_columns")
    rows = session.execute(text(f"{base} {where} ORDER BY f.offered_at DESC, f.id DESC "
                                         "LIMIT :limit OFFSET :offset"), f.params()).mappings().all()
    total = session.execute(text(f"SELECT count(*) FROM call_facts f {where}"), f.params()).scalar_one()
    return {"items": [_row(r) for r in rows], "total": int(total), "limit": f.limit, "offset": f.offset}


def get_call(session: Session, call_id: int) -> dict[str, Any]:
    row = session.execute(text(_raw("call_columns") + " WHERE f.id = :id"), {"id": call_id}).mappings().first()
    if row is None:
        raise NotFound(f"no call {call_id}")
    call = _row(row)
    phone = row["caller_phone"]
    call["history"] = caller_history(session, phone, exclude=call_id) if phone else None
    call["location"] = latest_location(session, phone) if phone else None
    return call


def caller_history(session: Session, phone: str, exclude: int | None = None) -> dict[str, Any]:
    """What the desk should know before answering: earlier contacts, open incidents, pranks."""
    p = {"phone": phone, "exclude": exclude, "limit": HISTORY_LIMIT}
    counts = _row(session.execute(_sql("history_counts"), p).mappings().one())
    inc_counts = _row(session.execute(_sql("history_incident_counts"), p).mappings().one())
    incidents = [_row(r) for r in session.execute(_sql("history_incidents"), p).mappings()]
    prank_count = int(counts["prank_calls"]) + int(inc_counts["prank_incidents"])
    return {
        **counts, **inc_counts,
        "pranks": prank_count,
        "prank_suspect": prank_count >= PRANK_REPEAT_THRESHOLD,
        "recent_calls": [_row(r) for r in session.execute(_sql("history_calls"), p).mappings()],
        "open_incidents": [i for i in incidents if i["is_open"]],
        "recent_incidents": incidents,
        "blocklist": pranks.number_status(session, phone),
    }


def latest_location(session: Session, phone: str) -> dict[str, Any] | None:
    row = session.execute(_sql("latest_location"), {"phone": phone, "hours": LOCATION_HOURS}).mappings().first()
    return _row(row) if row else None
