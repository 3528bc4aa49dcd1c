"""The process cache: one graph and per-agency station tables per database, kept fresh.

Why: pgr_dijkstra re-reads the whole edge table on every call (about a second on a
300k-edge city), while a dispatcher asks "who is closest?" many times per incident.
Each process builds the network once and, per agency, one multi-source Dijkstra from
every station to every node, so a station's ETA is an array lookup.

Freshness: in a server process the database says when roads or stations change: their
triggers (migration 0016) notify ``{"table": "basemap"}`` / ``{"table": "stations"}`` on
commit and the process's live hub (app/live/hub.py) counts them.  While the hub listens,
a snapshot checked under the current counts is trusted as it is, so a warm request asks
the database only for its own work.  A change is seen as soon as its notice arrives
(milliseconds after the commit); a lost listening connection bumps every count, so
nothing is trusted across the gap.

Without a listening hub (the CLI, notebooks, a request before the hub is up) the snapshot
is checked against cheap fingerprints of ``road_edges`` and ``stations`` (see
road_changes/road_probe/road_version/station_version in sql/routing.sql) at most every
``RECHECK_S`` (bounded staleness; the tests set it to 0: every query checks) and rebuilt
on change; importers may also call :func:`invalidate`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.routing import store
from app.routing.graph import RoadGraph, Snap, seconds

log = logging.getLogger(__name__)

FULL_CHECK_INTERVAL_S = 60.0  # the exact road fingerprint (one table scan) at least this often
PROBE_EDGES = 64             # edges compared with the graph on every query
UNIT_SNAPS_MAX = 100_000     # remembered AVL positions before the memory is cleared
MEMO_MAX = 256               # derived shapes remembered per station table
# Without notices: how long a checked snapshot is used before the fingerprints are asked again.
RECHECK_S = float(os.environ.get("PETA112_ROUTING_RECHECK_S", "2"))
NOTICE_TOPICS = ("basemap", "stations")  # road_edges changes are announced as basemap


def notice_versions() -> tuple[int, ...] | None:
    """The counts of road and station notices seen by this process's live hub, or None (no hub listening)."""
    try:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # outside an app context: the CLI, a notebook
        return None
    from app.live import live_version

    versions = tuple(live_version(app, t) for t in NOTICE_TOPICS)
    return None if None in versions else versions  # type: ignore[return-value]


def utm_epsg() -> int:
    """The metric CRS of the running app (its settings), or of the environment outside a request."""
    try:
        from flask import current_app

        return int(current_app.extensions["peta112.settings"].utm_epsg)
    except (RuntimeError, KeyError):
        from app.config import from_env

        return from_env().utm_epsg


