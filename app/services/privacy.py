"""Retention of callers' personal data: names and phone numbers are kept only as long as needed.

Incidents themselves stay (analytics need years of history); after the retention
period the caller's name and phone are erased and the erasure is audited.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import sqlfiles

PURGE_SQL = text("""
WITH purged AS (
    UPDATE incidents SET caller_name = NULL, caller_phone = NULL, updated_at = now()
    WHERE received_at < now() - make_interval(days => :days)
      AND (caller_name IS NOT NULL OR caller_phone IS NOT NULL)
    RETURNING id),
-- Further callers merged into an incident (incident_reports) are kept no longer than the first one.
reports AS (
    UPDATE incident_reports SET caller_name = NULL, caller_phone = NULL
    WHERE received_at < now() - make_interval(days => :days)
      AND (caller_name IS NOT NULL OR caller_phone IS NOT NULL)
    RETURNING incident_id),
audit AS (
    INSERT INTO incident_events (incident_id, actor, kind, data)
    SELECT id, :actor, 'personal_data_purged', jsonb_build_object('retention_days', CAST(:days AS int))
    FROM (SELECT id FROM purged UNION SELECT incident_id FROM reports) touched RETURNING 1)
SELECT count(*) FROM audit
""")


def purge_personal_data(session: Session, days: int, actor: str = "retention") -> int:
    """Erase caller name and phone of incidents (and merged reports) older than ``days``; return how many
    incidents.

    The call centre's records of callers go with them in the same transaction: numbers of
    calls and conversations, chat names, message texts and handset locations
    (app/calls/sql/retention.sql); the contacts themselves stay, for the load figures.
    """
    if days < 1:
        raise ValueError("retention must be at least one day")
    n = session.execute(PURGE_SQL, {"days": days, "actor": actor}).scalar_one()
    for name in ("calls", "locations", "conversations", "messages"):
        session.execute(sqlfiles.statement("app.calls", "sql/retention.sql", name), {"days": days})
    session.commit()
    return int(n)
