"""What the database holds and which versions run it: for /healthz and `peta112 db status`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.models import COUNTED_TABLES


def versions(conn: Connection) -> dict[str, str | None]:
    row = conn.execute(text("SELECT current_setting('server_version') AS server")).one()
    out: dict[str, str | None] = {"postgresql": row.server, "postgis": None, "pgrouting": None}
    exts = dict(conn.execute(text("SELECT extname, extversion FROM pg_extension")).all())
    if "postgis" in exts:
        out["postgis"] = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    if "pgrouting" in exts:
        out["pgrouting"] = conn.execute(text("SELECT pgr_version()")).scalar_one()
    out["pg_trgm"] = exts.get("pg_trgm")
    return out


def row_counts(conn: Connection) -> dict[str, int | None]:
    """Exact counts for small tables, the planner's estimate for big ones (cheap on 1M rows)."""
    present = set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    counts: dict[str, int | None] = {}
    for table in COUNTED_TABLES:
        if table not in present:
            counts[table] = None
            continue
        estimate = conn.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        ).scalar_one()
        if estimate is not None and estimate > 200_000:
            counts[table] = int(estimate)
        else:
            counts[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    return counts


def database_status(conn: Connection) -> dict[str, Any]:
    try:
        info: dict[str, Any] = {"reachable": True, **versions(conn)}
        info["revision"] = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar_one_or_none() if _has_table(conn, "alembic_version") else None
        info["counts"] = row_counts(conn)
        return info
    except SQLAlchemyError as exc:
        return {"reachable": False, "error": str(exc.orig if hasattr(exc, "orig") else exc)[:300]}


def _has_table(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": name}).scalar_one()
