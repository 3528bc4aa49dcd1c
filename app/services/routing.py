"""Drive-time routing and nearest responders on the road network in ``road_edges``.

Why in-process graphs instead of pgRouting per call: a dispatcher asks "who is
closest?" many times per incident, and pgr_dijkstra re-reads the whole edge table on
every call (about a second on a 300k-edge city).  Here each process builds the
network once into a scipy CSR matrix and, per agency, precomputes a table of travel
times from every station to every node (one multi-source Dijkstra), so a
drive-time ETA for every station is an array lookup.  Units away from their station
(last AVL position) are answered with one *reverse* Dijkstra from the incident,
bounded by the k-th best station ETA, which serves all such units at once instead of
one search per unit.

Points (incidents, stations, units) are snapped to the nearest road *edge*, not node:
travel from a point runs along the rest of its edge (only in directions the edge
allows, so one-way streets are respected), which is what pgRouting's withPoints
functions do.  Answers agree with pgr_dijkstra / pgr_withPointsCost (tests check it).

Freshness: each query compares a cheap fingerprint of ``road_edges`` and ``stations``
(count, max id, cost sums; see app/db/sql/routing.sql) with the one the cache was
built from and rebuilds on change; importers may also call :func:`invalidate`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import Geod, Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from app.db import sqlfiles as sql_files
from app.services.errors import InvalidInput

log = logging.getLogger(__name__)

# -- tunables (one place) -------------------------------------------------------------
AT_STATION_M = 75.0          # a unit closer than this to its station is routed from the station
MAX_SNAP_M = 1500.0          # a point farther than this from any road cannot be routed
SNAP_CANDIDATES = 8          # KNN edges examined exactly per snapped point
MOBILE_SEARCH_CAP_S = 4 * 3600.0  # bound of the reverse search when stations give no k-th ETA
MIN_ARC_COST_S = 1e-6        # zero-cost arcs stay arcs (scipy drops explicit zeros in some paths)
FALLBACK_SPEED_KMH = 25.0    # straight-line fallback ETA: urban speed ...
FALLBACK_DETOUR = 1.4        # ... times a typical road-detour factor
KNN_OVERFETCH = 10           # extra KNN rows before exact geodesic re-ranking
MOBILE_FIRST_LIMIT_S = 600.0  # first bound of the reverse search; doubled until k units are found
FULL_CHECK_INTERVAL_S = 60.0  # the exact road fingerprint (one table scan) at least this often
PROBE_EDGES = 64             # edges compared with the graph on every query
K_MAX = 50
BY_VALUES = ("time", "distance")

_GEOD = Geod(ellps="WGS84")


def sql(name: str) -> TextClause:
    """A named statement from app/db/sql/routing.sql."""
    return sql_files.statement("app.db", "sql/routing.sql", name)


@lru_cache(maxsize=8)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    return (Transformer.from_crs(4326, epsg, always_xy=True),
            Transformer.from_crs(epsg, 4326, always_xy=True))


def _utm_epsg() -> int:
    try:
        from flask import current_app

        return int(current_app.extensions["peta112.settings"].utm_epsg)
    except (RuntimeError, KeyError):
        from app.config import from_env

        return from_env().utm_epsg


# -- the graph ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snap:
    """A point placed on a road edge: ``fraction`` 0 at the edge's source, 1 at its target."""

    lon: float
    lat: float
    edge: int          # index into RoadGraph edge arrays
    fraction: float
    snap_m: float      # distance from the point to the road


