"""Historic 112 calls from a CSV (``lat``/``lon`` columns) or a GeoJSON/any point file.

Required columns: ``category`` (a code in ``incident_categories``, e.g. kebakaran,
kecelakaan; ``category_code`` also accepted) and ``received_at`` (ISO 8601 or any
date-time pandas understands; a time without an offset is read in ``timezone``,
e.g. Asia/Makassar for WITA).  Optional: ``status`` (default ``closed``, ``prank``
for prank calls), ``priority`` (default: the category's), ``address``,
``caller_name``, ``caller_phone``, ``description``, ``source`` (default phone), the
lifecycle times ``verified_at`` ... ``cancelled_at``, and an external ``id``.  A row
without coordinates is imported without a location.

Every imported row gets ``idempotency_key = 'import:<hash>'`` (from the external
id, else from the row's content), so importing the same file twice adds nothing
the second time, and ``--replace`` can delete exactly the rows earlier imports
added (never calls taken live by the call center, nor rows with an audit trail).
Kelurahan and kecamatan are filled in from admin_areas by location.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import Connection, text

from app.incidents.lifecycle import INCIDENT_STATUSES
from geodata.bulk import copy_rows, ewkb
from geodata.importers.common import (
    ImportProblem,
    Progress,
    clean_str,
    no_progress,
    read_points_table,
    require_columns,
)

TIME_COLUMNS = ("verified_at", "dispatched_at", "en_route_at", "on_scene_at", "resolved_at",
                "closed_at", "cancelled_at")
TEXT_COLUMNS = ("address", "caller_name", "caller_phone", "description")
COLUMNS = ["category_code", "status", "priority", "source", "address", "caller_name", "caller_phone",
           "description", "is_prank", "idempotency_key", "received_at", *TIME_COLUMNS, "updated_at", "geom"]


def _timestamp(value: Any, tz: ZoneInfo, where: str, column: str) -> pd.Timestamp | None:
    s = clean_str(value)
    if s is None:
        return None
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError):
        raise ImportProblem(f"{where}: {column} {s!r} is not a date-time") from None
    if pd.isna(ts):
        return None
    return ts.tz_localize(tz) if ts.tzinfo is None else ts


def import_incidents(conn: Connection, path: str | Path, replace: bool = False, timezone: str = "UTC",
                     progress: Progress = no_progress) -> dict[str, int]:
    """Load historic incidents from ``path`` (caller's transaction)."""
    p = Path(path)
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportProblem(f"unknown time zone {timezone!r} (e.g. Asia/Jakarta, Asia/Makassar)") from None
    gdf = read_points_table(p, "incident", allow_missing_coords=True)
    if "category" not in gdf.columns and "category_code" in gdf.columns:
        gdf = gdf.rename(columns={"category_code": "category"})
    require_columns(p, list(gdf.columns), ("category", "received_at"))
    categories = {r[0]: r[1] for r in conn.execute(text("SELECT code, priority FROM incident_categories"))}

    rows: list[list[Any]] = []
    unknown: dict[str, int] = {}
    dup: Counter[str] = Counter()
    records = gdf.to_dict("records")
    for i, (rec, geom) in enumerate(progress(list(zip(records, gdf.geometry, strict=True)),
                                             len(records), "incidents"), start=1):
        where = f"{p}: row {i}"
        cat = (clean_str(rec["category"]) or "").lower()
        if cat not in categories:
            unknown.setdefault(cat or "(empty)", i)
            continue
        received = _timestamp(rec["received_at"], tz, where, "received_at")
        if received is None:
            raise ImportProblem(f"{where}: empty received_at")
        status = (clean_str(rec.get("status")) or ("prank" if cat == "prank" else "closed")).lower()
        if status not in INCIDENT_STATUSES:
            raise ImportProblem(f"{where}: unknown status {status!r} (known: {', '.join(INCIDENT_STATUSES)})")
        prio = clean_str(rec.get("priority"))
        try:
            priority = int(float(prio)) if prio else int(categories[cat])
        except ValueError:
            priority = -1
        if not 1 <= priority <= 5:
            raise ImportProblem(f"{where}: priority {prio!r} must be 1 to 5")
        times = [_timestamp(rec.get(c), tz, where, c) for c in TIME_COLUMNS]
        texts = [clean_str(rec.get(c)) for c in TEXT_COLUMNS]
        ext = clean_str(rec.get("id"))
        if ext:
            key = "import:" + hashlib.sha1(f"id:{ext}".encode()).hexdigest()
        else:
            basis = "|".join(str(v) for v in (cat, received.isoformat(), geom.wkt if geom is not None else "", *texts))
            dup[basis] += 1
            key = "import:" + hashlib.sha1(f"{basis}|{dup[basis]}".encode()).hexdigest()
        last = max([t for t in (received, *times) if t is not None])
        rows.append([cat, status, priority, clean_str(rec.get("source")) or "phone", *texts,
                     cat == "prank" or status == "prank", key, received.isoformat(),
                     *[t.isoformat() if t is not None else None for t in times], last.isoformat(),
                     ewkb(geom)])
    if unknown:
        listed = ", ".join(f"{c!r} (row {r})" for c, r in list(unknown.items())[:5])
        raise ImportProblem(f"{p}: unknown category code(s) {listed}; known: {', '.join(sorted(categories))}")

    deleted = 0
    if replace:
        deleted = conn.execute(text(
            "DELETE FROM incidents i WHERE idempotency_key LIKE 'import:%' AND NOT EXISTS "
            "(SELECT 1 FROM incident_events e WHERE e.incident_id = i.id)")).rowcount
    conn.execute(text("CREATE TEMP TABLE _imp_incidents (LIKE incidents INCLUDING DEFAULTS) ON COMMIT DROP"))
    copy_rows(conn, "_imp_incidents", COLUMNS, rows)
    cols = ", ".join(COLUMNS)
    ids = conn.execute(text(
        f"INSERT INTO incidents ({cols}) SELECT {cols} FROM _imp_incidents "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")).scalars().all()
    conn.execute(text("DROP TABLE _imp_incidents"))
    for level in ("kelurahan", "kecamatan"):
        conn.execute(text(
            f"UPDATE incidents i SET {level}_id = (SELECT a.id FROM admin_areas a WHERE a.level = :lvl "
            "AND ST_Covers(a.geom, i.geom) ORDER BY a.id LIMIT 1) "
            "WHERE i.id = ANY(:ids) AND i.geom IS NOT NULL"), {"lvl": level, "ids": list(ids)})
    located = int(conn.execute(text(
        "SELECT count(*) FROM incidents WHERE id = ANY(:ids) AND geom IS NOT NULL"), {"ids": list(ids)}).scalar())
    return {"incidents": len(ids), "skipped": len(rows) - len(ids), "without_location": len(ids) - located,
            "deleted": deleted}
