"""A seeded, grid-like road network for routing tests and benchmarks.

The demo city is generated elsewhere; routing must be testable on its own, so this
builds a reproducible network with what makes routing hard in real cities: one-way
streets (both digitisation directions), varied speeds, parallel edges, bent edge
geometry, a river crossed only by two bridges and a disconnected island.  Node and
edge ids are offset and sparse so an id is never mistaken for a matrix index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geodata.bulk import copy_rows

UTM_EPSG = 32749
ORIGIN_LONLAT = (110.42, -6.98)
NODE_ID_BASE = 100_000
EDGE_ID_BASE = 500_000

_to_utm = Transformer.from_crs(4326, UTM_EPSG, always_xy=True)
_to_ll = Transformer.from_crs(UTM_EPSG, 4326, always_xy=True)


@dataclass
class GridNetwork:
    nx: int
    ny: int
    spacing: float
    node_ids: np.ndarray          # int64
    node_x: np.ndarray            # UTM metres
    node_y: np.ndarray
    edge_ids: np.ndarray
    source: np.ndarray            # node ids
    target: np.ndarray
    cost: np.ndarray
    reverse_cost: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray
    geoms: np.ndarray             # shapely LineStrings in EPSG:4326
    island_node_ids: np.ndarray   # nodes of the disconnected island

    def node_lonlat(self, node_id: int) -> tuple[float, float]:
        i = int(np.flatnonzero(self.node_ids == node_id)[0])
        lon, lat = _to_ll.transform(self.node_x[i], self.node_y[i])
        return float(lon), float(lat)

    def grid_lonlat(self, i: float, j: float) -> tuple[float, float]:
        """Longitude/latitude of fractional grid position (i, j), e.g. between nodes."""
        x0, y0 = _to_utm.transform(*ORIGIN_LONLAT)
        lon, lat = _to_ll.transform(x0 + i * self.spacing, y0 + j * self.spacing)
        return float(lon), float(lat)

    def edge_index(self, edge_id: int) -> int:
        return int(np.flatnonzero(self.edge_ids == edge_id)[0])


def make_grid(nx: int = 30, ny: int = 30, spacing: float = 100.0, seed: int = 112,
              island: bool = True) -> GridNetwork:
    """Build the network in memory (vectorised: 400x400 takes about a second)."""
    rng = np.random.default_rng(seed)
    x0, y0 = _to_utm.transform(*ORIGIN_LONLAT)
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    n = nx * ny
    node_x = x0 + ii * spacing + rng.uniform(-0.15, 0.15, n) * spacing
    node_y = y0 + jj * spacing + rng.uniform(-0.15, 0.15, n) * spacing
    node_idx = np.arange(n)

    # Horizontal (i, j)-(i+1, j) and vertical (i, j)-(i, j+1) links.
    h = node_idx[ii < nx - 1]
    v = node_idx[jj < ny - 1]
    a = np.concatenate([h, v])
    b = np.concatenate([h + 1, v + nx])
    vertical = np.concatenate([np.zeros(len(h), bool), np.ones(len(v), bool)])
    # The river runs between rows river_j and river_j + 1; only two bridges cross it.
    river_j = ny // 2 - 1
    crosses = vertical & (jj[a] == river_j)
    bridge = crosses & np.isin(ii[a], [nx // 4, (3 * nx) // 4])
    keep = (~crosses | bridge) & ((rng.random(len(a)) > 0.05) | bridge)
    a, b, vertical = a[keep], b[keep], vertical[keep]

    # A few parallel duplicates (a service road beside the main one), slower or faster.
    dup = rng.random(len(a)) < 0.01
    a = np.concatenate([a, a[dup]])
    b = np.concatenate([b, b[dup]])
    m = len(a)

    # Digitisation direction is random, like OSM ways.
    flip = rng.random(m) < 0.5
    src, tgt = np.where(flip, b, a), np.where(flip, a, b)

    # Arterials every fifth row/column are fast; the rest vary.
    n_main = len(dup)
    arterial = ((ii[src] % 5 == 0) & (ii[src] == ii[tgt])) | ((jj[src] % 5 == 0) & (jj[src] == jj[tgt]))
    speed = np.where(arterial, 60.0, rng.choice([20.0, 30.0, 40.0, 50.0], m))
    speed[n_main:] = rng.choice([15.0, 70.0], m - n_main)

    # Bent geometry: a middle vertex pushed sideways by up to 8 m.
    sx, sy, tx, ty = node_x[src], node_y[src], node_x[tgt], node_y[tgt]
    dx, dy = tx - sx, ty - sy
    seg = np.hypot(dx, dy)
    off = rng.uniform(-8, 8, m)
    mx, my = (sx + tx) / 2 - dy / seg * off, (sy + ty) / 2 + dx / seg * off
    length = np.hypot(mx - sx, my - sy) + np.hypot(tx - mx, ty - my)
    cost = length / (speed / 3.6)
    reverse_cost = cost.copy()
    # One-way streets, in both digitisation directions; bridges stay two-way.
    r = rng.random(m)
    is_bridge = np.zeros(m, bool)
    is_bridge[:n_main] = bridge[keep]
    reverse_cost[(r < 0.08) & ~is_bridge] = -1.0
    cost[(r >= 0.08) & (r < 0.11) & ~is_bridge] = -1.0

    node_ids = NODE_ID_BASE + node_idx.astype(np.int64) * 3
    edge_ids = EDGE_ID_BASE + np.arange(m, dtype=np.int64) * 7
    xs = np.stack([sx, mx, tx], axis=1)
    ys = np.stack([sy, my, ty], axis=1)
    lon, lat = _to_ll.transform(xs.ravel(), ys.ravel())
    coords = np.stack([lon, lat], axis=1).reshape(m, 3, 2)
    geoms = shapely.linestrings(coords)
    src_ids, tgt_ids = node_ids[src], node_ids[tgt]

    island_ids = np.array([], dtype=np.int64)
    if island:
        # A 3x3 two-way grid 1 km east of the main one, connected to nothing.
        base = NODE_ID_BASE + n * 3 + 30
        ix, iy = np.meshgrid(np.arange(3), np.arange(3), indexing="xy")
        isl_x = x0 + (nx - 1) * spacing + 1000 + ix.ravel() * spacing
        isl_y = y0 + iy.ravel() * spacing
        island_ids = base + np.arange(9, dtype=np.int64) * 3
        pairs = [(k, k + 1) for k in range(9) if k % 3 < 2] + [(k, k + 3) for k in range(6)]
        ia = np.array([p[0] for p in pairs])
        ib = np.array([p[1] for p in pairs])
        ilen = np.hypot(isl_x[ib] - isl_x[ia], isl_y[ib] - isl_y[ia])
        icost = ilen / (30 / 3.6)
        ilon, ilat = _to_ll.transform(np.stack([isl_x[ia], isl_x[ib]], 1).ravel(),
                                      np.stack([isl_y[ia], isl_y[ib]], 1).ravel())
        igeoms = shapely.linestrings(np.stack([ilon, ilat], 1).reshape(len(pairs), 2, 2))
        node_ids = np.concatenate([node_ids, island_ids])
        node_x = np.concatenate([node_x, isl_x])
        node_y = np.concatenate([node_y, isl_y])
        edge_ids = np.concatenate([edge_ids, EDGE_ID_BASE + m * 7 + 70 + np.arange(len(pairs)) * 7])
        src_ids = np.concatenate([src_ids, island_ids[ia]])
        tgt_ids = np.concatenate([tgt_ids, island_ids[ib]])
        cost = np.concatenate([cost, icost])
        reverse_cost = np.concatenate([reverse_cost, icost])
        length = np.concatenate([length, ilen])
        speed = np.concatenate([speed, np.full(len(pairs), 30.0)])
        geoms = np.concatenate([geoms, igeoms])

    return GridNetwork(nx, ny, spacing, node_ids, node_x, node_y, edge_ids, src_ids, tgt_ids,
                       cost, reverse_cost, length, speed, geoms, island_ids)


def load_network(conn: Connection, net: GridNetwork) -> None:
    """COPY the network into road_nodes/road_edges inside the caller's transaction."""
    lon, lat = _to_ll.transform(net.node_x, net.node_y)
    pts = shapely.set_srid(shapely.points(np.stack([lon, lat], 1)), 4326)
    node_wkb = shapely.to_wkb(pts, hex=True, include_srid=True)
    copy_rows(conn, "road_nodes", ["id", "geom"],
              zip(net.node_ids.tolist(), node_wkb.tolist(), strict=True))
    edge_wkb = shapely.to_wkb(shapely.set_srid(net.geoms, 4326), hex=True, include_srid=True)
    oneway = (net.cost < 0) | (net.reverse_cost < 0)
    highway = np.where(net.speed_kmh >= 60, "secondary", "residential")
    rows = zip(net.edge_ids.tolist(), net.source.tolist(), net.target.tolist(), highway.tolist(),
               oneway.tolist(), net.length_m.tolist(), net.speed_kmh.tolist(), net.cost.tolist(),
               net.reverse_cost.tolist(), edge_wkb.tolist(), strict=True)
    copy_rows(conn, "road_edges", ["id", "source", "target", "highway", "oneway", "length_m",
                                   "speed_kmh", "cost", "reverse_cost", "geom"], rows)
    conn.execute(text("ANALYZE road_nodes"))
    conn.execute(text("ANALYZE road_edges"))


def add_station(conn: Connection, agency: str, name: str, lonlat: tuple[float, float],
                kind: str = "post") -> int:
    return int(conn.execute(text(
        "INSERT INTO stations (agency_code, kind, name, geom) "
        "VALUES (:a, :k, :n, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
        {"a": agency, "k": kind, "n": name, "lon": lonlat[0], "lat": lonlat[1]}).scalar_one())


def add_unit(conn: Connection, agency: str, callsign: str, unit_type: str, station_id: int | None,
             lonlat: tuple[float, float] | None = None, status: str = "available") -> int:
    """A unit at ``lonlat`` (its last AVL position) or, without it, parked at its station."""
    if lonlat is None:
        geom = "(SELECT geom FROM stations WHERE id = :sid)"
        params = {}
    else:
        geom = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
        params = {"lon": lonlat[0], "lat": lonlat[1]}
    return int(conn.execute(text(
        f"INSERT INTO units (station_id, agency_code, callsign, unit_type, status, geom) "
        f"VALUES (:sid, :a, :c, :t, :s, {geom}) RETURNING id"),
        {"sid": station_id, "a": agency, "c": callsign, "t": unit_type, "s": status, **params},
    ).scalar_one())
