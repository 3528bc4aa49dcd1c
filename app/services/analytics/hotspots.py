"""Hotspots: Getis-Ord Gi* and Local Moran's I on incident counts per kelurahan or per hexagon.

Two units because they answer different questions: kelurahan are where the
lurah and the budget are (queen contiguity from the polygons), hexagons are
equal-area so a big kelurahan does not win just by being big (a flat-topped
grid in the metric CRS, anchored at its origin so a cell keeps its id between
queries).  Counts, not rates: a planted crime hotspot at a bus terminal has
few residents and would vanish in a per-capita map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics import spatialstats as S
from app.services.analytics.common import COUNTED, NOT_COUNTED, Window, check_categories, check_choice, check_range
from app.services.errors import InvalidInput

UNITS = ("kelurahan", "hex")
NULLS = ("conditional", "total")
# 9999, not 999: a pseudo p-value cannot go below 1/(R+1), and Benjamini-Hochberg over
# a few hundred hexagons needs p around 1e-4 before anything can pass at 95%.
DEFAULT_PERMUTATIONS = 9999
MAX_HEXES = 20_000
DEFAULT_SEED = 112

KELURAHAN_SQL = text(f"""
    SELECT a.id, a.code, a.name, a.population, p.code AS kecamatan_code, p.name AS kecamatan_name,
           ST_AsGeoJSON(a.geom, 6) AS geojson, COALESCE(n.n, 0) AS n
    FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id
    LEFT JOIN (SELECT f.kelurahan_id, count(*) AS n FROM incident_facts f WHERE {COUNTED}
               GROUP BY f.kelurahan_id) n ON n.kelurahan_id = a.id
    WHERE a.level = 'kelurahan'
    ORDER BY a.code
""")

# Queen contiguity: polygons sharing at least one point (an edge or a corner).
QUEEN_SQL = text("""
    SELECT a.code AS a, b.code AS b
    FROM admin_areas a JOIN admin_areas b
      ON a.level = 'kelurahan' AND b.level = 'kelurahan' AND a.id < b.id
     AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
""")

UNASSIGNED_SQL = text(f"SELECT count(*) FROM incident_facts f WHERE f.kelurahan_id IS NULL AND {COUNTED}")

CITY_UTM_SQL = text("""
    SELECT ST_AsBinary(ST_Transform(ST_Union(geom), CAST(:epsg AS integer))) AS city
    FROM admin_areas WHERE level = 'kelurahan'
""")

POINTS_UTM_SQL = text(f"""
    SELECT ST_X(g) AS x, ST_Y(g) AS y
    FROM (SELECT ST_Transform(f.geom, CAST(:epsg AS integer)) AS g FROM incident_facts f
          WHERE f.geom IS NOT NULL AND {COUNTED}) s
""")


@dataclass(frozen=True)
class HotspotQuery:
    window: Window
    categories: list[str] | None = None
    unit: str = "kelurahan"
    hex_m: float = 500.0
    permutations: int = DEFAULT_PERMUTATIONS
    seed: int = DEFAULT_SEED
    null: str = "conditional"


def hotspots(session: Session, q: HotspotQuery, utm_epsg: int = 32749) -> dict[str, Any]:
    """Gi* and Local Moran's I per unit as a GeoJSON FeatureCollection, with parameters and window."""
    check_choice(q.unit, UNITS, "unit")
    check_range(q.hex_m, 50, 5000, "hex_m")
    check_range(q.permutations, 0, 99_999, "permutations")
    check_choice(q.null, NULLS, "null")
    cats = check_categories(session, q.categories)
    params = {"since": q.window.since, "until": q.window.until, "categories": cats}
    if q.unit == "kelurahan":
        units, y, adj, dropped = _kelurahan_units(session, params)
    else:
        units, y, adj, dropped = _hex_units(session, params, q.hex_m, utm_epsg)
    n = len(y)
    if n < 3:
        raise InvalidInput("need at least three units (kelurahan or hexagons) to look for hotspots", "unit")
    card = np.diff(adj.indptr)
    ids = None
    if q.permutations and card.max() > 0:  # one set of draws for both statistics, as esda would make
        ids = S.permutation_ids(n, min(int(card.max()), n - 1), q.permutations, q.seed)
    gi = S.gi_star(y, adj, q.permutations, q.seed, null=q.null, ids=ids)
    lm = S.local_moran(y, adj, q.permutations, q.seed, ids=ids)
    use_sim = q.permutations > 0
    gi_p2 = np.minimum(1.0, 2.0 * gi.p_sim) if use_sim else gi.p_norm
    gi_fdr = S.bh_fdr(gi_p2)
    gi_class = S.classify(gi.z, gi_fdr)
    lm_p2 = np.minimum(1.0, 2.0 * lm.p_sim) if use_sim else 2.0 * _norm_sf(np.abs(lm.z_norm))
    lm_fdr = S.bh_fdr(lm_p2)
    features = []
    for k, u in enumerate(units):
        props = {**u["props"], "count": int(y[k]), "neighbours": int(card[k]),
                 "gi_star": {"G": _f(gi.G[k]), "z": _f(gi.z[k]), "p_norm": _f(gi.p_norm[k]),
                             "p_sim": _f(gi.p_sim[k]), "p_fdr": _f(gi_fdr[k]), "class": gi_class[k]},
                 "local_moran": {"I": _f(lm.I[k]), "z": _f(lm.z_norm[k]), "p_sim": _f(lm.p_sim[k]),
                                 "p_fdr": _f(lm_fdr[k]), "quadrant": str(lm.quadrant[k]),
                                 "cluster": str(lm.quadrant[k]) if lm_fdr[k] <= 0.05 else "not_significant"}}
        features.append({"type": "Feature", "id": u["id"], "geometry": u["geometry"], "properties": props})
    summary = {
        "units": n, "incidents": int(y.sum()), "not_in_any_unit": dropped,
        "hot": sum(c.startswith("hot") for c in gi_class), "cold": sum(c.startswith("cold") for c in gi_class),
        "islands": int((card == 0).sum()),
        # no pseudo p-value goes below this; with many units raise ``permutations``
        "p_sim_floor": round(1.0 / (q.permutations + 1), 8) if use_sim else None,
    }
    return {
        "type": "FeatureCollection", "features": features,
        "parameters": {"category": cats, "unit": q.unit, "hex_m": q.hex_m if q.unit == "hex" else None,
                       "permutations": q.permutations, "seed": q.seed, "null": q.null, "weights":
                       "queen contiguity" if q.unit == "kelurahan" else "hexagon edge contiguity",
                       "gi_star": "focal unit included, row-standardised; z from Getis-Ord general moments",
                       "significance": (f"{q.null} permutation p (two-sided), Benjamini-Hochberg FDR"
                                        if use_sim else "normal approximation p, Benjamini-Hochberg FDR"),
                       "excludes": list(NOT_COUNTED)},
        "window": q.window.to_dict(),
        "summary": summary,
    }


