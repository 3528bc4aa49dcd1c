"""The road network as a graph of travel seconds: the pure engine, numpy and scipy only.

Why a module of its own: exactness against pgRouting is decided here (arcs, snapped
points as virtual nodes, one-way rules), and it must be testable and reusable without
a database, a web request or GEOS.  Reading the network from SQL lives in
``store.py``, keeping it fresh in ``cache.py``, drawing routes in ``geometry.py``.

Conventions are pgRouting's: ``cost`` is seconds from source to target,
``reverse_cost`` back, a negative value means that direction is closed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

MIN_ARC_COST_S = 1e-6        # zero-cost arcs stay arcs (scipy drops explicit zeros in some paths)


@dataclass(frozen=True)
class Snap:
    """A point placed on a road edge: ``fraction`` 0 at the edge's source, 1 at its target."""

    lon: float
    lat: float
    edge: int          # index into RoadGraph edge arrays
    fraction: float
    snap_m: float      # distance from the point to the road


@dataclass(frozen=True)
class Components:
    """Strongly connected components of a directed road network.

    A crew can drive from any node of a strongly connected component to any other; an
    edge with an end outside the largest one is a trap or an island (one-way streets at
    the edge of an extract, a ferry stub) where a unit can get in and not out, or never
    get in.
    """

    node_ids: np.ndarray          # sorted road node ids
    labels: np.ndarray            # component label per node (index as node_ids)
    sizes: np.ndarray             # nodes per component, indexed by label
    largest: int                  # label of the largest component
    edge_in_largest: np.ndarray   # per edge (input order): both ends in the largest component

    @property
    def count(self) -> int:
        return len(self.sizes)

    def sizes_desc(self) -> list[int]:
        """Component sizes in nodes, largest first (for a readiness report)."""
        return sorted((int(s) for s in self.sizes), reverse=True)


def strong_components(source: Sequence[int] | np.ndarray, target: Sequence[int] | np.ndarray,
                      cost: Sequence[float] | np.ndarray,
                      reverse_cost: Sequence[float] | np.ndarray) -> Components:
    """Strongly connected components of edges given as pgRouting columns (public, for importers).

    Takes plain arrays so an importer can check a network before it is written; an
    edge open in neither direction joins nothing.
    """
    src = np.asarray(source, dtype=np.int64)
    tgt = np.asarray(target, dtype=np.int64)
    c = np.asarray(cost, dtype=np.float64)
    rc = np.asarray(reverse_cost, dtype=np.float64)
    node_ids = np.unique(np.concatenate([src, tgt]))
    n = len(node_ids)
    s, t = np.searchsorted(node_ids, src), np.searchsorted(node_ids, tgt)
    u = np.concatenate([s[c >= 0], t[rc >= 0]])
    v = np.concatenate([t[c >= 0], s[rc >= 0]])
    m = csr_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    _, labels = connected_components(m, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=int(labels.max()) + 1 if n else 0)
    largest = int(np.argmax(sizes)) if n else -1
    return Components(node_ids, labels, sizes, largest,
                      (labels[s] == largest) & (labels[t] == largest) if n else np.zeros(0, bool))


