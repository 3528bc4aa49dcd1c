"""Drive-time coverage of an agency's stations, who is left out, and where one more station helps most.

Reach times come from the routing cache's per-agency station tables (one
multi-source Dijkstra per agency, already cached for "nearest responder"), so an
isochrone costs array arithmetic and GEOS, not a graph search.

**Isochrone shape.**  Every road edge is reachable on ``[0, a]`` from its source
node, on ``[b, 1]`` from its target node (each only in a direction the edge allows)
and, on a station's own edge, around the station's snap point; with travel time
linear along an edge these fractions are exact.  The reachable edge pieces (cut at
the exact fraction) plus the station-to-road connector are buffered by
``BUFFER_M`` (50 m: the frontage a crew reaches on foot) in UTM and dissolved, then
simplified by ``SIMPLIFY_M``.  Chosen over a concave hull because a hull bridges
rivers, the railway and unreached blocks, claiming coverage the network does not
give; the buffer shows exactly the streets reached.

**Population.**  Kelurahan population is spread over the kelurahan's road edges in
proportion to their length (an edge belongs to the kelurahan holding its midpoint):
people live along streets, and it makes the population covered by a time budget
the same exact reachable-fraction sum that draws the polygon, and lets the siting
search be evaluated without polygon overlays.  A kelurahan with no road counts as
uncovered.  The area-weighted share (kelurahan area inside the target isochrone)
is reported next to it as a cross-check.

**One more station.**  Greedy maximal covering location: candidate sites are road
nodes outside the current target coverage (a station inside it duplicates what is
there), thinned to about ``candidates`` by a grid so they spread over the gaps.  One
bounded Dijkstra (scipy, ``limit=target``) runs *from* all candidates at once on the
directed graph, because a crew drives from the station to the call, like the
station tables; a candidate's gain is the population on the edges its reach
improves.  ``sites > 1`` repeats the greedy step with the chosen site added.
"""

from __future__ import annotations

import json
import math
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.routing import cache, geometry
from app.routing.graph import RoadGraph, Snap
from app.services import geocode
from app.services.analytics.common import IN_WINDOW, Window, check_agency
from app.services.errors import InvalidInput

DEFAULT_LEVELS = (4.0, 8.0, 12.0)
DEFAULT_TARGET = 8.0
MAX_MINUTES = 60.0
MAX_LEVELS = 6
BUFFER_M = 50.0
SIMPLIFY_M = 5.0
QUAD_SEGS = 2
DEFAULT_CANDIDATES = 300
MAX_CANDIDATES = 2000
MAX_SITES = 5
DIJKSTRA_CHUNK = 64  # candidates per scipy call: bounds memory to chunk x nodes floats
PER_VALUES = ("agency", "station")

# Edge -> kelurahan by the edge's midpoint (index-assisted point-in-polygon).
EDGE_KELURAHAN_SQL = text("""
SELECT e.id AS edge_id, a.id AS kelurahan_id
FROM road_edges e
JOIN admin_areas a ON a.level = 'kelurahan' AND ST_Intersects(a.geom, ST_LineInterpolatePoint(e.geom, 0.5))
""")
KELURAHAN_SQL = text("""
SELECT a.id, a.code, a.name, COALESCE(a.population, 0) AS population, p.name AS kecamatan,
       ST_AsBinary(ST_Transform(a.geom, CAST(:epsg AS integer))) AS wkb
FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id
WHERE a.level = 'kelurahan'
ORDER BY a.id
""")
# Cheap fingerprint of kelurahan boundaries and population: the demand cache is rebuilt when it moves.
AREAS_VERSION_SQL = text("""
SELECT count(*), COALESCE(sum(population), 0),
       md5(COALESCE(string_agg(id::text || ':' || COALESCE(population, 0) || ':' || md5(ST_AsEWKB(geom)::text),
                               ',' ORDER BY id), ''))
FROM admin_areas WHERE level = 'kelurahan'
""")
STATIONS_SQL = text("""
SELECT id, name, kind, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stations WHERE agency_code = :agency ORDER BY id
""")
# The agency's calls in the window and how many fell inside the target isochrone.
INCIDENTS_INSIDE_SQL = text(f"""
WITH iso AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS g)
SELECT count(*) AS total, count(*) FILTER (WHERE ST_Intersects(iso.g, f.geom)) AS inside
FROM incident_facts f JOIN incident_tasks t ON t.incident_id = f.id AND t.agency_code = :agency, iso
WHERE f.geom IS NOT NULL AND f.is_counted AND {IN_WINDOW}
""")


