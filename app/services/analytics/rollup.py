"""The agency-performance rollup: the counted tasks, packed per (UTC day, agency) cell.

Why not sums: agency performance reports exact medians and p90s, and a percentile
cannot be added up from per-cell summaries.  What *can* be kept is the data the
percentiles need, already joined, filtered to counted calls and packed as fixed
64-bit records (``RECORD``), one cell per UTC day of the call and agency.  A server
process reads the cells once into memory and afterwards only the cells whose version
moved, so a ten-year query is numpy over arrays in memory instead of a join and eight
sorts of 1.5 million rows in PostgreSQL (the raw query stays, for readers who may not
see every incident and as the reference the tests compare against).

Exact, not approximately fresh: statement-level triggers log every change that can
alter a cell (a task's clocks or agency, an incident's day, category, kecamatan or
counted-ness, deletes, TRUNCATE) in ``task_cell_changes``; a reader builds the logged
cells of its window from the raw tables in its own request, so an answer always equals
the raw query.  :func:`refresh` folds the log into stored cells: the server does it every
``PETA112_ROLLUP_REFRESH_S`` seconds (app/live/asgi.py), ``peta112 analytics refresh``
on demand, and the demo loader after loading.

Cells are keyed by the UTC day, not the city's: the records carry the call's exact
time, so a window cut anywhere (the city's midnight included) is a mask, and a city
changing its time zone does not invalidate anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.incidents.facts import _run_script, render

PACKAGE, FILE = "app.services.analytics", "sql/rollup.sql"

RECORD = np.dtype([
    ("received_us", "<i8"),  # the call, microseconds since the epoch (exact window edges)
    ("ack", "<f8"), ("en_route", "<f8"), ("on_scene", "<f8"), ("resolve", "<f8"),  # seconds from forwarding
    ("arrival_received", "<f8"),  # on scene, seconds from the call
    ("category", "<i2"),  # task_cell_categories.id
    ("kecamatan", "<i4"),  # admin_areas.id, -1 none
    ("flags", "u1"),
])
REJECTED, OPEN, FIRST = 1, 2, 4  # FIRST: the incident's task with the lowest agency code (counts it once)
EMPTY = np.zeros(0, RECORD)
BATCH = 400  # cells per refresh transaction
ADVISORY_KEY = 112_0024  # one refresher at a time per database
# Logged cells a request builds itself; beyond this the rollup is not refreshed (a bulk load),
# and the raw query is faster.  The server's refresher keeps the log to a few cells.
MAX_BUILT_IN_REQUEST = 1000

Key = tuple[date, str]


@cache
def _sql(name: str) -> Any:
    return text(render(name, package=PACKAGE, file=FILE))


def install(conn: Connection) -> None:
    """Create the rollup tables and triggers (migration 0024); everything is logged to be built."""
    _run_script(conn, render("install", package=PACKAGE, file=FILE))


def uninstall(conn: Connection) -> None:
    _run_script(conn, render("uninstall", package=PACKAGE, file=FILE))


def pack(rows: Iterable[Any]) -> dict[Key, np.ndarray]:
    """The records of ``cell_rows`` per cell (rows arrive ordered by cell)."""
    rows = list(rows)
    if not rows:
        return {}
    out = np.zeros(len(rows), RECORD)
    cols = list(zip(*rows, strict=True))
    out["received_us"] = np.array(cols[2], dtype=np.int64)
    for name, i in (("ack", 3), ("en_route", 4), ("on_scene", 5), ("resolve", 6), ("arrival_received", 7)):
        out[name] = np.array(cols[i], dtype=np.float64)  # None -> NaN
    out["category"] = np.array([-1 if c is None else c for c in cols[8]], dtype=np.int16)
    out["kecamatan"] = np.array(cols[9], dtype=np.int32)
    out["flags"] = (np.array(cols[10], dtype=np.uint8) * REJECTED | np.array(cols[11], dtype=np.uint8) * OPEN
                    | np.array(cols[12], dtype=np.uint8) * FIRST)
    keys = list(zip(cols[0], cols[1], strict=True))
    cells: dict[Key, np.ndarray] = {}
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            cells[keys[start]] = out[start:i].copy()
            start = i
    return cells


def build(session: Session | Connection, keys: Iterable[Key]) -> dict[Key, np.ndarray]:
    """Cells from the raw tables (every given key is present, empty when it has no counted task)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    by_day: dict[date, list[str]] = {}
    for day, agency in keys:
        by_day.setdefault(day, []).append(agency)
    # Small per-cell probes: JIT compiling them (its cost threshold is met by row estimates the
    # planner cannot make for per-day ranges) took longer than running them.
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(_sql("cell_rows"),
                           {"days": list(by_day), "agencies": [",".join(a) for a in by_day.values()]})
    cells = pack(rows)
    return {k: cells.get(k, EMPTY) for k in keys}


def refresh(engine: Engine, limit: int | None = None, lock_timeout_ms: int = 0) -> int:
    """Fold the change log into stored cells, ``BATCH`` cells per transaction; returns cells rebuilt.

    ``engine`` connects as the tables' owner.  Returns at once when another refresher holds
    the database's rollup lock (it is doing the same work).  ``lock_timeout_ms``: give up
    (an error) rather than wait longer for a row a writer holds; the server's refresher
    uses it so that it never sits in a writer's way, and tries again next round.
    """
    done = 0
    while limit is None or done < limit:
        with engine.begin() as conn:
            if lock_timeout_ms:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
            if not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({ADVISORY_KEY})").scalar_one():
                return done
            keys = {(r[0], r[1]) for r in conn.execute(_sql("take_dirty"), {"batch": BATCH})}
            if not keys:
                return done
            version = conn.execute(_sql("bump_version")).scalar_one()
            conn.execute(_sql("store_cell"), [
                {"day": key[0], "agency": key[1], "version": version, "tasks": len(cell), "data": cell.tobytes()}
                for key, cell in build(conn, keys).items()])
            done += len(keys)
    return done


