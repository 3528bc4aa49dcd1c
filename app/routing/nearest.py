"""Nearest responders and point-to-point routes by drive time: the routing service.

Units at their station are answered from the agency's station table (an array
lookup, see cache.py).  Units away from their station (last AVL position) are
answered with one *reverse* Dijkstra from the incident, bounded by the k-th best
station ETA, which serves all such units at once instead of one search per unit.

Points (incidents, stations, units) are snapped to the nearest road *edge*, not node:
travel from a point runs along the rest of its edge (only in directions the edge
allows, so one-way streets are respected), which is what pgRouting's withPoints
functions do.  Answers agree with pgr_dijkstra / pgr_withPointsCost (tests check it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sqlalchemy.orm import Session

from app.routing import cache, store
from app.routing.geometry import leg, linestring, straight_m
from app.routing.graph import RoadGraph, Snap, path_to, seconds
from app.services.errors import InvalidInput

AT_STATION_M = 75.0          # a unit closer than this to its station is routed from the station
MOBILE_SEARCH_CAP_S = 4 * 3600.0  # bound of the reverse search when stations give no k-th ETA
FALLBACK_SPEED_KMH = 25.0    # straight-line fallback ETA: urban speed ...
FALLBACK_DETOUR = 1.4        # ... times a typical road-detour factor
KNN_OVERFETCH = 10           # extra KNN rows before exact geodesic re-ranking
MOBILE_FIRST_LIMIT_S = 600.0  # first bound of the reverse search; doubled until k units are found
K_MAX = 50
BY_VALUES = ("time", "distance")


@dataclass
class _Cand:
    row: dict[str, Any]
    lon: float
    lat: float
    mobile: bool = False
    eta: float = math.inf
    ties: list[Snap] = field(default_factory=list)  # where it starts: every equally near edge
    # how to rebuild the path: ("table", table, row, arrival node) | ("rev", departure node)
    # | ("direct", start snap, end snap)
    via: tuple[Any, ...] = ()


def _candidate_out(c: dict[str, Any], *, eta: float | None, distance_m: float | None, straight: float,
                   route: dict[str, Any] | None, position: str) -> dict[str, Any]:
    status = c.get("status")
    return {  # the same keys in every mode, so callers never branch on the method
        "kind": "unit" if c.get("unit_id") is not None else "station",
        "unit_id": c.get("unit_id"), "callsign": c.get("callsign"), "unit_type": c.get("unit_type"),
        "station_id": c.get("station_id"), "station_name": c.get("station_name"), "agency": c["agency"],
        "status": status, "available": status in (None, "available"),
        "eta_s": None if eta is None else round(eta, 1),
        "distance_m": None if distance_m is None else round(distance_m, 1),
        "straight_m": round(straight, 1), "position": position, "route": route,
    }


def _straight_line(session: Session, lat: float, lon: float, agency: str | None, k: int,
                   unit_type: str | None, include_busy: bool, estimate: bool) -> list[dict[str, Any]]:
    out = []
    for r in store.knn_candidates(session, lat, lon, agency, k, unit_type, include_busy, KNN_OVERFETCH):
        d = float(r["straight_m"])
        eta = d * FALLBACK_DETOUR / (FALLBACK_SPEED_KMH / 3.6) if estimate else None
        line = linestring([(float(r["lon"]), float(r["lat"])), (lon, lat)])
        out.append(_candidate_out(r, eta=eta, distance_m=d, straight=d, route=line, position="straight_line"))
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
    units, stations = store.candidates(session, agency, unit_type, include_busy, AT_STATION_M)
    if not units and not stations:
        return {"method": "drive_time", "candidates": []}

    def fallback(reason: str) -> dict[str, Any]:
        return _fallback(session, lat, lon, agency, k, unit_type, include_busy, reason)

    state = cache.state(session)
    g = state.graph
    if g is None:
        return fallback("no road network loaded")
    target = store.snap_ties(session, g, [(0, lon, lat)]).get(0)
    if not target:
        return fallback(f"no road within {store.MAX_SNAP_M:g} m of the point")
    arrive_at = g.arrivals_any(target)  # a point on an intersection may be reached by any edge there
    arrive = seconds(arrive_at)

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
        if row is None or not table.ties[row]:
            continue
        c.ties = table.ties[row]
        for node, secs in arrive.items():
            t = float(table.dist[row, node]) + secs
            if t < c.eta:
                c.eta, c.via = t, ("table", table, row, node)
        d, sa, sb = g.direct_any(c.ties, target)
        if d <= c.eta:
            c.eta, c.via = d, ("direct", sa, sb)

    # Units on the road: one reverse Dijkstra from the incident, its bound grown until k are in.
    rev_pred = None
    exhaustive = not mobile  # did the reverse search run without a bound from the stations?
    if mobile:
        finite = sorted(c.eta for c in at_station if math.isfinite(c.eta))
        cap = finite[k - 1] + 1.0 if len(finite) >= k else MOBILE_SEARCH_CAP_S
        ties = state.snap_positions(session, [(c.lon, c.lat) for c in mobile])
        limit = min(MOBILE_FIRST_LIMIT_S, cap)
        while True:
            dists, preds = g.search([arrive], reverse=True, limit=limit)
            dist, rev_pred = dists[0], preds[0]
            found = 0
            for c, t in zip(mobile, ties, strict=True):
                c.eta, c.ties = math.inf, t
                for node, (secs, _) in g.departures_any(t).items():
                    eta = secs + float(dist[node])
                    if eta < c.eta:
                        c.eta, c.via = eta, ("rev", node)
                d, sa, sb = g.direct_any(t, target)
                if d <= c.eta:
                    c.eta, c.via = d, ("direct", sa, sb)
                found += c.eta <= limit
            # Exact below the limit, unknown above it: stop once k answers lie below it.
            if found + sum(e <= limit for e in finite) >= k or limit >= cap:
                break
            limit = min(limit * 2, cap)
        exhaustive = limit >= MOBILE_SEARCH_CAP_S

    unreached = _unreached(g, cands, target, exhaustive)
    reachable = sorted((c for c in cands if math.isfinite(c.eta)),
                       key=lambda c: (c.eta, c.row.get("unit_id") or 0, c.row.get("station_id") or 0))
    if not reachable:
        return {**fallback("no candidate can reach the point by road"), "unreached": unreached}
    best = reachable[:k]
    straight = straight_m(lon, lat, [c.lon for c in best], [c.lat for c in best])
    out = []
    for c, sm in zip(best, straight, strict=True):
        nodes = _path_nodes(g, c.via, rev_pred)
        if c.via[0] == "direct":
            start, end = c.via[1], c.via[2]
        else:
            start, end = g.departures_any(c.ties)[nodes[0]][1], arrive_at[nodes[-1]][1]
        coords, metres = leg(g, start, nodes, end)
        position = "avl" if c.mobile else "station"
        out.append(_candidate_out(c.row, eta=c.eta, distance_m=metres, straight=sm,
                                  route=linestring(coords), position=position))
    return {"method": "drive_time", "candidates": out, "unreached": unreached}


def _unreached(g: RoadGraph, cands: list[_Cand], target: list[Snap], exhaustive: bool) -> list[dict[str, Any]]:
    """Candidates that cannot reach the point, and why, so none is dropped without notice.

    A unit on the road with no ETA is only listed when its search was not cut short by
    the stations' k-th ETA (then it is merely not among the nearest) or when the reason
    is certain whatever the bound: no road near it, or a start outside the main network.
    """
    point_in_main = g.in_main_component(list(seconds(g.arrivals_any(target))))
    out = []
    for c in cands:
        if math.isfinite(c.eta):
            continue
        what = "unit" if c.row.get("unit_id") is not None else "station"
        where = "last position" if c.mobile else "station"
        if not c.ties:
            reason, detail = "no_road", f"no road within {store.MAX_SNAP_M:g} m of its {where}"
        elif not g.in_main_component(list(seconds(g.departures_any(c.ties)))):
            reason, detail = ("outside_component", f"its {where} is on a road outside the main network "
                              "(a one-way trap or an island): it cannot get out")
        elif c.mobile and not exhaustive:
            continue
        elif not point_in_main:
            reason, detail = ("unreachable", "the point is on a road outside the main network "
                              "(a one-way trap or an island) that this " + what + " cannot enter")
        else:
            reason, detail = "unreachable", f"no road leads from its {where} to the point within the search bound"
        out.append({"kind": what, "unit_id": c.row.get("unit_id"), "callsign": c.row.get("callsign"),
                    "station_id": c.row.get("station_id"), "station_name": c.row.get("station_name"),
                    "agency": c.row["agency"], "reason": reason, "detail": detail})
    return out


def _path_nodes(g: RoadGraph, via: tuple[Any, ...], rev_pred: np.ndarray | None) -> list[int]:
    """Real node indices of a candidate's path, from its first node to its last."""
    if via[0] == "direct":
        return []
    if via[0] == "table":
        _, table, row, node = via
        return path_to(table.pred[row], node, g.n_nodes)
    assert rev_pred is not None  # the reverse tree leads from the departure node to the incident
    return path_to(rev_pred, via[1], g.n_nodes)[::-1]