# -- per-graph geometry and demand, cached ----------------------------------------------------
@dataclass
class _GraphGeo:
    edges_utm: np.ndarray      # shapely LineStrings in UTM, graph edge order
    node_lonlat: np.ndarray    # (n, 2)
    node_xy: np.ndarray        # (n, 2) UTM


@dataclass
class _Demand:
    version: tuple[Any, ...]
    kel_id: np.ndarray
    kel_code: list[str]
    kel_name: list[str]
    kel_kecamatan: list[str | None]
    kel_pop: np.ndarray
    kel_geom: np.ndarray       # UTM polygons
    edge_kel: np.ndarray       # index into kel_* per graph edge, -1 outside every kelurahan
    edge_w: np.ndarray         # people per graph edge


_GEO: weakref.WeakKeyDictionary[RoadGraph, _GraphGeo] = weakref.WeakKeyDictionary()
_DEMAND: weakref.WeakKeyDictionary[RoadGraph, _Demand] = weakref.WeakKeyDictionary()


def _graph_geo(g: RoadGraph) -> _GraphGeo:
    geo = _GEO.get(g)
    if geo is None:
        utm = geometry.to_metric(g.edge_geoms, g.utm_epsg)
        ll = np.zeros((g.n_nodes, 2))
        xy = np.zeros((g.n_nodes, 2))
        for idx, end in ((g.edge_src, 0), (g.edge_tgt, -1)):
            ll[idx] = shapely.get_coordinates(shapely.get_point(g.edge_geoms, end))
            xy[idx] = shapely.get_coordinates(shapely.get_point(utm, end))
        geo = _GEO[g] = _GraphGeo(utm, ll, xy)
    return geo


def _demand(session: Session, g: RoadGraph) -> _Demand:
    version = tuple(session.execute(AREAS_VERSION_SQL).one())
    d = _DEMAND.get(g)
    if d is not None and d.version == version:
        return d
    kel = session.execute(KELURAHAN_SQL, {"epsg": g.utm_epsg}).all()
    kel_id = np.array([r.id for r in kel], dtype=np.int64)
    pos = {int(k): i for i, k in enumerate(kel_id)}
    edge_kel = np.full(len(g.edge_ids), -1, dtype=np.int64)
    for edge_id, kid in session.execute(EDGE_KELURAHAN_SQL):
        e = g.edge_index(edge_id)
        if e is not None and edge_kel[e] < 0:
            edge_kel[e] = pos[int(kid)]
    pop = np.array([float(r.population) for r in kel])
    inside = edge_kel >= 0
    km = np.bincount(edge_kel[inside], weights=g.edge_len[inside], minlength=len(kel))
    edge_w = np.zeros(len(g.edge_ids))
    edge_w[inside] = pop[edge_kel[inside]] * g.edge_len[inside] / np.where(km > 0, km, 1)[edge_kel[inside]]
    d = _DEMAND[g] = _Demand(version, kel_id, [r.code for r in kel], [r.name for r in kel],
                             [r.kecamatan for r in kel], pop,
                             shapely.from_wkb(np.array([bytes(r.wkb) for r in kel], dtype=object)),
                             edge_kel, edge_w)
    return d


# -- reach ------------------------------------------------------------------------------------
@dataclass
class Reach:
    """Seconds to every graph node from a set of stations, and where those stations sit on their edges."""

    graph: RoadGraph
    times: np.ndarray                                  # float64 (n_nodes,)
    snaps: list[tuple[int, Snap]]              # (station_id, snap)