def rebuild(engine: Engine) -> int:
    """Log every cell as changed and refresh them all (after a restore, or to check the triggers)."""
    with engine.begin() as conn:
        conn.execute(_sql("mark_all"))
    return refresh(engine)


def pending(target: Session | Connection) -> int:
    return target.execute(_sql("pending")).scalar_one()


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """Records of several cells as one array (a byte join: np.concatenate of structured arrays
    re-checks their fields once per array, 10 microseconds each, a tenth of a second per 10,000 cells)."""
    if not parts:
        return EMPTY
    return parts[0] if len(parts) == 1 else np.frombuffer(b"".join(parts), RECORD)


@dataclass(frozen=True)
class _Agency:
    """One agency's stored cells, end to end in day order: a window is a slice, not a copy."""

    days: np.ndarray  # day ordinals, ascending, one per cell
    starts: np.ndarray  # where each cell's records start in ``records`` (and the end)
    records: np.ndarray

    @classmethod
    def of(cls, cells: list[tuple[date, np.ndarray]]) -> _Agency:
        cells = sorted(cells, key=lambda c: c[0])
        days = np.array([d.toordinal() for d, _ in cells], np.int64)
        starts = np.concatenate([[0], np.cumsum([len(c) for _, c in cells], dtype=np.int64)])
        return cls(days, starts, _joined([c for _, c in cells]))

    def between(self, first: date, last: date, without: set[int]) -> np.ndarray:
        """The records of cells ``first``..``last``, leaving out the days in ``without``."""
        i0 = int(np.searchsorted(self.days, first.toordinal(), "left"))
        i1 = int(np.searchsorted(self.days, last.toordinal(), "right"))
        if not without:
            return self.records[self.starts[i0]:self.starts[i1]]
        parts, run = [], i0
        for i in range(i0, i1):
            if int(self.days[i]) in without:
                parts.append(self.records[self.starts[run]:self.starts[i]])
                run = i + 1
        parts.append(self.records[self.starts[run]:self.starts[i1]])
        return _joined([p for p in parts if len(p)])


@dataclass(frozen=True)
class _Stored:
    """What this process holds of one database's rollup; replaced, never mutated, so a reader
    keeps a consistent one while another request updates it."""

    epoch: str
    version: int
    cells: dict[str, dict[date, np.ndarray]]  # agency -> day -> records
    agencies: dict[str, _Agency]


_STORED: dict[str, _Stored] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Snapshot:
    """The cells a query reads: stored ones, with the logged (changed) ones built fresh."""

    stored: _Stored
    fresh: dict[Key, np.ndarray]
    categories: dict[int, str]

    def records(self, first: date, last: date) -> dict[str, np.ndarray]:
        """Per agency, every record of the cells from ``first`` to ``last`` (UTC days)."""
        fresh: dict[str, dict[int, np.ndarray]] = {}
        for (day, agency), cell in self.fresh.items():
            if first <= day <= last:
                fresh.setdefault(agency, {})[day.toordinal()] = cell
        out = {}
        for agency in set(self.stored.agencies) | set(fresh):
            mine = fresh.get(agency, {})
            kept = self.stored.agencies[agency].between(first, last, set(mine)) if agency in self.stored.agencies \
                else EMPTY
            x = _joined([p for p in (kept, *mine.values()) if len(p)])
            if len(x):
                out[agency] = x
        return out


def _update(stored: _Stored, epoch: str, version: int, changed: Iterable[tuple[date, str, bytes]]) -> _Stored:
    cells = dict(stored.cells)
    touched = set()
    for day, agency, data in changed:
        mine = cells[agency] = dict(cells.get(agency, {})) if agency not in touched else cells[agency]
        touched.add(agency)
        if data:
            mine[day] = np.frombuffer(data, RECORD)
        else:
            mine.pop(day, None)
    agencies = dict(stored.agencies)
    for agency in touched:
        agencies[agency] = _Agency.of(list(cells[agency].items()))
    return _Stored(epoch, version, cells, agencies)


def utc_days(since: datetime, until: datetime) -> tuple[date, date]:
    """The UTC days a half-open window touches."""
    first = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    return first, last


def snapshot(session: Session, since: datetime, until: datetime) -> Snapshot | None:
    """The rollup as of now for the window, or None when this reader must use the raw tables."""
    state = session.execute(_sql("state")).mappings().one_or_none()
    if state is None or not state["reads_all"]:
        return None
    where = session.get_bind().engine.url.render_as_string(hide_password=True)
    with _LOCK:
        stored = _STORED.get(where)
        if stored is None or stored.epoch != state["epoch"] or stored.version > state["version"]:
            stored = _Stored(state["epoch"], -1, {}, {})  # new, truncated, or a refresh rolled back
        if state["version"] > stored.version:
            rows = session.execute(_sql("cells_since"), {"version": stored.version})
            stored = _update(stored, state["epoch"], state["version"], ((r[0], r[1], r[3]) for r in rows))
            _STORED[where] = stored
    first, last = utc_days(since, until)
    changed = [(r[0], r[1]) for r in session.execute(_sql("dirty_between"), {"first": first, "last": last})]
    if len(changed) > MAX_BUILT_IN_REQUEST:
        return None  # not refreshed yet (a bulk load): the raw query is the faster way to the same answer
    categories = {i: c for i, c in session.execute(_sql("categories"))}
    return Snapshot(stored, build(session, changed), categories)


def forget() -> None:
    """Drop every process cache (tests)."""
    with _LOCK:
        _STORED.clear()

