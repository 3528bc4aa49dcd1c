"""Bulk loading through PostgreSQL COPY, shared by the demo generator and the importers.

Row-by-row INSERT of 100k road edges or a million incidents takes minutes;
COPY takes seconds.  Geometries travel as hex EWKB, which COPY's text format
accepts for geometry columns directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from sqlalchemy import Connection


def ewkb(geom: Any, srid: int = 4326) -> str | None:
    """Hex EWKB of a shapely geometry (None stays None, i.e. NULL)."""
    if geom is None:
        return None
    return shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` into ``table``; runs inside the caller's transaction."""
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    n = 0
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def reset_sequences(conn: Connection, *tables: str) -> None:
    """After COPY with explicit ids, move each serial sequence past the largest id."""
    from sqlalchemy import text

    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)"
        ))
