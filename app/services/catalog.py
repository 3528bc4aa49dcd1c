"""Agencies (OPD) and incident categories with their routing rules, as plain dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def agencies(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT code, name, name_en, kind, phone, color, unit_types, retired_at FROM agencies ORDER BY code"))
    return [dict(r._mapping) for r in rows]


def categories(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text("""
        SELECT c.code, c.name_id, c.name_en, c.priority, c.target_response_s, c.is_emergency,
               c.response_plan, c.color, c.retired_at,
               COALESCE(json_agg(json_build_object('agency', a.agency_code, 'role', a.role,
                                                   'task_target_s', a.task_target_s)
                        ORDER BY a.role, a.agency_code)
                        FILTER (WHERE a.agency_code IS NOT NULL), '[]') AS agencies
        FROM incident_categories c
        LEFT JOIN category_agencies a ON a.category_code = c.code
        GROUP BY c.code ORDER BY c.priority, c.code"""))
    return [dict(r._mapping) for r in rows]


def category(session: Session, code: str) -> dict[str, Any] | None:
    for c in categories(session):
        if c["code"] == code:
            return c
    return None
