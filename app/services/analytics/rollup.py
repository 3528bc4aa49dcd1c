"""The analytics rollup: rows packed as fixed records in cells of (kind, UTC day, part).

Two kinds: ``tasks`` (part: the agency; the counted tasks agency performance measures)
and ``incidents`` (one part per day; every call, with its counted and prank-call flags,
for trends and the dashboard's figures).

Why records and not sums: agency performance reports exact medians and p90s, and a
percentile cannot be added up from per-cell summaries.  What *can* be kept is the data
the statistics need, already joined, filtered and packed as fixed records
(``TASK`` / ``INCIDENT``).  A server process reads the cells once into memory and
afterwards only the cells whose version moved, so a ten-year query is numpy over arrays
in memory instead of joins and sorts of millions of rows in PostgreSQL (the raw queries
stay, for readers who may not see every incident and as the reference the tests
compare against).

Exact, not approximately fresh: statement-level triggers log every change that can
alter a cell (a task's clocks, agency or existence; a call's day, category, kecamatan,
counted-ness or prank flag; deletes; TRUNCATE) in ``rollup_changes``; a reader builds
the logged cells of its window from the raw tables in its own request, so an answer
always equals the raw query.  :func:`refresh` folds the log into stored cells: the
server does it every ``PETA112_ROLLUP_REFRESH_S`` seconds
(app/services/analytics/refresher.py), ``peta112 analytics refresh`` on demand, and the
demo loader after loading.

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
from sqlalchemy import URL, Connection, Engine, make_url, text
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.incidents.facts import render

PACKAGE, FILE = "app.services.analytics", "sql/rollup.sql"

TASK = np.dtype([
    ("received_us", "<i8"),  # the call, microseconds since the epoch (exact window edges)
    ("ack", "<f8"), ("en_route", "<f8"), ("on_scene", "<f8"), ("resolve", "<f8"),  # seconds from forwarding
    ("arrival_received", "<f8"),  # on scene, seconds from the call
    ("category", "<i2"),  # rollup_categories.id
    ("kecamatan", "<i4"),  # admin_areas.id, -1 none
    ("flags", "u1"),
])
REJECTED, OPEN, FIRST = 1, 2, 4  # FIRST: the incident's task with the lowest agency code (counts it once)
INCIDENT = np.dtype([("received_us", "<i8"), ("category", "<i2"), ("kecamatan", "<i4"), ("flags", "u1")])
COUNTED, PRANK_CALL = 1, 2
KINDS = {"tasks": (TASK, "task_rows"), "incidents": (INCIDENT, "incident_rows")}
BATCH = 400  # cells per refresh transaction
ADVISORY_KEY = 112_0024  # one refresher at a time per database
# Logged cells a request builds itself; beyond this the rollup is not refreshed (a bulk load),
# and the raw query is faster.  The server's refresher keeps the log to a few cells.
MAX_BUILT_IN_REQUEST = 1000

Key = tuple[date, str]  # (UTC day, part)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    """Exact microseconds since the epoch (no float on the way), as ``received_us`` holds them."""
    return (at - EPOCH) // timedelta(microseconds=1)


@cache
def _sql(name: str) -> Any:
    return text(render(name, package=PACKAGE, file=FILE))


def install(conn: Connection) -> None:
    """Create (or replace) the rollup's tables, functions and triggers: migration 0024, and any
    later migration that changes them calls it again."""
    sqlfiles.script(conn, render("install", package=PACKAGE, file=FILE))


def log_all(conn: Connection) -> None:
    """Log every cell of the existing calls and tasks as changed, for the next refresh to build."""
    conn.execute(_sql("mark_all"))


def uninstall(conn: Connection) -> None:
    sqlfiles.script(conn, render("uninstall", package=PACKAGE, file=FILE))


def pack(rows: Iterable[Any], dtype: np.dtype) -> dict[Key, np.ndarray]:
    """Records per cell from rows of (day, part, *fields in ``dtype`` order), ordered by cell."""
    rows = list(rows)
    if not rows:
        return {}
    out = np.zeros(len(rows), dtype)
    cols = list(zip(*rows, strict=True))
    for i, name in enumerate(dtype.names, start=2):
        if name == "category":  # a code missing from rollup_categories cannot happen (trigger); -1 if it did
            out[name] = np.array([-1 if c is None else c for c in cols[i]], dtype=dtype[name])
        else:
            out[name] = np.array(cols[i], dtype=dtype[name])  # None -> NaN for the intervals
    keys = list(zip(cols[0], cols[1], strict=True))
    cells: dict[Key, np.ndarray] = {}
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            cells[keys[start]] = out[start:i].copy()
            start = i
    return cells


def build(session: Session | Connection, kind: str, keys: Iterable[Key]) -> dict[Key, np.ndarray]:
    """Cells of ``kind`` from the raw tables (every given key is present, empty when it has no row)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    dtype, statement = KINDS[kind]
    by_day: dict[date, list[str]] = {}
    for day, part in keys:
        by_day.setdefault(day, []).append(part)
    # Small per-day probes: JIT compiling them (its cost threshold is met by row estimates the
    # planner cannot make for per-day ranges) took longer than running them.
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(_sql(statement), {"days": list(by_day), "parts": [",".join(p) for p in by_day.values()]})
    cells = pack(rows, dtype)
    empty = np.zeros(0, dtype)
    return {k: cells.get(k, empty) for k in keys}