def _f(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 10)


def _norm_sf(x: np.ndarray) -> np.ndarray:
    from scipy import stats

    return stats.norm.sf(x)


def _kelurahan_units(session: Session, params: dict[str, Any]) -> tuple[list[dict], np.ndarray, Any, int]:
    rows = session.execute(KELURAHAN_SQL, params).mappings().all()
    index = {r["code"]: k for k, r in enumerate(rows)}
    pairs = [(index[a], index[b]) for a, b in session.execute(QUEEN_SQL).all()]
    adj = S.adjacency(len(rows), pairs)
    units = [{"id": r["code"], "geometry": json.loads(r["geojson"]),
              "props": {"unit": "kelurahan", "code": r["code"], "name": r["name"], "population": r["population"],
                        "kecamatan_code": r["kecamatan_code"], "kecamatan_name": r["kecamatan_name"]}}
             for r in rows]
    y = np.array([r["n"] for r in rows], dtype=float)
    dropped = int(session.execute(UNASSIGNED_SQL, params).scalar_one())
    return units, y, adj, dropped


def _hex_units(session: Session, params: dict[str, Any], size: float,
               epsg: int) -> tuple[list[dict], np.ndarray, Any, int]:
    city_wkb = session.execute(CITY_UTM_SQL, {"epsg": epsg}).scalar_one()
    if city_wkb is None:
        raise InvalidInput("no kelurahan are loaded, so there is no city to cover with hexagons", "unit")
    city = shapely.from_wkb(bytes(city_wkb))
    qs, rs = S.hex_cells_covering(city.bounds, size)
    if len(qs) > MAX_HEXES * 4:
        raise InvalidInput(f"hex_m={size:g} makes too many hexagons for this city; use a larger size", "hex_m")
    cx, cy = S.hex_centre(qs, rs, size)
    polys = np.array([shapely.Polygon(S.hex_polygon_coords(x, y, size)) for x, y in zip(cx, cy, strict=True)])
    shapely.prepare(city)
    keep = shapely.intersects(city, polys) & (shapely.area(shapely.intersection(city, polys)) > 0)
    qs, rs, cx, cy, polys = qs[keep], rs[keep], cx[keep], cy[keep], polys[keep]
    if len(qs) > MAX_HEXES:
        raise InvalidInput(f"hex_m={size:g} makes {len(qs)} hexagons (max {MAX_HEXES}); use a larger size", "hex_m")
    pts = session.execute(POINTS_UTM_SQL, {**params, "epsg": epsg}).all()
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(qs, rs, strict=True))}
    y = np.zeros(len(qs))
    dropped = 0
    if pts:
        arr = np.asarray(pts, dtype=float)
        pq, pr = S.hex_axial(arr[:, 0], arr[:, 1], size)
        for (a, b), c in zip(*np.unique(np.column_stack([pq, pr]), axis=0, return_counts=True), strict=True):
            k = index.get((int(a), int(b)))
            if k is None:
                dropped += int(c)
            else:
                y[k] += c
    adj = S.hex_adjacency(qs, rs)
    to_ll = Transformer.from_crs(epsg, 4326, always_xy=True)
    units = []
    for k, poly in enumerate(polys):
        xs, ys = np.asarray(poly.exterior.coords).T
        lon, lat = to_ll.transform(xs, ys)
        clon, clat = to_ll.transform(cx[k], cy[k])
        hid = f"{int(qs[k])},{int(rs[k])}"
        units.append({"id": hid, "geometry": {"type": "Polygon", "coordinates": [
            [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]]},
            "props": {"unit": "hex", "hex": hid, "q": int(qs[k]), "r": int(rs[k]),
                      "centre": [round(float(clon), 6), round(float(clat), 6)]}})
    return units, y, adj, dropped
