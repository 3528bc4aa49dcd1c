"""Drawing routes: edge pieces in metres, paths as GeoJSON, and the metric projection.

Kept apart from graph.py so the graph engine stays numpy/scipy only; this is where
shapely and pyproj come in.  Fractions along an edge are in metres (UTM), the same
measure the snapping SQL uses, so a drawn route ends exactly at the snapped point.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.ops import substring

from app.routing.graph import RoadGraph, Snap

GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=8)
def transformers(epsg: int) -> tuple[Transformer, Transformer]:
    """(lon/lat -> metric, metric -> lon/lat) for ``epsg``, built once per process."""
    return (Transformer.from_crs(4326, epsg, always_xy=True),
            Transformer.from_crs(epsg, 4326, always_xy=True))


def to_metric(geom: Any, epsg: int) -> Any:
    """A lon/lat shapely geometry (or array of them) in the metric CRS."""
    to_utm, _ = transformers(epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geom: Any, epsg: int) -> Any:
    """A metric shapely geometry (or array of them) back in lon/lat."""
    _, to_ll = transformers(epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))


def straight_m(lon: float, lat: float, lons: Sequence[float], lats: Sequence[float]) -> list[float]:
    """Geodesic metres from (lon, lat) to each of the points."""
    if not lons:
        return []
    _, _, d = GEOD.inv(np.array(lons), np.array(lats), np.full(len(lons), lon), np.full(len(lats), lat))
    return [float(x) for x in np.atleast_1d(d)]


def partial(g: RoadGraph, edge: int, f0: float, f1: float) -> np.ndarray:
    """Coordinates of the edge from fraction f0 to f1 (reversed when f0 > f1), cut in metres."""
    line = to_metric(g.edge_geoms[edge], g.utm_epsg)
    xy = shapely.get_coordinates(substring(line, f0, f1, normalized=True))
    _, to_ll = transformers(g.utm_epsg)
    return np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1]))


def leg(g: RoadGraph, start: Snap, nodes: Sequence[int], end: Snap) -> tuple[np.ndarray, float]:
    """Coordinates (n x 2 lon/lat) and metres from ``start`` through ``nodes`` to ``end``."""
    if not len(nodes):  # along the shared edge only
        return (partial(g, start.edge, start.fraction, end.fraction),
                float(abs(end.fraction - start.fraction) * g.edge_len[start.edge]))
    e = start.edge
    f_end = 1.0 if (nodes[0] == g.edge_tgt[e] and g.edge_cost[e] >= 0) else 0.0
    parts = [partial(g, e, start.fraction, f_end)]
    metres = abs(f_end - start.fraction) * g.edge_len[e]
    pos = g.arcs(nodes)
    edges = g.arc_edge[pos]
    for ei, fwd in zip(edges.tolist(), g.arc_fwd[pos].tolist(), strict=True):
        xy = shapely.get_coordinates(g.edge_geoms[ei])
        parts.append(xy if fwd else xy[::-1])
    metres += float(g.edge_len[edges].sum())
    e = end.edge
    f_start = 0.0 if (nodes[-1] == g.edge_src[e] and g.edge_cost[e] >= 0) else 1.0
    parts.append(partial(g, e, f_start, end.fraction))
    metres += abs(end.fraction - f_start) * g.edge_len[e]
    return np.concatenate(parts), float(metres)


def linestring(coords: np.ndarray | Sequence[tuple[float, float]]) -> dict[str, Any]:
    """GeoJSON LineString, 7 decimals (~1 cm), repeated points dropped, never a single point."""
    xy = np.round(np.asarray(coords, dtype=np.float64).reshape(-1, 2), 7)
    keep = np.ones(len(xy), bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
    xy = xy[keep]
    if len(xy) == 1:
        xy = np.vstack([xy, xy])
    return {"type": "LineString", "coordinates": xy.tolist()}