def refresh(engine: Engine, lock_timeout_ms: int = 0) -> int:
    """Fold the change log into stored cells, ``BATCH`` cells per transaction; returns cells rebuilt.

    ``engine`` connects as the tables' owner.  Returns at once when another refresher holds
    the database's rollup lock (it is doing the same work).  ``lock_timeout_ms``: give up
    (an error) rather than wait longer for a row a writer holds; the server's refresher
    uses it so that it never sits in a writer's way, and tries again next round.
    """
    done = 0
    with engine.begin() as conn:
        # The log's size swings from nothing to a bulk load's worth; without fresh statistics the
        # planner takes it for one row and joins the batch to it row by row (0.7 s a batch).
        if conn.execute(_sql("log_is_long")).scalar_one():
            conn.exec_driver_sql("ANALYZE rollup_changes")
    while True:
        with engine.begin() as conn:
            if lock_timeout_ms:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
            if not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({ADVISORY_KEY})").scalar_one():
                return done
            taken = {(r[0], r[1], r[2]) for r in conn.execute(_sql("take_changes"), {"batch": BATCH})}
            if not taken:
                return done
            version = conn.execute(_sql("bump_version")).scalar_one()
            for kind in KINDS:
                keys = [(day, part) for k, day, part in taken if k == kind]
                if keys:
                    conn.execute(_sql("store_cell"), [
                        {"kind": kind, "day": key[0], "part": key[1], "version": version, "records": len(cell),
                         "data": cell.tobytes()}
                        for key, cell in build(conn, kind, keys).items()])
            done += len(taken)


def rebuild(engine: Engine) -> int:
    """Log every cell as changed and refresh them all (after a restore, or to check the triggers)."""
    with engine.begin() as conn:
        log_all(conn)
    return refresh(engine)


def pending(target: Session | Connection) -> int:
    return target.execute(_sql("pending")).scalar_one()