class RoadGraph:
    """The directed road network as a CSR matrix of travel seconds.

    Forward arcs come from edges with ``cost >= 0``, backward arcs from ``reverse_cost
    >= 0`` (negative means closed, pgRouting's convention); of parallel arcs between
    the same two nodes only the fastest is kept, which is the one any shortest path uses.
    """

    def __init__(self, edge_ids: np.ndarray, source: np.ndarray, target: np.ndarray,
                 cost: np.ndarray, reverse_cost: np.ndarray, length_m: np.ndarray,
                 geoms: np.ndarray, utm_epsg: int):
        order = np.argsort(edge_ids, kind="stable")
        self.edge_ids = np.asarray(edge_ids, dtype=np.int64)[order]
        source = np.asarray(source, dtype=np.int64)[order]
        target = np.asarray(target, dtype=np.int64)[order]
        self.edge_cost = np.asarray(cost, dtype=np.float64)[order]
        self.edge_rcost = np.asarray(reverse_cost, dtype=np.float64)[order]
        self.edge_len = np.asarray(length_m, dtype=np.float64)[order]
        self.edge_geoms = np.asarray(geoms)[order]
        self.utm_epsg = utm_epsg
        self.node_ids = np.unique(np.concatenate([source, target]))
        self.edge_src = np.searchsorted(self.node_ids, source).astype(np.int32)
        self.edge_tgt = np.searchsorted(self.node_ids, target).astype(np.int32)
        n = len(self.node_ids)

        e = np.arange(len(self.edge_ids), dtype=np.int32)
        not_loop = self.edge_src != self.edge_tgt
        fwd = (self.edge_cost >= 0) & not_loop
        bwd = (self.edge_rcost >= 0) & not_loop
        u = np.concatenate([self.edge_src[fwd], self.edge_tgt[bwd]])
        v = np.concatenate([self.edge_tgt[fwd], self.edge_src[bwd]])
        w = np.concatenate([self.edge_cost[fwd], self.edge_rcost[bwd]])
        arc_edge = np.concatenate([e[fwd], e[bwd]])
        arc_fwd = np.concatenate([np.ones(fwd.sum(), bool), np.zeros(bwd.sum(), bool)])
        srt = np.lexsort((w, v, u))
        u, v, w, arc_edge, arc_fwd = u[srt], v[srt], w[srt], arc_edge[srt], arc_fwd[srt]
        first = np.ones(len(u), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w = u[first], v[first], w[first]
        self.arc_edge, self.arc_fwd = arc_edge[first], arc_fwd[first]
        self._arc_keys = u.astype(np.int64) * n + v  # sorted: CSR order is (u, v)
        indptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        self.csr = csr_matrix((np.maximum(w, MIN_ARC_COST_S), v.astype(np.int32), indptr), shape=(n, n))
        self.csr_rev = self.csr.T.tocsr()

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_arcs(self) -> int:
        return self.csr.nnz

    def node_index(self, node_id: int) -> int:
        """Matrix index of a road_nodes id (KeyError if the node has no edge)."""
        i = int(np.searchsorted(self.node_ids, node_id))
        if i >= len(self.node_ids) or self.node_ids[i] != node_id:
            raise KeyError(node_id)
        return i

    def edge_index(self, edge_id: int) -> int | None:
        i = int(np.searchsorted(self.edge_ids, edge_id))
        return i if i < len(self.edge_ids) and self.edge_ids[i] == edge_id else None

    def arcs(self, nodes: Sequence[int]) -> np.ndarray:
        """CSR positions of the (fastest) arcs along a node path, in one vectorised search."""
        p = np.asarray(nodes, dtype=np.int64)
        pos = np.searchsorted(self._arc_keys, p[:-1] * self.n_nodes + p[1:])
        return pos

    # Travel between a snapped point and the ends of its edge -----------------------------
    def departures(self, s: Snap) -> dict[int, float]:
        """Seconds from the point to the edge's end nodes, in directions the edge allows."""
        out: dict[int, float] = {}
        c, rc = self.edge_cost[s.edge], self.edge_rcost[s.edge]
        if c >= 0:
            _put_min(out, int(self.edge_tgt[s.edge]), (1.0 - s.fraction) * c)
        if rc >= 0:
            _put_min(out, int(self.edge_src[s.edge]), s.fraction * rc)
        return out

    def arrivals(self, s: Snap) -> dict[int, float]:
        """Seconds from the edge's end nodes to the point."""
        out: dict[int, float] = {}
        c, rc = self.edge_cost[s.edge], self.edge_rcost[s.edge]
        if c >= 0:
            _put_min(out, int(self.edge_src[s.edge]), s.fraction * c)
        if rc >= 0:
            _put_min(out, int(self.edge_tgt[s.edge]), (1.0 - s.fraction) * rc)
        return out

    def direct(self, a: Snap, b: Snap) -> float:
        """Seconds from a to b along their shared edge without leaving it (inf if not possible)."""
        if a.edge != b.edge:
            return math.inf
        c, rc = self.edge_cost[a.edge], self.edge_rcost[a.edge]
        best = math.inf
        if c >= 0 and b.fraction >= a.fraction:
            best = (b.fraction - a.fraction) * c
        if rc >= 0 and b.fraction <= a.fraction:
            best = min(best, (a.fraction - b.fraction) * rc)
        return best

    def with_virtual(self, rows: Sequence[dict[int, float]], reverse: bool = False) -> csr_matrix:
        """The graph (or its reverse) plus one extra source node per row of arcs.

        Snapped points become real graph nodes this way, so one scipy Dijkstra from them
        is exact; appending rows to CSR arrays costs a copy of the arrays, ~1 ms.
        """
        base = self.csr_rev if reverse else self.csr
        n = base.shape[0] + len(rows)
        cols = [np.array(sorted(r), dtype=np.int32) for r in rows]
        vals = [np.array([max(r[c], MIN_ARC_COST_S) for c in sorted(r)]) for r in rows]
        lengths = np.array([len(c) for c in cols], dtype=np.int64)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(lengths)]).astype(np.int32)
        indices = np.concatenate([base.indices, *cols]).astype(np.int32)
        data = np.concatenate([base.data, *vals])
        return csr_matrix((data, indices, indptr), shape=(n, n))

    # Geometry -----------------------------------------------------------------------------
    def _partial(self, edge: int, f0: float, f1: float) -> np.ndarray:
        """Coordinates of the edge from fraction f0 to f1 (reversed when f0 > f1), cut in metres."""
        to_utm, to_ll = _transformers(self.utm_epsg)
        line = shapely.transform(self.edge_geoms[edge], lambda xy: np.column_stack(
            to_utm.transform(xy[:, 0], xy[:, 1])))
        xy = shapely.get_coordinates(substring(line, f0, f1, normalized=True))
        return np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1]))

    def leg(self, start: Snap, nodes: Sequence[int], end: Snap) -> tuple[np.ndarray, float]:
        """Coordinates (n x 2 lon/lat) and metres from ``start`` through ``nodes`` to ``end``."""
        if not len(nodes):  # along the shared edge only
            return (self._partial(start.edge, start.fraction, end.fraction),
                    float(abs(end.fraction - start.fraction) * self.edge_len[start.edge]))
        e = start.edge
        f_end = 1.0 if (nodes[0] == self.edge_tgt[e] and self.edge_cost[e] >= 0) else 0.0
        parts = [self._partial(e, start.fraction, f_end)]
        metres = abs(f_end - start.fraction) * self.edge_len[e]
        pos = self.arcs(nodes)
        edges = self.arc_edge[pos]
        for ei, fwd in zip(edges.tolist(), self.arc_fwd[pos].tolist(), strict=True):
            xy = shapely.get_coordinates(self.edge_geoms[ei])
            parts.append(xy if fwd else xy[::-1])
        metres += float(self.edge_len[edges].sum())
        e = end.edge
        f_start = 0.0 if (nodes[-1] == self.edge_src[e] and self.edge_cost[e] >= 0) else 1.0
        parts.append(self._partial(e, f_start, end.fraction))
        metres += abs(end.fraction - f_start) * self.edge_len[e]
        return np.concatenate(parts), float(metres)


