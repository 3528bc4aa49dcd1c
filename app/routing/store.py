"""Routing's SQL: reading the network, snapping points to it, candidates and fingerprints.

Every statement is a named block of app/routing/sql/routing.sql (read through
app/db/sqlfiles.py), so the queries that decide speed (KNN, snapping) are read and
EXPLAINed as SQL in one place.  Functions here return plain rows or graph objects;
they keep no state (that is cache.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.routing.graph import RoadGraph, Snap

MAX_SNAP_M = 1500.0          # a point farther than this from any road cannot be routed
SNAP_CANDIDATES = 8          # KNN edges examined exactly per snapped point
SNAP_TIE_M = 0.01            # edges this close to the nearest one are equally near (a point on a node)


def sql(name: str) -> TextClause:
    """A named statement from app/routing/sql/routing.sql."""
    return sqlfiles.statement("app.routing", "sql/routing.sql", name)


def one(session: Session, name: str, params: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The single row of a named statement as a tuple (fingerprints)."""
    return tuple(session.execute(sql(name), params or {}).one())


def build_graph(session: Session, utm_epsg: int) -> RoadGraph | None:
    """Read road_edges into a RoadGraph (None when no road network is loaded)."""
    rows = session.execute(sql("graph_edges")).all()
    if not rows:
        return None
    ids, src, tgt, cost, rcost, length, wkb = zip(*rows, strict=True)
    geoms = shapely.from_wkb(np.array([bytes(b) for b in wkb], dtype=object))
    return RoadGraph(np.array(ids), np.array(src), np.array(tgt), np.array(cost), np.array(rcost),
                     np.array(length), geoms, utm_epsg)


def snap_points(session: Session, graph: RoadGraph,
                points: Sequence[tuple[int, float, float]]) -> dict[int, Snap]:
    """Snap ``(key, lon, lat)`` points in one round trip; points beyond MAX_SNAP_M are left out.

    One edge per point (the nearest, lowest id on a tie): right for a departure,
    where any equally near edge leaves from the same spot.  Arrivals use
    :func:`snap_ties`.
    """
    return {k: v[0] for k, v in snap_ties(session, graph, points).items()}


def snap_ties(session: Session, graph: RoadGraph,
              points: Sequence[tuple[int, float, float]]) -> dict[int, list[Snap]]:
    """Like :func:`snap_points`, with every edge as near as the nearest (within SNAP_TIE_M).

    A point exactly on an intersection is as near to every edge meeting there; which
    one the route uses must be decided by travel time (a one-way edge may only be
    entered from one end), not by edge id.
    """
    if not points:
        return {}
    keys, lons, lats = (list(x) for x in zip(*points, strict=True))
    rows = session.execute(sql("snap_points"), {
        "keys": keys, "lons": lons, "lats": lats, "utm": graph.utm_epsg, "n": SNAP_CANDIDATES})
    by_key = {k: (lo, la) for k, lo, la in points}
    out: dict[int, list[Snap]] = {}
    for key, edge_id, dist_m, fraction in rows:
        idx = graph.edge_index(edge_id)
        if idx is None or dist_m > MAX_SNAP_M:
            continue
        got = out.get(key)
        if got and dist_m > got[0].snap_m + SNAP_TIE_M:
            continue
        lon, lat = by_key[key]
        out.setdefault(key, []).append(Snap(lon, lat, idx, min(max(float(fraction), 0.0), 1.0), float(dist_m)))
    return out


def agency_stations(session: Session, agency: str) -> list[tuple[int, float, float]]:
    """``(station id, lon, lat)`` of one agency's stations, by id."""
    return [(int(r.id), float(r.lon), float(r.lat))
            for r in session.execute(sql("agency_stations"), {"agency": agency})]


def candidates(session: Session, agency: str | None, unit_type: str | None, include_busy: bool,
               at_station_m: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(units, stations) that may respond; stations only stand in for agencies without units."""
    params = {"agency": agency, "unit_type": unit_type, "include_busy": include_busy,
              "at_station_m": at_station_m}
    units = [dict(r) for r in session.execute(sql("candidate_units"), params).mappings()]
    stations: list[dict[str, Any]] = []
    if unit_type is None:
        stations = [dict(r) for r in session.execute(sql("candidate_stations"), params).mappings()]
    return units, stations


def knn_candidates(session: Session, lat: float, lon: float, agency: str | None, k: int,
                   unit_type: str | None, include_busy: bool, overfetch: int) -> list[dict[str, Any]]:
    """The k straight-line nearest responders, ranked by geodesic distance."""
    return [dict(r) for r in session.execute(sql("knn_candidates"), {
        "lat": lat, "lon": lon, "agency": agency, "unit_type": unit_type, "include_busy": include_busy,
        "with_stations": unit_type is None, "n": k + overfetch, "k": k}).mappings()]


def agency_exists(session: Session, agency: str) -> bool:
    return session.execute(sql("agency_exists"), {"c": agency}).first() is not None
