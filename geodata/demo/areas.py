"""Kecamatan and kelurahan: a gap-free tiling of the land with names, codes, people and risks.

Kelurahan are relaxed Voronoi cells of random seeds clipped to the land (so they
tile it exactly); kecamatan are k-means groups of kelurahan.  The ``props`` flags
(coastal, riverside, lowlying, dense_kampung, hilly) drive where the history
puts floods, rob, fires and landslides, and are the ground truth that the
analytics must rediscover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.cluster.vq import kmeans2
from shapely.geometry import MultiPoint, MultiPolygon

from geodata.demo import names as N
from geodata.demo.frame import ScaleSpec
from geodata.demo.network import Terrain


def _multi(g: shapely.Geometry) -> MultiPolygon:
    polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(polys)


def _cells(points: np.ndarray, land: shapely.Geometry) -> np.ndarray:
    minx, miny, maxx, maxy = land.bounds
    env = shapely.box(minx - 1000, miny - 1000, maxx + 1000, maxy + 1000)
    vor = shapely.voronoi_polygons(MultiPoint(points), extend_to=env, ordered=True)
    return shapely.intersection(np.asarray(shapely.get_parts(vor)), land)


def build_areas(spec: ScaleSpec, terrain: Terrain, rng: np.random.Generator) -> pd.DataFrame:
    """One row per area (kecamatan first, then kelurahan), geometry in the local metric frame.

    Columns: level, code, name, parent (row index of the kecamatan, kelurahan only),
    population, props (dict), geom (MultiPolygon).
    """
    land = terrain.land
    shapely.prepare(land)
    minx, miny, maxx, maxy = land.bounds
    pts = np.empty((0, 2))
    while len(pts) < spec.kelurahan:
        cand = rng.uniform([minx, miny], [maxx, maxy], (spec.kelurahan * 3, 2))
        pts = np.vstack([pts, cand[shapely.contains_xy(land, cand[:, 0], cand[:, 1])]])
    pts = pts[: spec.kelurahan]
    for _ in range(5):  # Lloyd relaxation: even-sized, compact kelurahan
        cells = _cells(pts, land)
        pts = shapely.get_coordinates(shapely.point_on_surface(cells))
        cent = shapely.get_coordinates(shapely.centroid(cells))
        inside = shapely.contains_xy(land, cent[:, 0], cent[:, 1])
        pts[inside] = cent[inside]
    cells = _cells(pts, land)
    kel_geoms = [_multi(c) for c in cells]
    cxy = shapely.get_coordinates(shapely.centroid(cells))

    labels = None
    for attempt in range(20):
        _, lab = kmeans2(cxy, spec.kecamatan, minit="++", seed=np.random.default_rng(rng.integers(2**32) + attempt))
        if len(np.unique(lab)) == spec.kecamatan:
            labels = lab
            break
    if labels is None:  # pragma: no cover - k-means practically never leaves a group empty 20 times
        labels = np.arange(len(cxy)) % spec.kecamatan

    # codes go north-west to south-east, as a reader of the map would count them
    kec_geoms = [_multi(shapely.union_all([kel_geoms[i] for i in np.flatnonzero(labels == k)]))
                 for k in range(spec.kecamatan)]
    kec_c = shapely.get_coordinates(shapely.centroid(np.array(kec_geoms, dtype=object)))
    kec_order = np.lexsort((kec_c[:, 0], -np.round(kec_c[:, 1], -2)))
    kec_rank = np.empty(spec.kecamatan, int)
    kec_rank[kec_order] = np.arange(spec.kecamatan)
    kec_names = _kecamatan_names(kec_c, land, rng)

    coast = terrain.coast
    rivers = shapely.union_all([terrain.river_line(k) for k in range(spec.rivers)])
    kel_arr = np.array(kel_geoms, dtype=object)
    area_km2 = shapely.area(kel_arr) / 1e6
    coastal = shapely.dwithin(kel_arr, coast, 60.0)
    riverside = shapely.dwithin(kel_arr, rivers, 120.0)
    coast_at = terrain.coast_y(cxy[:, 0])
    dist_coast = coast_at - cxy[:, 1]
    low_band = 0.35 * terrain.height
    lowlying = (dist_coast < low_band) | (riverside & (dist_coast < 0.55 * terrain.height))
    kampung = terrain.kampung(cxy[:, 0], cxy[:, 1])
    dense = kampung > 0.5
    hilly = cxy[:, 1] < 0.15 * terrain.height
    flood = lowlying & riverside
    if flood.sum() < 2:  # the history needs flood-prone kelurahan; take the lowest riverside ones
        cand = np.flatnonzero(riverside)
        for i in cand[np.argsort(dist_coast[cand])][:2]:
            lowlying[i] = flood[i] = True
    density = np.where(dense, 24000.0, np.where(hilly, 5000.0, 11000.0))
    population = np.round(area_km2 * density * rng.lognormal(0, 0.25, len(cxy))).astype(int)

    kel_names = N.kelurahan_names(len(cxy), rng)
    rows: list[dict] = []
    for k in kec_order:
        rows.append(dict(level="kecamatan", code=f"{N.REGION_CODE}.{kec_rank[k] + 1:02d}", name=kec_names[k],
                         parent=-1, population=0, props={}, geom=kec_geoms[k]))
    kec_row = {int(k): r for r, k in enumerate(kec_order)}
    counters: dict[int, int] = {}
    kel_order = np.lexsort((cxy[:, 0], -np.round(cxy[:, 1], -2), kec_rank[labels]))
    for i in kel_order:
        k = int(labels[i])
        counters[k] = counters.get(k, 0) + 1
        props = {
            "coastal": bool(coastal[i]), "riverside": bool(riverside[i]), "lowlying": bool(lowlying[i]),
            "dense_kampung": bool(dense[i]), "hilly": bool(hilly[i]), "flood_prone": bool(flood[i]),
            "area_km2": round(float(area_km2[i]), 4),
        }
        rows.append(dict(level="kelurahan", code=f"{N.REGION_CODE}.{kec_rank[k] + 1:02d}.{1000 + counters[k]}",
                         name=kel_names[i], parent=kec_row[k], population=int(population[i]), props=props,
                         geom=kel_geoms[i]))
    df = pd.DataFrame(rows)
    kel = df["level"] == "kelurahan"
    pop = df[kel].groupby("parent")["population"].sum()
    df.loc[pop.index, "population"] = pop.to_numpy()
    return df


def _kecamatan_names(cxy: np.ndarray, land: shapely.Geometry, rng: np.random.Generator) -> list[str]:
    """Compass names around the centre ("Contoh Utara"), like Semarang Utara/Tengah/Barat."""
    c = shapely.get_coordinates(land.centroid)[0]
    d = cxy - c
    r = np.hypot(d[:, 0], d[:, 1])
    ang = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) + 360) % 360
    compass = ["Timur", "Timur Laut", "Utara", "Barat Laut", "Barat", "Barat Daya", "Selatan", "Tenggara"]
    wanted = [compass[int(((a + 22.5) % 360) // 45)] for a in ang]
    wanted[int(np.argmin(r))] = "Tengah"
    extra = list(N.unique_names(N.KEC_EXTRA, len(cxy), rng))
    seen: set[str] = set()
    out = []
    for k in np.argsort(r):
        name = f"Contoh {wanted[k]}"
        if name in seen:
            name = extra.pop(0)
        seen.add(name)
        out.append((k, name))
    return [n for _, n in sorted(out)]
