"""Prank callers: the history of a number, a reviewed block-list, and when and where pranks come from.

Pranks are a named problem of Indonesian 112 centres: a few numbers call again and again
and hold a line someone may need.  peta112 warns the call-taker at ring time (the number's
history, app/calls/queries.py), lists the numbers with repeated pranks, and lets a
supervisor decide whether a number goes on the block-list **recommendation** handed to the
telephony operator.  peta112 never blocks a call to 112 by itself: a number's listing is a
reviewed, audited decision (``prank_reviews`` is append-only; every decision names who
made it, why, and the evidence at that moment), and what the PBX does with the list (a
warning message before the line connects, never silence) is the centre's policy.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.calls import numbers
from app.city.profile import city_zone
from app.db import sqlfiles
from app.services.dispatch import PRANK_REPEAT_THRESHOLD
from app.services.errors import InvalidInput

PACKAGE, FILE = "app.calls", "sql/pranks.sql"
DECISIONS = ("approved", "rejected", "lifted")
MIN_NOTE = 10  # a decision says why, in words


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _row(r: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}


def offenders(session: Session, now: datetime, days: int, min_pranks: int = PRANK_REPEAT_THRESHOLD,
              limit: int = 200) -> dict[str, Any]:
    """Numbers with at least ``min_pranks`` pranks in the last ``days`` days, and their review state."""
    rows = session.execute(_sql("offenders"), {"since": now - timedelta(days=days), "min_pranks": min_pranks,
                                               "limit": limit}).mappings()
    items = []
    for r in rows:
        item = _row(r)
        decision = item.pop("decision")
        review = {"decision": decision, "by": item.pop("decided_by"), "at": item.pop("decided_at"),
                  "note": item.pop("decision_note")} if decision else None
        item["review"] = review
        # The system recommends; only a supervisor's 'approved' puts a number on the list.
        item["recommended"] = item["pranks"] >= min_pranks and (review is None or review["decision"] == "lifted")
        item["blocklisted"] = review is not None and review["decision"] == "approved"
        items.append(item)
    return {"days": days, "min_pranks": min_pranks, "items": items}


def review(session: Session, body: dict[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    """A supervisor's decision on a number, with the evidence it was taken on (append-only)."""
    phone = numbers.normalise(body.get("caller_phone"), required=True)
    decision = body.get("decision")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", "decision")
    note = body.get("note")
    if not isinstance(note, str) or len(note.strip()) < MIN_NOTE or len(note) > 2000:
        raise InvalidInput(f"note must say why, in {MIN_NOTE} to 2000 characters", "note")
    current = session.execute(_sql("latest_review"), {"phone": phone}).mappings().first()
    if decision == "lifted" and (current is None or current["decision"] != "approved"):
        raise InvalidInput("only a number on the block-list can be lifted from it", "decision")
    found = offenders(session, now, 365, min_pranks=1, limit=10_000)["items"]
    evidence = next(({k: item[k] for k in ("prank_calls", "prank_incidents", "pranks", "first_prank_at",
                                            "last_prank_at")} for item in found if item["caller_phone"] == phone),
                    {"pranks": 0})
    if decision == "approved" and evidence["pranks"] < PRANK_REPEAT_THRESHOLD:
        raise InvalidInput(f"a number goes on the block-list after {PRANK_REPEAT_THRESHOLD} pranks in a year; "
                           f"this one has {evidence['pranks']}", "decision")
    row = session.execute(_sql("insert_review"), {"phone": phone, "decision": decision, "actor": actor,
                                                  "note": note.strip(), "evidence": json.dumps(evidence)})
    out = _row(row.mappings().one())
    session.commit()
    return out


def blocklist(session: Session) -> list[dict[str, Any]]:
    return [_row(r) for r in session.execute(_sql("blocklist")).mappings()]


def number_status(session: Session, phone: str) -> dict[str, Any] | None:
    r = session.execute(_sql("latest_review"), {"phone": phone}).mappings().first()
    return _row(r) if r else None


def rates(session: Session, since: datetime, until: datetime) -> dict[str, Any]:
    """Prank rate of calls by local hour and by kelurahan (where the call was placed: AML or its incident)."""
    tz = city_zone(session).key
    p = {"since": since, "until": until, "tz": tz}

    def rated(r: Any) -> dict[str, Any]:
        d = dict(r)
        d["rate"] = round(d["pranks"] / d["calls"], 4) if d["calls"] else None
        return d

    return {"window": {"since": since.isoformat(), "until": until.isoformat(), "time_zone": tz},
            "by_hour": [rated(r) for r in session.execute(_sql("rate_by_hour"), p).mappings()],
            "by_kelurahan": [rated(r) for r in session.execute(_sql("rate_by_kelurahan"), p).mappings()]}