class RoadGraph:
    """The directed road network as a CSR matrix of travel seconds.

    Forward arcs come from edges with ``cost >= 0``, backward arcs from ``reverse_cost
    >= 0``; of parallel arcs between the same two nodes only the fastest is kept, which
    is the one any shortest path uses.  ``edge_geoms`` (shapely lines, lon/lat) and
    ``utm_epsg`` ride along for geometry.py and are never read here.
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
        self._components: Components | None = None

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

    def components(self) -> Components:
        """Strongly connected components of this graph (computed once; edges in graph order)."""
        if self._components is None:
            self._components = strong_components(self.node_ids[self.edge_src], self.node_ids[self.edge_tgt],
                                                 self.edge_cost, self.edge_rcost)
        return self._components

    def arcs(self, nodes: Sequence[int]) -> np.ndarray:
        """CSR positions of the (fastest) arcs along a node path, in one vectorised search."""
        p = np.asarray(nodes, dtype=np.int64)
        return np.searchsorted(self._arc_keys, p[:-1] * self.n_nodes + p[1:])

    # Travel between a snapped point and the ends of its edge -----------------------------
    def departures(self, s: Snap) -> dict[int, float]:
        """Seconds from the point to the edge's end nodes, in directions the edge allows."""
        out: dict[int, float] = {}
        c, rc = self.edge_cost[s.edge], self.edge_rcost[s.edge]
        if c >= 0:
            put_min(out, int(self.edge_tgt[s.edge]), (1.0 - s.fraction) * c)
        if rc >= 0:
            put_min(out, int(self.edge_src[s.edge]), s.fraction * rc)
        return out

    def arrivals(self, s: Snap) -> dict[int, float]:
        """Seconds from the edge's end nodes to the point."""
        out: dict[int, float] = {}
        c, rc = self.edge_cost[s.edge], self.edge_rcost[s.edge]
        if c >= 0:
            put_min(out, int(self.edge_src[s.edge]), s.fraction * c)
        if rc >= 0:
            put_min(out, int(self.edge_tgt[s.edge]), (1.0 - s.fraction) * rc)
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

    # A point on an intersection is as near to every edge meeting there (its "ties"): it may
    # leave or arrive by any of them, so each merge keeps the fastest and remembers which.
    def departures_any(self, ties: Sequence[Snap]) -> dict[int, tuple[float, Snap]]:
        """Fastest seconds from any of the tied snaps to each end node, and the snap that gives it."""
        out: dict[int, tuple[float, Snap]] = {}
        for s in ties:
            for node, secs in self.departures(s).items():
                if secs < out.get(node, (math.inf,))[0]:
                    out[node] = (secs, s)
        return out

    def arrivals_any(self, ties: Sequence[Snap]) -> dict[int, tuple[float, Snap]]:
        """Fastest seconds from each end node to any of the tied snaps, and the snap reached."""
        out: dict[int, tuple[float, Snap]] = {}
        for s in ties:
            for node, secs in self.arrivals(s).items():
                if secs < out.get(node, (math.inf,))[0]:
                    out[node] = (secs, s)
        return out

    def direct_any(self, starts: Sequence[Snap], ends: Sequence[Snap]) -> tuple[float, Snap | None, Snap | None]:
        """The fastest drive along one shared edge between any start and any end snap."""
        best: tuple[float, Snap | None, Snap | None] = (math.inf, None, None)
        for a in starts:
            for b in ends:
                d = self.direct(a, b)
                if d < best[0]:
                    best = (d, a, b)
        return best

    def in_main_component(self, nodes: Sequence[int]) -> bool:
        """Whether any of the node indices lies in the largest strongly connected component."""
        c = self.components()
        return any(int(c.labels[i]) == c.largest for i in nodes)

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

    def search(self, rows: Sequence[dict[int, float]], *, reverse: bool = False,
               limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """One Dijkstra per row of start arcs (a snapped point's departures), on the graph or its reverse.

        Returns (seconds, predecessors), each (len(rows), n_nodes); a predecessor
        ``>= n_nodes`` is the row's own start point.  ``limit`` bounds the search:
        nodes beyond it stay at infinity.
        """
        n = self.n_nodes
        if not rows:
            return np.zeros((0, n)), np.zeros((0, n), dtype=np.int32)
        dist, pred = dijkstra(self.with_virtual(rows, reverse=reverse), directed=True,
                              indices=np.arange(n, n + len(rows)), limit=limit, return_predecessors=True)
        return np.atleast_2d(dist)[:, :n], np.atleast_2d(pred)[:, :n]


def seconds(merged: dict[int, tuple[float, Snap]]) -> dict[int, float]:
    """The node -> seconds part of a departures_any/arrivals_any answer (start arcs of a search)."""
    return {node: secs for node, (secs, _) in merged.items()}


def put_min(d: dict[int, float], key: int, value: float) -> None:
    """Keep the smaller of ``d[key]`` and ``value`` (the relaxation step of every search here)."""
    if value < d.get(key, math.inf):
        d[key] = float(value)


def path_to(pred: np.ndarray, last: int, n_nodes: int) -> list[int]:
    """Real node indices from the search's first real node to ``last``, read from a predecessor row.

    Predecessors ``>= n_nodes`` are virtual start nodes and ``< 0`` means none: both end the walk.
    """
    path = [int(last)]
    while 0 <= pred[path[-1]] < n_nodes:
        path.append(int(pred[path[-1]]))
    return path[::-1]