def reach(session: Session, agency: str, station_ids: list[int] | None = None) -> Reach:
    """Node reach times of an agency (or some of its stations) from the cached station table."""
    state = cache.state(session)
    g = state.graph
    if g is None:
        raise InvalidInput("no road network is loaded", "agency")
    times, snaps = state.table(session, agency).reach(station_ids)
    return Reach(g, times, snaps)


def isochrone(session: Session, agency: str, minutes: float, station_ids: list[int] | None = None) -> Any:
    """The drive-time polygon (metric CRS) of an agency's stations, or some of them, within ``minutes``.

    Remembered on the agency's station table, so it lives exactly as long as the
    reach times it is drawn from: new roads or stations build a new table and the
    polygon is drawn again.  Drawing costs a GEOS buffer and union of the reached
    edges (~0.5 s on the city); the dashboard and coverage ask the same few shapes
    over and over, and then they cost a dictionary lookup.
    """
    state = cache.state(session)
    g = state.graph
    if g is None:
        raise InvalidInput("no road network is loaded", "agency")
    table = state.table(session, agency)
    key = ("isochrone", None if station_ids is None else tuple(sorted(station_ids)), float(minutes))

    def draw() -> Any:
        times, snaps = table.reach(station_ids)
        secs = float(minutes) * 60.0
        lo, hi = _extras(g, snaps, secs)
        geo = _graph_geo(g)
        return _polygon(_pieces(g, geo, times, secs, lo, hi) + _connectors(g, geo, snaps))

    return table.remember(key, draw)


def _extras(g: RoadGraph, snaps: list[tuple[int, Snap]], limit: float) -> tuple[np.ndarray, ...]:
    """Per edge, the stretch reached straight from a station snapped on it ([lo, hi], empty as lo=1, hi=0)."""
    lo = np.ones(len(g.edge_ids))
    hi = np.zeros(len(g.edge_ids))
    for _, s in snaps:
        c, rc = g.edge_cost[s.edge], g.edge_rcost[s.edge]
        f_hi = min(1.0, s.fraction + limit / c) if c > 0 else (1.0 if c == 0 else s.fraction)
        f_lo = max(0.0, s.fraction - limit / rc) if rc > 0 else (0.0 if rc == 0 else s.fraction)
        e = s.edge
        if hi[e] < lo[e] or (f_lo <= hi[e] and f_hi >= lo[e]):
            lo[e], hi[e] = (f_lo, f_hi) if hi[e] < lo[e] else (min(lo[e], f_lo), max(hi[e], f_hi))
        elif f_hi - f_lo > hi[e] - lo[e]:  # two disjoint stretches on one edge: keep the longer (rare)
            lo[e], hi[e] = f_lo, f_hi
    return lo, hi


def _ends(g: RoadGraph, times: np.ndarray, limit: float,
          edges: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Fractions a, b: an edge is reached on [0, a] from its source and on [b, 1] from its target."""
    tu, tv = times[g.edge_src[edges]], times[g.edge_tgt[edges]]
    c, rc = g.edge_cost[edges], g.edge_rcost[edges]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where((c >= 0) & (tu <= limit), np.clip((limit - tu) / np.maximum(c, 1e-9), 0, 1), 0.0)
        b = np.where((rc >= 0) & (tv <= limit), 1 - np.clip((limit - tv) / np.maximum(rc, 1e-9), 0, 1), 1.0)
    return a, b


def _fraction(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Length share of [0, a] u [b, 1] u [lo, hi] (the first two disjoint unless a >= b)."""
    ext = np.maximum(hi - lo, 0)
    ov1 = np.maximum(np.minimum(hi, a) - lo, 0)
    ov2 = np.maximum(hi - np.maximum(lo, b), 0)
    return np.where(a >= b, 1.0, np.clip(a + (1 - b) + ext - ov1 - ov2, 0, 1))


def _pieces(g: RoadGraph, geo: _GraphGeo, times: np.ndarray, limit: float,
            lo: np.ndarray, hi: np.ndarray) -> list[Any]:
    """UTM line pieces reached within ``limit``: whole edges, and partial ones cut at the exact fraction."""
    a, b = _ends(g, times, limit)
    frac = _fraction(a, b, lo, hi)
    full = frac >= 1 - 1e-9
    out = list(geo.edges_utm[full])
    for e in np.flatnonzero((frac > 1e-9) & ~full).tolist():
        spans = sorted(s for s in ((0.0, a[e]), (b[e], 1.0), (lo[e], hi[e])) if s[1] - s[0] > 1e-9)
        merged: list[list[float]] = []
        for s0, s1 in spans:
            if merged and s0 <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], s1)
            else:
                merged.append([s0, s1])
        out += [substring(geo.edges_utm[e], s0, s1, normalized=True) for s0, s1 in merged]
    return out