def _joined(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    """Records of several cells as one array (a byte join: np.concatenate of structured arrays
    re-checks their fields once per array, 10 microseconds each, a tenth of a second per 10,000 cells)."""
    if not parts:
        return np.zeros(0, dtype)
    return parts[0] if len(parts) == 1 else np.frombuffer(b"".join(parts), dtype)


@dataclass(frozen=True)
class _Part:
    """One part's stored cells (an agency's, or all calls'), end to end in day order: a window is
    a slice, not a copy."""

    days: np.ndarray  # day ordinals, ascending, one per cell
    starts: np.ndarray  # where each cell's records start in ``records`` (and the end)
    records: np.ndarray

    @classmethod
    def of(cls, cells: dict[date, np.ndarray], dtype: np.dtype) -> _Part:
        ordered = sorted(cells.items())
        days = np.array([d.toordinal() for d, _ in ordered], np.int64)
        starts = np.concatenate([[0], np.cumsum([len(c) for _, c in ordered], dtype=np.int64)])
        return cls(days, starts, _joined([c for _, c in ordered], dtype))

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
        return _joined([p for p in parts if len(p)], self.records.dtype)


@dataclass(frozen=True)
class _Stored:
    """What this process holds of one kind of one database's rollup; replaced, never mutated, so
    a reader keeps a consistent one while another request updates it."""

    epoch: str
    version: int
    cells: dict[str, dict[date, np.ndarray]]  # part -> day -> records
    parts: dict[str, _Part]

    def updated(self, epoch: str, version: int, changed: Iterable[tuple[date, str, bytes]],
                dtype: np.dtype) -> _Stored:
        cells = dict(self.cells)
        touched: set[str] = set()
        for day, part, data in changed:
            if part not in touched:
                cells[part] = dict(cells.get(part, {}))
                touched.add(part)
            if data:
                cells[part][day] = np.frombuffer(data, dtype)
            else:
                cells[part].pop(day, None)
        parts = dict(self.parts)
        for part in touched:
            parts[part] = _Part.of(cells[part], dtype)
        return _Stored(epoch, version, cells, parts)


_STORED: dict[tuple[str, str], _Stored] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Snapshot:
    """The cells a query reads: stored ones, with the logged (changed) ones built fresh."""

    kind: str
    stored: _Stored
    fresh: dict[Key, np.ndarray]
    categories: dict[int, str]

    def records(self, first: date, last: date) -> dict[str, np.ndarray]:
        """Per part, every record of the cells from ``first`` to ``last`` (UTC days)."""
        dtype = KINDS[self.kind][0]
        fresh: dict[str, dict[int, np.ndarray]] = {}
        for (day, part), cell in self.fresh.items():
            if first <= day <= last:
                fresh.setdefault(part, {})[day.toordinal()] = cell
        out = {}
        for part in set(self.stored.parts) | set(fresh):
            mine = fresh.get(part, {})
            stored = self.stored.parts.get(part)
            kept = stored.between(first, last, set(mine)) if stored is not None else np.zeros(0, dtype)
            x = _joined([p for p in (kept, *mine.values()) if len(p)], dtype)
            if len(x):
                out[part] = x
        return out


    def category_ids(self, codes: Iterable[str]) -> np.ndarray:
        """The records' ids of these category codes."""
        wanted = set(codes)
        return np.array([i for i, c in self.categories.items() if c in wanted], np.int16)

    def in_window(self, since: datetime, until: datetime, categories: list[str] | None = None,
                  kecamatan_ids: Iterable[int] | None = None) -> dict[str, np.ndarray]:
        """Per part, the records of calls received in [since, until), in these categories and kecamatan
        (None: all); a part with none is left out.  Whole cells are views, not copies."""
        lo, hi = micros(since), micros(until)
        cats = None if categories is None else self.category_ids(categories)
        kecs = None if kecamatan_ids is None else np.array(list(kecamatan_ids), np.int32)
        out = {}
        for part, x in self.records(*utc_days(since, until)).items():
            keep = (x["received_us"] >= lo) & (x["received_us"] < hi)
            if cats is not None:
                keep &= np.isin(x["category"], cats)
            if kecs is not None:
                keep &= np.isin(x["kecamatan"], kecs)
            if not keep.all():
                x = x[keep]
            if len(x):
                out[part] = x
        return out


def utc_days(since: datetime, until: datetime) -> tuple[date, date]:
    """The UTC days a half-open window touches."""
    first = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    return first, last


def _where(url: URL, kind: str) -> tuple[str, str]:
    """The process cache's key: the database (its URL without the password) and the kind."""
    return url.render_as_string(hide_password=True), kind


def _stored(session: Session, kind: str) -> _Stored | None:
    """This process's cells of ``kind``, brought up to the database's version; None: not for this reader."""
    state = session.execute(_sql("state")).mappings().one_or_none()
    if state is None or not state["reads_all"]:
        return None
    where = _where(session.get_bind().engine.url, kind)
    with _LOCK:
        stored = _STORED.get(where)
        if stored is None or stored.epoch != state["epoch"] or stored.version > state["version"]:
            stored = _Stored(state["epoch"], -1, {}, {})  # new, truncated, or a refresh rolled back
        if state["version"] > stored.version:
            rows = session.execute(_sql("cells_since"), {"kind": kind, "version": stored.version})
            stored = stored.updated(state["epoch"], state["version"], rows, KINDS[kind][0])
            _STORED[where] = stored
    return stored


def preload(engine: Engine) -> None:
    """Bring this process's cells up to date now, so that no request pays for it (the server's
    refresher calls it after each round: a process's first read of a million calls' cells is ~1 s)."""
    with Session(engine) as session:
        for kind in KINDS:
            _stored(session, kind)


def snapshot(session: Session, kind: str, since: datetime, until: datetime) -> Snapshot | None:
    """The rollup of ``kind`` as of now for the window, or None when this reader must use the raw tables."""
    stored = _stored(session, kind)
    if stored is None:
        return None
    first, last = utc_days(since, until)
    changed = [(r[0], r[1]) for r in session.execute(_sql("changed_between"),
                                                     {"kind": kind, "first": first, "last": last})]
    if len(changed) > MAX_BUILT_IN_REQUEST:
        return None  # not refreshed yet (a bulk load): the raw query is the faster way to the same answer
    categories = {i: c for i, c in session.execute(_sql("categories"))}
    return Snapshot(kind, stored, build(session, kind, changed), categories)


def held_version(url: str, kind: str) -> int | None:
    """The rollup version this process holds in memory for the database at ``url`` (None: nothing)."""
    stored = _STORED.get(_where(make_url(url), kind))
    return None if stored is None else stored.version


def forget() -> None:
    """Drop every process cache (tests)."""
    with _LOCK:
        _STORED.clear()