def route(session: Session, from_latlon: tuple[float, float], to_latlon: tuple[float, float]) -> dict[str, Any]:
    """Fastest drive from one point to another: eta_s, distance_m and the GeoJSON LineString.

    ``method`` is ``drive_time``, or ``straight_line_fallback`` with a ``reason`` (and
    eta_s estimated from the straight line) when the network cannot answer.
    """
    (lat0, lon0), (lat1, lon1) = from_latlon, to_latlon
    straight = straight_m(lon1, lat1, [lon0], [lat0])[0]

    def fallback(reason: str) -> dict[str, Any]:
        return {"method": "straight_line_fallback", "reason": reason,
                "eta_s": round(straight * FALLBACK_DETOUR / (FALLBACK_SPEED_KMH / 3.6), 1),
                "distance_m": round(straight, 1), "straight_m": round(straight, 1),
                "route": linestring([(lon0, lat0), (lon1, lat1)])}

    g = cache.state(session).graph
    if g is None:
        return fallback("no road network loaded")
    ties = store.snap_ties(session, g, [(0, lon0, lat0), (1, lon1, lat1)])
    if 0 not in ties or 1 not in ties:
        where = "origin" if 0 not in ties else "destination"
        return fallback(f"no road within {store.MAX_SNAP_M:g} m of the {where}")
    leave, arrive = g.departures_any(ties[0]), g.arrivals_any(ties[1])
    dists, preds = g.search([seconds(leave)])
    dist, pred = dists[0], preds[0]
    eta, a, b = g.direct_any(ties[0], ties[1])
    last = None
    for node, (secs, _) in arrive.items():
        if dist[node] + secs < eta:
            eta, last = float(dist[node] + secs), node
    if not math.isfinite(eta):
        return fallback("the destination cannot be reached by road from the origin")
    nodes = [] if last is None else path_to(pred, last, g.n_nodes)
    if nodes:
        a, b = leave[nodes[0]][1], arrive[nodes[-1]][1]
    assert a is not None and b is not None
    coords, metres = leg(g, a, nodes, b)
    return {"method": "drive_time", "eta_s": round(eta, 1), "distance_m": round(metres, 1),
            "straight_m": round(straight, 1), "route": linestring(coords)}


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
    if agency is not None and not store.agency_exists(session, agency):
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