def _polygon(pieces: list[Any]) -> Any:
    """Buffer each piece, then one cascaded union: on the city network ~0.5 s, where buffering the
    whole collection in one GEOS call took ~10 s and noding the lines first ~4 s (measured)."""
    if not pieces:
        return shapely.Polygon()
    geom = shapely.union_all(shapely.buffer(np.array(pieces, dtype=object), BUFFER_M, quad_segs=QUAD_SEGS))
    return shapely.simplify(geom, SIMPLIFY_M, preserve_topology=True)


def _connectors(g: RoadGraph, geo: _GraphGeo, snaps: list[tuple[int, Snap]]) -> list[Any]:
    """Station yard to its road: the station itself belongs to its isochrone."""
    to_utm, _ = geometry.transformers(g.utm_epsg)
    out = []
    for _, s in snaps:
        x, y = to_utm.transform(s.lon, s.lat)
        on_road = shapely.line_interpolate_point(geo.edges_utm[s.edge], s.fraction, normalized=True)
        out.append(shapely.LineString([(x, y), on_road.coords[0]]))
    return out


def _to_geojson(geom: Any, epsg: int) -> dict[str, Any]:
    ll = geometry.to_lonlat(geom, epsg)
    return json.loads(shapely.to_geojson(shapely.set_precision(ll, 1e-6)))


# -- parameters -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageQuery:
    agency: str
    minutes: float = DEFAULT_TARGET
    levels: tuple[float, ...] = DEFAULT_LEVELS
    per: str = "agency"
    candidates: int = DEFAULT_CANDIDATES
    sites: int = 1
    window: Window | None = None


def check_minutes(value: float, field: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 < value <= MAX_MINUTES):
        raise InvalidInput(f"{field} must be minutes in (0, {MAX_MINUTES:g}]", field)
    return float(value)


