"""Write a ``DemoCity`` into the database: COPY only, all in the caller's transaction.

The caller owns the transaction (``engine.begin()`` in the CLI, a rolled-back
one in tests), so a failure half-way leaves the database exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from geopandas.array import GeometryDtype
from sqlalchemy import Connection, text

from geodata.bulk import copy_rows, ewkb, reset_sequences
from geodata.demo.city import DemoCity

# Child tables last in TRUNCATE order does not matter (CASCADE), but COPY order follows the foreign keys.
DEMO_TABLES = ("admin_areas", "road_nodes", "road_edges", "places", "stations", "incidents", "units",
               "incident_tasks", "assignments", "incident_events", "calls")
SERIAL_TABLES = ("admin_areas", "places", "stations", "units", "incidents", "incident_tasks", "assignments",
                 "incident_events", "calls")
LOCK_KEY = 112_112  # advisory lock: two `peta112 demo` runs never interleave


class DemoLoadError(RuntimeError):
    """The database is not in a state the demo can be loaded into (explained in one line)."""


def tables_with_rows(conn: Connection) -> list[str]:
    """Demo tables that are not empty (cheap: one EXISTS per table)."""
    return [t for t in DEMO_TABLES
            if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{t}")')).scalar_one()]


def _check_schema(conn: Connection, city: DemoCity) -> None:
    if conn.execute(text("SELECT to_regclass('incident_events') IS NULL")).scalar_one():
        raise DemoLoadError("the database has no peta112 schema; run: peta112 db migrate")
    cats = set(conn.execute(text("SELECT code FROM incident_categories")).scalars())
    agencies = set(conn.execute(text("SELECT code FROM agencies")).scalars())
    miss_c = set(city.incidents["category_code"]) - cats
    miss_a = (set(city.stations["agency_code"]) | set(city.incident_tasks["agency_code"])) - agencies
    if miss_c or miss_a:
        raise DemoLoadError(f"the database lacks seeded categories {sorted(miss_c)} / agencies {sorted(miss_a)}; "
                            "run: peta112 db migrate")


def _column(col: pd.Series) -> list:
    """One column as COPY-ready Python values: EWKB hex, ISO timestamps, JSON text, None for null."""
    if isinstance(col.dtype, GeometryDtype):
        return list(ewkb(col.to_numpy()))
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        naive = col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ms]")
        out = np.datetime_as_string(naive, unit="ms", timezone="UTC").astype(object)
        out[col.isna().to_numpy()] = None
        return out.tolist()
    values = col.to_numpy(dtype=object, na_value=None)
    if len(values) and isinstance(next((v for v in values if v is not None), None), dict):
        values = np.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
                          dtype=object)
    return values.tolist()


def _copy(conn: Connection, table: str, df: pd.DataFrame) -> int:
    frame = df.rename_geometry("geom") if hasattr(df, "rename_geometry") and df.geometry.name != "geom" else df
    cols = list(frame.columns)
    data = [_column(frame[c]) for c in cols]
    return copy_rows(conn, table, cols, zip(*data, strict=True))


def load(conn: Connection, city: DemoCity, replace: bool = False,
         progress: Callable[[str], None] | None = None, analyze: bool = True) -> dict[str, int]:
    """COPY every table of ``city``; refuse a non-empty database unless ``replace``.

    ``replace`` empties the demo tables with TRUNCATE ... CASCADE (the audit
    trail refuses row DELETE by design).  Agencies and categories are kept.
    ``analyze`` refreshes planner statistics (pgRouting queries need them);
    tests that roll back skip it, since ANALYZE's row estimates survive a rollback.
    Returns the number of rows loaded per table.
    """
    say = progress or (lambda _msg: None)
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    _check_schema(conn, city)
    if replace:
        conn.execute(text(f"TRUNCATE {', '.join(DEMO_TABLES)} RESTART IDENTITY CASCADE"))
    else:
        busy = tables_with_rows(conn)
        if busy:
            raise DemoLoadError(f"the database already holds data ({', '.join(busy)}); "
                                "use --replace to overwrite it")
    counts: dict[str, int] = {}
    for table, df in city.frames().items():
        counts[table] = _copy(conn, table, df)
        say(f"loaded {table}: {counts[table]} rows")
    reset_sequences(conn, *SERIAL_TABLES)
    if analyze:
        for table in DEMO_TABLES:
            conn.execute(text(f'ANALYZE "{table}"'))
    return counts