@dataclass
class StationTable:
    """Travel seconds from each station of one agency to every node, with the shortest-path trees."""

    agency: str
    station_ids: list[int]
    snaps: list[Snap | None]         # the nearest edge (None: no road within store.MAX_SNAP_M)
    ties: list[list[Snap]]           # every edge as near (a station on an intersection), nearest first
    dist: np.ndarray   # float32 (stations, nodes)
    pred: np.ndarray   # int32 (stations, nodes); values >= n_nodes are the station's own point
    build_s: float
    # Shapes derived from this table (isochrone polygons, see analytics/coverage.py), kept as long
    # as the table: rebuilt roads or stations make a new table, so a memo here is never stale.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remember(self, key: Any, make: Any) -> Any:
        """``make()`` once per key for this table (bounded: the oldest half goes past MEMO_MAX)."""
        with self.memo_lock:
            if key in self.memo:
                return self.memo[key]
        value = make()
        with self.memo_lock:
            if len(self.memo) >= MEMO_MAX:
                for old in list(self.memo)[: MEMO_MAX // 2]:
                    del self.memo[old]
            return self.memo.setdefault(key, value)

    def row(self, station_id: int) -> int | None:
        try:
            return self.station_ids.index(station_id)
        except ValueError:
            return None

    def reach(self, station_ids: Sequence[int] | None = None) -> tuple[np.ndarray, list[tuple[int, Snap]]]:
        """Seconds to every node from the nearest of the (routed) stations, and their snaps."""
        rows = [i for i, sid in enumerate(self.station_ids)
                if self.snaps[i] is not None and (station_ids is None or sid in station_ids)]
        n = self.dist.shape[1]
        times = self.dist[rows].min(axis=0).astype(np.float64) if rows else np.full(n, np.inf)
        return times, [(self.station_ids[i], self.snaps[i]) for i in rows]  # type: ignore[misc]


def build_station_table(session: Session, graph: RoadGraph, agency: str) -> StationTable:
    """One multi-source Dijkstra from every station of the agency (unsnappable ones get no row of reach)."""
    t0 = time.perf_counter()
    stations = store.agency_stations(session, agency)
    ids = [sid for sid, _, _ in stations]
    snapped = store.snap_ties(session, graph, stations)
    ties = [snapped.get(i, []) for i in ids]
    dist, pred = graph.search([seconds(graph.departures_any(t)) for t in ties])
    table = StationTable(agency, ids, [t[0] if t else None for t in ties], ties, dist.astype(np.float32),
                         pred.astype(np.int32), time.perf_counter() - t0)
    log.info("routing: %s station table (%d stations) in %.2fs", agency, len(ids), table.build_s)
    return table


@dataclass
class RoutingState:
    """One consistent snapshot: a graph and the station tables computed on it."""

    road_version: tuple[Any, ...]
    station_version: tuple[Any, ...]
    graph: RoadGraph | None
    graph_build_s: float = 0.0
    tables: dict[str, StationTable] = field(default_factory=dict)
    unit_snaps: dict[tuple[float, float], list[Snap]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self, session: Session, agency: str) -> StationTable:
        """The agency's station table, built on first use (per agency, so unused agencies cost nothing)."""
        assert self.graph is not None
        with self.lock:
            t = self.tables.get(agency)
            if t is None:
                t = self.tables[agency] = build_station_table(session, self.graph, agency)
            return t

    def snap_positions(self, session: Session, positions: Sequence[tuple[float, float]]) -> list[list[Snap]]:
        """Tied snaps of unit positions (empty: no road near), remembered: AVL positions repeat."""
        assert self.graph is not None
        missing = [(i, lon, lat) for i, (lon, lat) in enumerate(positions)
                   if (lon, lat) not in self.unit_snaps]
        if missing:
            got = store.snap_ties(session, self.graph, missing)
            with self.lock:
                if len(self.unit_snaps) > UNIT_SNAPS_MAX:
                    self.unit_snaps.clear()
                for i, lon, lat in missing:
                    self.unit_snaps[(lon, lat)] = got.get(i, [])
        return [self.unit_snaps.get(p, []) for p in positions]


class RoutingCache:
    """Per process and database: the current RoutingState, rebuilt when roads or stations change.

    Checking the exact road fingerprint (a scan of road_edges, ~50 ms on 300k rows) on
    every query would cost more than the query itself, so each query only reads the
    table's write counters and a sampled probe of edges (see road_changes/road_probe in
    routing.sql); the exact fingerprint runs when those move and at least every
    FULL_CHECK_INTERVAL_S as a safety net.
    """

    def __init__(self, utm_epsg: int):
        self.utm_epsg = utm_epsg
        self._state: RoutingState | None = None
        self._lock = threading.Lock()
        self._changes: tuple[Any, ...] | None = None
        self._probe_ids: list[int] = []
        self._probe: list[tuple[Any, ...]] = []
        self._full_at = 0.0
        self._trusted: tuple[int, ...] | None = None  # notice counts the snapshot was checked under
        self._checked_at = -1e9  # monotonic time of the last fingerprint check

    def invalidate(self) -> None:
        with self._lock:
            self._state, self._changes = None, None
            self._trusted, self._checked_at = None, -1e9

    def _roads_unchanged(self, session: Session, st: RoutingState | None) -> bool:
        if st is None or self._changes is None or time.monotonic() - self._full_at > FULL_CHECK_INTERVAL_S:
            return False
        if store.one(session, "road_changes") != self._changes:
            return False
        if not self._probe_ids:
            return True
        rows = [tuple(r) for r in session.execute(store.sql("road_probe"), {"ids": self._probe_ids})]
        return rows == self._probe

    def _remember(self, session: Session, graph: RoadGraph | None) -> None:
        self._changes = store.one(session, "road_changes")
        self._full_at = time.monotonic()
        if graph is None:
            self._probe_ids, self._probe = [], []
            return
        pick = np.linspace(0, len(graph.edge_ids) - 1, min(PROBE_EDGES, len(graph.edge_ids))).astype(int)
        self._probe_ids = sorted({int(graph.edge_ids[i]) for i in pick})
        self._probe = [tuple(r) for r in session.execute(store.sql("road_probe"), {"ids": self._probe_ids})]

    def state(self, session: Session) -> RoutingState:
        """The snapshot, checked only when a notice came (or, without notices, every RECHECK_S)."""
        notices = notice_versions()  # read before checking: a change racing the check leaves it untrusted
        now = time.monotonic()
        st = self._state
        if st is not None:
            if notices is not None and notices == self._trusted:
                return st
            if notices is None and now - self._checked_at < RECHECK_S:
                return st
        st = self._check(session)
        self._trusted, self._checked_at = notices, now
        return st

    def _check(self, session: Session) -> RoutingState:
        """Compare the snapshot with the database's fingerprints; rebuild what changed."""
        st = self._state
        station_v = store.one(session, "station_version")
        if self._roads_unchanged(session, st):
            assert st is not None
            if st.station_version == station_v:
                return st
        with self._lock:
            st = self._state
            road_v = store.one(session, "road_version")
            if st is not None and st.road_version == road_v:
                if st.station_version != station_v:  # same roads: keep the graph, drop the tables
                    st = RoutingState(road_v, station_v, st.graph, st.graph_build_s)
            else:
                t0 = time.perf_counter()
                graph = store.build_graph(session, self.utm_epsg)
                st = RoutingState(road_v, station_v, graph, time.perf_counter() - t0)
                if graph is not None:
                    log.info("routing: graph of %d nodes, %d arcs built in %.2fs",
                             graph.n_nodes, graph.n_arcs, st.graph_build_s)
            self._remember(session, st.graph)
            self._state = st
            return st


_CACHES: dict[str, RoutingCache] = {}
_CACHES_LOCK = threading.Lock()


def _db_key(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def cache_for(session: Session) -> RoutingCache:
    """The process-wide cache for the session's database (each gunicorn worker builds its own once)."""
    key = _db_key(session)
    with _CACHES_LOCK:
        c = _CACHES.get(key)
        if c is None:
            c = _CACHES[key] = RoutingCache(utm_epsg())
        return c


def state(session: Session) -> RoutingState:
    """The current snapshot for the session's database (built or refreshed as needed)."""
    return cache_for(session).state(session)


def invalidate(session: Session | None = None) -> None:
    """Forget built graphs and tables (of one database, or all); call after bulk road/station edits."""
    with _CACHES_LOCK:
        caches = [_CACHES.get(_db_key(session))] if session is not None else list(_CACHES.values())
    for c in caches:
        if c is not None:
            c.invalidate()


def cache_info(session: Session) -> dict[str, Any]:
    """Sizes and build times of the current snapshot (for status pages and benchmarks)."""
    st = state(session)
    g = st.graph
    return {
        "nodes": g.n_nodes if g else 0, "arcs": g.n_arcs if g else 0,
        "graph_build_s": round(st.graph_build_s, 3),
        "tables": {a: {"stations": len(t.station_ids), "build_s": round(t.build_s, 3)}
                   for a, t in st.tables.items()},
    }