def parse_levels(raw: str | None) -> tuple[float, ...]:
    """``"4,8,12"`` -> (4.0, 8.0, 12.0); 422 naming ``levels`` on anything else."""
    if raw is None or not raw.strip():
        return DEFAULT_LEVELS
    try:
        vals = [float(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise InvalidInput("levels must be comma-separated minutes, e.g. 4,8,12", "levels") from None
    if not vals or len(vals) > MAX_LEVELS:
        raise InvalidInput(f"levels must list 1 to {MAX_LEVELS} values", "levels")
    return tuple(sorted({check_minutes(v, "levels") for v in vals}))


def _check(session: Session, q: CoverageQuery) -> None:
    if not q.agency:
        raise InvalidInput("agency is required (e.g. DAMKAR)", "agency")
    check_agency(session, q.agency)
    check_minutes(q.minutes, "minutes")
    for v in q.levels:
        check_minutes(v, "levels")
    if not q.levels or len(q.levels) > MAX_LEVELS:
        raise InvalidInput(f"levels must list 1 to {MAX_LEVELS} values", "levels")
    if q.per not in PER_VALUES:
        raise InvalidInput(f"per must be one of {'|'.join(PER_VALUES)}", "per")
    if not 1 <= q.candidates <= MAX_CANDIDATES:
        raise InvalidInput(f"candidates must be between 1 and {MAX_CANDIDATES}", "candidates")
    if not 0 <= q.sites <= MAX_SITES:
        raise InvalidInput(f"sites must be between 0 and {MAX_SITES}", "sites")


# -- siting -----------------------------------------------------------------------------------
def candidate_nodes(g: RoadGraph, geo: _GraphGeo, times: np.ndarray, limit: float, n: int) -> np.ndarray:
    """About ``n`` uncovered two-way nodes, one per grid cell, spread over the gaps."""
    # A station needs a two-way street in front (a site on a one-way street starts its crews one
    # way only, and is not where planners put one); and at least two roads, not a dead end.
    one_way = (g.edge_cost < 0) | (g.edge_rcost < 0)
    bad = np.bincount(np.concatenate([g.edge_src[one_way], g.edge_tgt[one_way]]), minlength=g.n_nodes) > 0
    degree = np.bincount(np.concatenate([g.edge_src, g.edge_tgt]), minlength=g.n_nodes)
    pool = np.flatnonzero((times > limit) & ~bad & (degree >= 2))
    if len(pool) <= n:
        return pool
    xy = geo.node_xy[pool]
    x0, y0 = xy.min(axis=0)
    w, h = np.ptp(xy[:, 0]) + 1.0, np.ptp(xy[:, 1]) + 1.0
    cell = math.sqrt(w * h / n)
    chosen = pool[:0]
    for _ in range(12):  # shrink the cells until about n of them hold a node
        ix = ((xy[:, 0] - x0) // cell).astype(np.int64)
        iy = ((xy[:, 1] - y0) // cell).astype(np.int64)
        key = ix * 1_000_003 + iy
        centre = np.column_stack([x0 + (ix + 0.5) * cell, y0 + (iy + 0.5) * cell])
        d = np.hypot(*(xy - centre).T)
        order = np.lexsort((pool, d, key))
        first = np.ones(len(order), bool)
        first[1:] = key[order][1:] != key[order][:-1]
        chosen = np.sort(pool[order[first]])
        if len(chosen) >= 0.85 * n:
            break
        cell *= math.sqrt(len(chosen) / n)
    return chosen[:max(n, 1)] if len(chosen) > n * 1.2 else chosen


def _site_reach(g: RoadGraph, cands: np.ndarray, limit: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sparse (nodes, seconds) reached within ``limit`` from each candidate, in bounded chunks."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(0, len(cands), DIJKSTRA_CHUNK):
        dist = dijkstra(g.csr, directed=True, indices=cands[i:i + DIJKSTRA_CHUNK], limit=limit)
        for row in np.atleast_2d(dist):
            idx = np.flatnonzero(np.isfinite(row))
            out.append((idx, row[idx]))
    return out


def _greedy(g: RoadGraph, geo: _GraphGeo, dem: _Demand, times: np.ndarray, lo: np.ndarray,
            hi: np.ndarray, limit: float, n_cand: int, sites: int) -> tuple[list[dict[str, Any]], int, np.ndarray]:
    """Greedy maximal covering: each round adds the candidate covering the most not-yet-covered people."""
    cands = candidate_nodes(g, geo, times, limit, n_cand)
    reached = _site_reach(g, cands, limit)
    cur = times.copy()
    a, b = _ends(g, cur, limit)
    frac = _fraction(a, b, lo, hi)
    chosen: list[dict[str, Any]] = []
    taken: set[int] = set()
    improved = np.zeros(g.n_nodes, bool)
    for _ in range(sites):
        best, best_gain, best_edges, best_frac = -1, 0.0, None, None
        for j, (idx, secs) in enumerate(reached):
            if j in taken:
                continue
            gets = secs < cur[idx]
            better = idx[gets]
            if not len(better):
                continue
            improved[better] = True
            edges = np.flatnonzero(improved[g.edge_src] | improved[g.edge_tgt])
            improved[better] = False
            saved = cur[better].copy()
            cur[better] = secs[gets]
            a_e, b_e = _ends(g, cur, limit, edges)
            cur[better] = saved
            f_new = _fraction(a_e, b_e, lo[edges], hi[edges])
            gain = float((dem.edge_w[edges] * (f_new - frac[edges])).sum())
            if gain > best_gain + 1e-9:
                best, best_gain, best_edges, best_frac = j, gain, edges, f_new
        if best < 0:
            break
        taken.add(best)
        idx, secs = reached[best]
        np.minimum.at(cur, idx, secs)
        frac[best_edges] = best_frac
        node = int(cands[best])
        chosen.append({"node_index": node, "gain": best_gain})
    return chosen, len(cands), cur


# -- the analysis ----------------------------------------------------------------------------
def coverage(session: Session, q: CoverageQuery) -> dict[str, Any]:
    """Isochrones, population reached and missed, uncovered kelurahan and the best next station site."""
    _check(session, q)
    t0 = time.perf_counter()
    stations = {int(r.id): dict(r._mapping) for r in session.execute(STATIONS_SQL, {"agency": q.agency})}
    if not stations:
        raise InvalidInput(f"agency {q.agency} has no stations", "agency")
    r = reach(session, q.agency)
    g = r.graph
    epsg = g.utm_epsg
    geo = _graph_geo(g)
    dem = _demand(session, g)
    t_prep = time.perf_counter()

    limit = q.minutes * 60.0
    levels_s = sorted({*(v * 60.0 for v in q.levels), limit})
    total_pop = float(dem.kel_pop.sum())
    features: list[dict[str, Any]] = []
    by_level: list[dict[str, Any]] = []
    target_poly = None
    target_frac = None
    for secs in levels_s:
        lo, hi = _extras(g, r.snaps, secs)
        a, b = _ends(g, r.times, secs)
        frac = _fraction(a, b, lo, hi)
        covered = float((dem.edge_w * frac).sum())
        poly = isochrone(session, q.agency, secs / 60.0)
        if secs == limit:
            target_poly, target_frac = poly, frac
        if secs / 60.0 in q.levels:
            by_level.append({"minutes": secs / 60.0, "covered": round(covered), "uncovered": round(total_pop - covered),
                             "covered_share": round(covered / total_pop, 4) if total_pop else None,
                             "area_km2": round(poly.area / 1e6, 3)})
            if q.per == "agency":
                features.append({"type": "Feature", "id": f"{q.agency}-{secs / 60.0:g}",
                                 "geometry": _to_geojson(poly, epsg),
                                 "properties": {"kind": "isochrone", "agency": q.agency, "minutes": secs / 60.0,
                                                "population": round(covered), "area_km2": round(poly.area / 1e6, 3)}})
    if q.per == "station":
        for sid, _ in r.snaps:
            for minutes in q.levels:
                poly = isochrone(session, q.agency, minutes, [sid])
                features.append({"type": "Feature", "id": f"{sid}-{minutes:g}", "geometry": _to_geojson(poly, epsg),
                                 "properties": {"kind": "isochrone", "agency": q.agency, "station_id": sid,
                                                "station_name": stations[sid]["name"], "minutes": minutes,
                                                "area_km2": round(poly.area / 1e6, 3)}})
    t_iso = time.perf_counter()

    # Who is missed at the target: per kelurahan, by the road-length population model and by area.
    assert target_frac is not None and target_poly is not None
    inside = dem.edge_kel >= 0
    kel_cov = np.bincount(dem.edge_kel[inside], weights=(dem.edge_w * target_frac)[inside],
                          minlength=len(dem.kel_id))
    has_roads = np.bincount(dem.edge_kel[inside], minlength=len(dem.kel_id)) > 0
    area_share = shapely.area(shapely.intersection(dem.kel_geom, target_poly)) / np.maximum(
        shapely.area(dem.kel_geom), 1e-9)
    uncovered_kel = []
    for i in np.argsort(-(dem.kel_pop - kel_cov), kind="stable").tolist():
        missed = dem.kel_pop[i] - kel_cov[i]
        if missed < 0.5:
            continue
        uncovered_kel.append({
            "id": int(dem.kel_id[i]), "code": dem.kel_code[i], "name": dem.kel_name[i],
            "kecamatan": dem.kel_kecamatan[i], "population": int(dem.kel_pop[i]),
            "uncovered_population": round(missed),
            "covered_share": round(kel_cov[i] / dem.kel_pop[i], 4) if dem.kel_pop[i] else None,
            "area_covered_share": round(float(area_share[i]), 4), "has_roads": bool(has_roads[i])})
    covered_target = float(kel_cov.sum())

    proposals: list[dict[str, Any]] = []
    n_cands = 0
    if q.sites:
        lo, hi = _extras(g, r.snaps, limit)
        chosen, n_cands, _ = _greedy(g, geo, dem, r.times, lo, hi, limit, q.candidates, q.sites)
        running = covered_target
        for k, c in enumerate(chosen, 1):
            node = c["node_index"]
            lon, lat = (float(v) for v in geo.node_lonlat[node])
            where = geocode.reverse(session, lat, lon)
            proposals.append({
                "rank": k, "lat": round(lat, 6), "lon": round(lon, 6), "road_node_id": int(g.node_ids[node]),
                "street": where.get("street"), "kelurahan": where.get("kelurahan"),
                "kecamatan": where.get("kecamatan"),
                "reach_before_s": None if not math.isfinite(r.times[node]) else round(float(r.times[node]), 1),
                "added_population": round(c["gain"]),
                "covered_share_before": round(running / total_pop, 4) if total_pop else None,
                "covered_share_after": round((running + c["gain"]) / total_pop, 4) if total_pop else None})
            running += c["gain"]
    t_site = time.perf_counter()

    incidents = None
    if q.window is not None:
        wkb = shapely.to_wkb(geometry.to_lonlat(target_poly, epsg))
        row = session.execute(INCIDENTS_INSIDE_SQL, {"wkb": wkb, "agency": q.agency, "since": q.window.since,
                                                     "until": q.window.until}).one()
        incidents = {"window": q.window.to_dict(), "total": int(row.total), "inside_target": int(row.inside),
                     "inside_share": round(row.inside / row.total, 4) if row.total else None}

    unrouted = [sid for sid in stations if sid not in {s for s, _ in r.snaps}]
    for p in proposals:
        features.append({"type": "Feature", "id": f"proposed-{p['rank']}",
                         "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                         "properties": {"kind": "proposed_site", **p}})
    return {
        "agency": q.agency,
        "parameters": {"minutes": q.minutes, "levels": list(q.levels), "per": q.per, "candidates": q.candidates,
                       "sites": q.sites, "buffer_m": BUFFER_M, "simplify_m": SIMPLIFY_M, "crs": f"EPSG:{epsg}",
                       "isochrone_method": "reachable road edges (cut at the exact fraction) buffered and dissolved",
                       "population_model": "kelurahan population spread over its roads by length; "
                                           "covered = reachable share of each road",
                       "siting": "greedy maximal covering over road nodes outside the target coverage"},
        "data": {"computed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                 "stations": len(stations), "stations_routed": len(r.snaps), "stations_unrouted": unrouted,
                 "road_nodes": g.n_nodes, "road_edges": len(g.edge_ids), "kelurahan": len(dem.kel_id),
                 "incidents": incidents},
        "isochrones": {"type": "FeatureCollection", "features": features},
        "population": {"total": round(total_pop), "target_minutes": q.minutes, "covered": round(covered_target),
                       "uncovered": round(total_pop - covered_target),
                       "covered_share": round(covered_target / total_pop, 4) if total_pop else None,
                       "by_level": by_level},
        "uncovered_kelurahan": uncovered_kel,
        "proposed_sites": proposals,
        "proposed_site": proposals[0] if proposals else None,
        "runtime_s": {"prepare": round(t_prep - t0, 3), "isochrones": round(t_iso - t_prep, 3),
                      "siting": round(t_site - t_iso, 3), "total": round(time.perf_counter() - t0, 3),
                      "candidates_evaluated": n_cands},
    }


def as_feature_collection(res: dict[str, Any]) -> dict[str, Any]:
    """The GeoJSON view: isochrones and proposed sites as features, the rest as foreign members."""
    return {"type": "FeatureCollection", "features": res["isochrones"]["features"],
            **{k: v for k, v in res.items() if k != "isochrones"}}