def _put_min(d: dict[int, float], key: int, value: float) -> None:
    if value < d.get(key, math.inf):
        d[key] = float(value)


def _linestring(coords: np.ndarray | Sequence[tuple[float, float]]) -> dict[str, Any]:
    """GeoJSON LineString, 7 decimals (~1 cm), repeated points dropped, never a single point."""
    xy = np.round(np.asarray(coords, dtype=np.float64).reshape(-1, 2), 7)
    keep = np.ones(len(xy), bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
    xy = xy[keep]
    if len(xy) == 1:
        xy = np.vstack([xy, xy])
    return {"type": "LineString", "coordinates": xy.tolist()}


# -- building and caching ------------------------------------------------------------------
def build_graph(session: Session, utm_epsg: int | None = None) -> RoadGraph | None:
    """Read road_edges into a RoadGraph (None when no road network is loaded)."""
    rows = session.execute(sql("graph_edges")).all()
    if not rows:
        return None
    ids, src, tgt, cost, rcost, length, wkb = zip(*rows, strict=True)
    geoms = shapely.from_wkb(np.array([bytes(b) for b in wkb], dtype=object))
    return RoadGraph(np.array(ids), np.array(src), np.array(tgt), np.array(cost), np.array(rcost),
                     np.array(length), geoms, utm_epsg or _utm_epsg())


def snap_points(session: Session, graph: RoadGraph,
                points: Sequence[tuple[int, float, float]]) -> dict[int, Snap]:
    """Snap ``(key, lon, lat)`` points in one round trip; points beyond MAX_SNAP_M are left out."""
    if not points:
        return {}
    keys, lons, lats = (list(x) for x in zip(*points, strict=True))
    rows = session.execute(sql("snap_points"), {
        "keys": keys, "lons": lons, "lats": lats, "utm": graph.utm_epsg, "n": SNAP_CANDIDATES})
    by_key = {k: (lo, la) for k, lo, la in points}
    out: dict[int, Snap] = {}
    for key, edge_id, dist_m, fraction in rows:
        idx = graph.edge_index(edge_id)
        if idx is None or dist_m > MAX_SNAP_M:
            continue
        lon, lat = by_key[key]
        out[key] = Snap(lon, lat, idx, min(max(float(fraction), 0.0), 1.0), float(dist_m))
    return out


@dataclass
class StationTable:
    """Travel seconds from each station of one agency to every node, with the shortest-path trees."""

    agency: str
    station_ids: list[int]
    snaps: list[Snap | None]
    dist: np.ndarray   # float32 (stations, nodes)
    pred: np.ndarray   # int32 (stations, nodes); values >= n_nodes are the virtual station node
    build_s: float

    def row(self, station_id: int) -> int | None:
        try:
            return self.station_ids.index(station_id)
        except ValueError:
            return None


def build_station_table(session: Session, graph: RoadGraph, agency: str) -> StationTable:
    t0 = time.perf_counter()
    stations = session.execute(sql("agency_stations"), {"agency": agency}).all()
    ids = [int(r.id) for r in stations]
    snapped = snap_points(session, graph, [(int(r.id), float(r.lon), float(r.lat)) for r in stations])
    snaps = [snapped.get(i) for i in ids]
    n = graph.n_nodes
    if not ids:
        return StationTable(agency, [], [], np.zeros((0, n), np.float32), np.zeros((0, n), np.int32), 0.0)
    rows = [graph.departures(s) if s else {} for s in snaps]
    aug = graph.with_virtual(rows)
    dist, pred = dijkstra(aug, directed=True, indices=np.arange(n, n + len(ids)), return_predecessors=True)
    table = StationTable(agency, ids, snaps, dist[:, :n].astype(np.float32),
                         pred[:, :n].astype(np.int32), time.perf_counter() - t0)
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
    unit_snaps: dict[tuple[float, float], Snap | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self, session: Session, agency: str) -> StationTable:
        """The agency's station table, built on first use (per agency, so unused agencies cost nothing)."""
        assert self.graph is not None
        with self.lock:
            t = self.tables.get(agency)
            if t is None:
                t = self.tables[agency] = build_station_table(session, self.graph, agency)
            return t

    def snap_positions(self, session: Session, positions: Sequence[tuple[float, float]]) -> list[Snap | None]:
        """Snaps of unit positions, remembered: AVL positions repeat between queries."""
        assert self.graph is not None
        missing = [(i, lon, lat) for i, (lon, lat) in enumerate(positions)
                   if (lon, lat) not in self.unit_snaps]
        if missing:
            got = snap_points(session, self.graph, missing)
            with self.lock:
                if len(self.unit_snaps) > 100_000:
                    self.unit_snaps.clear()
                for i, lon, lat in missing:
                    self.unit_snaps[(lon, lat)] = got.get(i)
        return [self.unit_snaps.get(p) for p in positions]


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

    def invalidate(self) -> None:
        with self._lock:
            self._state, self._changes = None, None

    def _roads_unchanged(self, session: Session, st: RoutingState | None) -> bool:
        if st is None or self._changes is None or time.monotonic() - self._full_at > FULL_CHECK_INTERVAL_S:
            return False
        if tuple(session.execute(sql("road_changes")).one()) != self._changes:
            return False
        if not self._probe_ids:
            return True
        rows = [tuple(r) for r in session.execute(sql("road_probe"), {"ids": self._probe_ids})]
        return rows == self._probe

    def _remember(self, session: Session, graph: RoadGraph | None) -> None:
        self._changes = tuple(session.execute(sql("road_changes")).one())
        self._full_at = time.monotonic()
        if graph is None:
            self._probe_ids, self._probe = [], []
            return
        pick = np.linspace(0, len(graph.edge_ids) - 1, min(PROBE_EDGES, len(graph.edge_ids))).astype(int)
        self._probe_ids = sorted({int(graph.edge_ids[i]) for i in pick})
        self._probe = [tuple(r) for r in session.execute(sql("road_probe"), {"ids": self._probe_ids})]

    def state(self, session: Session) -> RoutingState:
        st = self._state
        station_v = tuple(session.execute(sql("station_version")).one())
        if self._roads_unchanged(session, st):
            assert st is not None
            if st.station_version == station_v:
                return st
        with self._lock:
            st = self._state
            road_v = tuple(session.execute(sql("road_version")).one())
            if st is not None and st.road_version == road_v:
                if st.station_version != station_v:  # same roads: keep the graph, drop the tables
                    st = RoutingState(road_v, station_v, st.graph, st.graph_build_s)
            else:
                t0 = time.perf_counter()
                graph = build_graph(session, self.utm_epsg)
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
            c = _CACHES[key] = RoutingCache(_utm_epsg())
        return c


def invalidate(session: Session | None = None) -> None:
    """Forget built graphs and tables (of one database, or all); call after bulk road/station edits."""
    with _CACHES_LOCK:
        caches = [_CACHES.get(_db_key(session))] if session is not None else list(_CACHES.values())
    for c in caches:
        if c is not None:
            c.invalidate()


def cache_info(session: Session) -> dict[str, Any]:
    """Sizes and build times of the current snapshot (for status pages and benchmarks)."""
    st = cache_for(session).state(session)
    g = st.graph
    return {
        "nodes": g.n_nodes if g else 0, "arcs": g.n_arcs if g else 0,
        "graph_build_s": round(st.graph_build_s, 3),
        "tables": {a: {"stations": len(t.station_ids), "build_s": round(t.build_s, 3)}
                   for a, t in st.tables.items()},
    }


# -- queries --------------------------------------------------------------------------------
@dataclass
class _Cand:
    row: dict[str, Any]
    lon: float
    lat: float
    mobile: bool = False
    eta: float = math.inf
    start: Snap | None = None
    # how to rebuild the path: ("table", agency, row, arrival node) | ("rev", departure node) | ("direct",)
    via: tuple[Any, ...] = ()


def _straight_m(lon: float, lat: float, lons: Sequence[float], lats: Sequence[float]) -> list[float]:
    if not lons:
        return []
    _, _, d = _GEOD.inv(np.array(lons), np.array(lats), np.full(len(lons), lon), np.full(len(lats), lat))
    return [float(x) for x in np.atleast_1d(d)]


def _candidate_out(c: dict[str, Any], *, eta: float | None, distance_m: float | None, straight_m: float,
                   route: dict[str, Any] | None, position: str) -> dict[str, Any]:
    status = c.get("status")
    return {  # the same keys in every mode, so callers never branch on the method
        "kind": "unit" if c.get("unit_id") is not None else "station",
        "unit_id": c.get("unit_id"), "callsign": c.get("callsign"), "unit_type": c.get("unit_type"),
        "station_id": c.get("station_id"), "station_name": c.get("station_name"), "agency": c["agency"],
        "status": status, "available": status in (None, "available"),
        "eta_s": None if eta is None else round(eta, 1),
        "distance_m": None if distance_m is None else round(distance_m, 1),
        "straight_m": round(straight_m, 1), "position": position, "route": route,
    }


def _straight_line(session: Session, lat: float, lon: float, agency: str | None, k: int,
                   unit_type: str | None, include_busy: bool, estimate: bool) -> list[dict[str, Any]]:
    rows = session.execute(sql("knn_candidates"), {
        "lat": lat, "lon": lon, "agency": agency, "unit_type": unit_type, "include_busy": include_busy,
        "with_stations": unit_type is None, "n": k + KNN_OVERFETCH, "k": k}).mappings().all()
    out = []
    for r in rows:
        d = float(r["straight_m"])
        eta = d * FALLBACK_DETOUR / (FALLBACK_SPEED_KMH / 3.6) if estimate else None
        line = _linestring([(float(r["lon"]), float(r["lat"])), (lon, lat)])
        out.append(_candidate_out(dict(r), eta=eta, distance_m=d, straight_m=d, route=line,
                                  position="straight_line"))
    return out


def _fallback(session: Session, lat: float, lon: float, agency: str | None, k: int,
              unit_type: str | None, include_busy: bool, reason: str) -> dict[str, Any]:
    return {"method": "straight_line_fallback", "reason": reason,
            "eta_note": f"estimated: straight line x {FALLBACK_DETOUR} at {FALLBACK_SPEED_KMH:g} km/h",
            "candidates": _straight_line(session, lat, lon, agency, k, unit_type, include_busy, True)}


def nearest(session: Session, lat: float, lon: float, agency: str | None = None, k: int = 5,
            by: Literal["time", "distance"] = "time", unit_type: str | None = None,
            include_busy: bool = False) -> dict[str, Any]:
    """The k nearest responders to (lat, lon) by drive time or straight line.

    Candidates are units (busy ones only with ``include_busy``) or, for an agency that
    records no units, its stations.  Returns ``{"method", "candidates"}`` and a
    ``reason`` when routing could not answer and straight-line distance was used.
    Inputs are assumed valid; see :func:`nearest_for_point` for the checked entry point.
    """
    if by == "distance":
        return {"method": "straight_line",
                "candidates": _straight_line(session, lat, lon, agency, k, unit_type, include_busy, False)}
    params = {"agency": agency, "unit_type": unit_type, "include_busy": include_busy,
              "at_station_m": AT_STATION_M}
    units = [dict(r) for r in session.execute(sql("candidate_units"), params).mappings()]
    stations: list[dict[str, Any]] = []
    if unit_type is None:
        stations = [dict(r) for r in session.execute(sql("candidate_stations"), params).mappings()]
    if not units and not stations:
        return {"method": "drive_time", "candidates": []}

    def fallback(reason: str) -> dict[str, Any]:
        return _fallback(session, lat, lon, agency, k, unit_type, include_busy, reason)

    state = cache_for(session).state(session)
    g = state.graph
    if g is None:
        return fallback("no road network loaded")
    target = snap_points(session, g, [(0, lon, lat)]).get(0)
    if target is None:
        return fallback(f"no road within {MAX_SNAP_M:g} m of the point")
    arrive = g.arrivals(target)

    cands = [_Cand(u, float(u["lon"]), float(u["lat"]), bool(u["mobile"] or u["station_id"] is None))
             for u in units]
    cands += [_Cand(s, float(s["lon"]), float(s["lat"])) for s in stations]
    at_station = [c for c in cands if not c.mobile]
    mobile = [c for c in cands if c.mobile]

    # Units at their station: a lookup in the agency's precomputed table.
    for c in at_station:
        sid = c.row["station_id"]
        table = state.table(session, c.row.get("station_agency") or c.row["agency"])
        row = table.row(sid)
        if row is None or table.snaps[row] is None:
            continue
        c.start = table.snaps[row]
        for node, secs in arrive.items():
            t = float(table.dist[row, node]) + secs
            if t < c.eta:
                c.eta, c.via = t, ("table", table, row, node)
        d = g.direct(c.start, target)
        if d <= c.eta:
            c.eta, c.via = d, ("direct",)

    # Units on the road: one reverse Dijkstra from the incident, its bound grown until k are in.
    rev_pred = None
    if mobile:
        finite = sorted(c.eta for c in at_station if math.isfinite(c.eta))
        cap = finite[k - 1] + 1.0 if len(finite) >= k else MOBILE_SEARCH_CAP_S
        snaps = state.snap_positions(session, [(c.lon, c.lat) for c in mobile])
        aug = g.with_virtual([arrive], reverse=True)
        limit = min(MOBILE_FIRST_LIMIT_S, cap)
        while True:
            dist, rev_pred = dijkstra(aug, directed=True, indices=g.n_nodes, limit=limit,
                                      return_predecessors=True)
            found = 0
            for c, s in zip(mobile, snaps, strict=True):
                c.eta, c.start = math.inf, s
                if s is None:
                    continue
                for node, secs in g.departures(s).items():
                    t = secs + float(dist[node])
                    if t < c.eta:
                        c.eta, c.via = t, ("rev", node)
                d = g.direct(s, target)
                if d <= c.eta:
                    c.eta, c.via = d, ("direct",)
                found += c.eta <= limit
            # Exact below the limit, unknown above it: stop once k answers lie below it.
            if found + sum(e <= limit for e in finite) >= k or limit >= cap:
                break
            limit = min(limit * 2, cap)

    reachable = sorted((c for c in cands if math.isfinite(c.eta)),
                       key=lambda c: (c.eta, c.row.get("unit_id") or 0, c.row.get("station_id") or 0))
    if not reachable:
        return fallback("no candidate can reach the point by road")
    best = reachable[:k]
    straight = _straight_m(lon, lat, [c.lon for c in best], [c.lat for c in best])
    out = []
    for c, sm in zip(best, straight, strict=True):
        assert c.start is not None
        nodes = _path_nodes(g, c.via, rev_pred)
        coords, metres = g.leg(c.start, nodes, target)
        position = "avl" if c.mobile else "station"
        out.append(_candidate_out(c.row, eta=c.eta, distance_m=metres, straight_m=sm,
                                  route=_linestring(coords), position=position))
    return {"method": "drive_time", "candidates": out}


def _path_nodes(g: RoadGraph, via: tuple[Any, ...], rev_pred: np.ndarray | None) -> list[int]:
    """Real node indices of a candidate's path, from its first node to its last."""
    n = g.n_nodes
    if via[0] == "direct":
        return []
    if via[0] == "table":
        _, table, row, node = via
        pred = table.pred[row]
        path = [node]
        while 0 <= pred[path[-1]] < n:
            path.append(int(pred[path[-1]]))
        return path[::-1]
    assert rev_pred is not None
    path = [via[1]]
    while 0 <= rev_pred[path[-1]] < n:
        path.append(int(rev_pred[path[-1]]))
    return path


def route(session: Session, from_latlon: tuple[float, float], to_latlon: tuple[float, float]) -> dict[str, Any]:
    """Fastest drive from one point to another: eta_s, distance_m and the GeoJSON LineString.

    ``method`` is ``drive_time``, or ``straight_line_fallback`` with a ``reason`` (and
    eta_s estimated from the straight line) when the network cannot answer.
    """
    (lat0, lon0), (lat1, lon1) = from_latlon, to_latlon
    straight = _straight_m(lon1, lat1, [lon0], [lat0])[0]

    def fallback(reason: str) -> dict[str, Any]:
        return {"method": "straight_line_fallback", "reason": reason,
                "eta_s": round(straight * FALLBACK_DETOUR / (FALLBACK_SPEED_KMH / 3.6), 1),
                "distance_m": round(straight, 1), "straight_m": round(straight, 1),
                "route": _linestring([(lon0, lat0), (lon1, lat1)])}

    g = cache_for(session).state(session).graph
    if g is None:
        return fallback("no road network loaded")
    snaps = snap_points(session, g, [(0, lon0, lat0), (1, lon1, lat1)])
    if 0 not in snaps or 1 not in snaps:
        return fallback(f"no road within {MAX_SNAP_M:g} m of the {'origin' if 0 not in snaps else 'destination'}")
    a, b = snaps[0], snaps[1]
    n = g.n_nodes
    dist, pred = dijkstra(g.with_virtual([g.departures(a)]), directed=True, indices=n,
                          return_predecessors=True)
    eta, last = g.direct(a, b), None
    for node, secs in g.arrivals(b).items():
        if dist[node] + secs < eta:
            eta, last = float(dist[node] + secs), node
    if not math.isfinite(eta):
        return fallback("the destination cannot be reached by road from the origin")
    nodes: list[int] = []
    if last is not None:
        nodes = [last]
        while 0 <= pred[nodes[-1]] < n:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
    coords, metres = g.leg(a, nodes, b)
    return {"method": "drive_time", "eta_s": round(eta, 1), "distance_m": round(metres, 1),
            "straight_m": round(straight, 1), "route": _linestring(coords)}


# -- the checked entry point (API, CLI, incidents) --------------------------------------------
def nearest_for_point(session: Session, lat: Any, lon: Any, agency: str | None = None, k: Any = 5,
                      by: str = "time", unit_type: str | None = None,
                      include_busy: bool = False) -> dict[str, Any]:
    """Validate the query (422 problems naming the field) and answer it with :func:`nearest`.

    Used by ``GET /api/v1/nearest``, ``peta112 nearest`` and the incident endpoints, so
    every caller gets the same checks and the same response shape.
    """
    lat_f = _coord(lat, "lat", 90.0)
    lon_f = _coord(lon, "lon", 180.0)
    try:
        k_i = int(k)
    except (TypeError, ValueError):
        raise InvalidInput(f"k must be an integer from 1 to {K_MAX}", "k") from None
    if isinstance(k, float) and not k.is_integer() or not 1 <= k_i <= K_MAX:
        raise InvalidInput(f"k must be an integer from 1 to {K_MAX}", "k")
    if by not in BY_VALUES:
        raise InvalidInput("by must be 'time' or 'distance'", "by")
    if agency is not None:
        agency = agency.strip().upper() or None
    if agency is not None and session.execute(
            text("SELECT 1 FROM agencies WHERE code = :c"), {"c": agency}).first() is None:
        raise InvalidInput(f"no agency with code {agency!r}", "agency")
    unit_type = (unit_type or "").strip() or None
    res = nearest(session, lat_f, lon_f, agency=agency, k=k_i, by=by,  # type: ignore[arg-type]
                  unit_type=unit_type, include_busy=bool(include_busy))
    query = {"lat": lat_f, "lon": lon_f, "agency": agency, "k": k_i, "by": by, "unit_type": unit_type,
             "include_busy": bool(include_busy)}
    return {"query": query, **res}


def _coord(value: Any, name: str, bound: float) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{name} is required", name)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number", name) from None
    if not math.isfinite(f) or abs(f) > bound:
        raise InvalidInput(f"{name} must be a finite number within ±{bound:g}", name)
    return f
