"""Terrain and road network of Kota Contoh.

The network is a warped street lattice (one line every 50 m: every 20th line an
arterial, every 10th a collector, every 2nd a local street, odd lines gang alleys
where the kampung is dense) cut by a coastline, rivers and a railway that roads
cross only at a few bridges and level crossings.  So, as in a real city, the
straight-line nearest unit is often not the fastest one: that is what the
drive-time dispatcher has to get right.

Classes, stored as OSM-like ``highway`` values (the OSM importer uses the same tags):

=========  ===========  ========
class      highway      km/h
=========  ===========  ========
arterial   primary      50
collector  secondary    40
local      residential  25
gang       service      12
=========  ===========  ========
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Polygon

from geodata.demo import names as N
from geodata.demo.frame import ScaleSpec

CLASS_NAMES = ("arterial", "collector", "local", "gang")
HIGHWAY = ("primary", "secondary", "residential", "service")
SPEED_KMH = (50.0, 40.0, 25.0, 12.0)
CELL = 10  # lattice steps per neighbourhood (the block between two collectors)
RIVER_NAMES = ("Kali Contoh", "Banjir Kanal Timur", "Kali Sari")
RAIL_HALF_WIDTH = 6.0
LAND_MARGIN = 100.0  # metres of land around the street lattice


def line_class(idx: np.ndarray) -> np.ndarray:
    """Class code (index into CLASS_NAMES) of lattice line ``idx``."""
    idx = np.asarray(idx)
    cls = np.full(idx.shape, 3, dtype=np.int8)
    cls[idx % 2 == 0] = 2
    cls[idx % CELL == 0] = 1
    cls[idx % (2 * CELL) == 0] = 0
    return cls


@dataclass
class Terrain:
    """Coast, rivers, railway and the kampung density field, with their analytic shapes.

    The shapes are functions (river x of y, rail y of x) so every lattice row
    crosses a river exactly once and every column crosses the railway once:
    bridges and level crossings are then easy to place and to test.
    """

    width: float
    height: float
    coast_params: np.ndarray  # (2, 3): amplitude, wavelength, phase
    river_params: np.ndarray  # (k, 6): x0, amplitude, wavelength, phase, phase2, half width
    rail_params: np.ndarray  # y0, slope, amplitude, wavelength, phase
    kampung_centres: np.ndarray  # (m, 2)
    kampung_sigma: float

    def coast_y(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        y = np.full(x.shape, 0.9 * self.height)
        for amp, wl, ph in self.coast_params:
            y = y + amp * np.sin(2 * np.pi * x / wl + ph)
        return y

    def river_x(self, k: int, y: np.ndarray) -> np.ndarray:
        x0, amp, wl, ph, ph2, _ = self.river_params[k]
        y = np.asarray(y, float)
        return x0 + amp * np.sin(2 * np.pi * y / wl + ph) + 0.4 * amp * np.sin(2 * np.pi * y / (0.43 * wl) + ph2)

    def rail_y(self, x: np.ndarray) -> np.ndarray:
        y0, slope, amp, wl, ph = self.rail_params
        x = np.asarray(x, float)
        return y0 + slope * x + amp * np.sin(2 * np.pi * x / wl + ph)

    def kampung(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """0..1 density of old dense kampung (narrow gangs, fires, high population)."""
        x = np.asarray(x, float)[..., None]
        y = np.asarray(y, float)[..., None]
        d2 = (x - self.kampung_centres[:, 0]) ** 2 + (y - self.kampung_centres[:, 1]) ** 2
        return np.exp(-d2 / (2 * self.kampung_sigma**2)).max(axis=-1)

    # -- shapes ---------------------------------------------------------------------------
    @property
    def coast(self) -> LineString:
        xs = np.linspace(-LAND_MARGIN, self.width + LAND_MARGIN, 241)
        return LineString(np.column_stack([xs, self.coast_y(xs)]))

    @property
    def land(self) -> Polygon:
        """The city's land: a little wider than the lattice so boundary roads stay inside."""
        m = LAND_MARGIN
        xs = np.linspace(self.width + m, -m, 241)
        ring = [(-m, -m), (self.width + m, -m), *zip(xs, self.coast_y(xs), strict=True)]
        return Polygon(ring)

    @property
    def sea(self) -> Polygon:
        xs = np.linspace(-LAND_MARGIN, self.width + LAND_MARGIN, 241)
        top = self.height + 2000.0
        ring = [*zip(xs, self.coast_y(xs), strict=True), (self.width, top), (0.0, top)]
        return Polygon(ring)

    def river_line(self, k: int) -> LineString:
        """River k clipped to the land (it ends in the sea)."""
        ys = np.linspace(-2 * LAND_MARGIN, self.height + 100.0, 400)
        line = LineString(np.column_stack([self.river_x(k, ys), ys]))
        return shapely.intersection(line, self.land)

    def river_area(self, k: int) -> Polygon:
        return shapely.intersection(self.river_line(k).buffer(self.river_params[k, 5]), self.land)

    @property
    def railway(self) -> LineString:
        xs = np.linspace(-2 * LAND_MARGIN, self.width + 2 * LAND_MARGIN, 241)
        return LineString(np.column_stack([xs, self.rail_y(xs)]))

    @property
    def rail_area(self) -> Polygon:
        return self.railway.buffer(RAIL_HALF_WIDTH)


def make_terrain(spec: ScaleSpec, rng: np.random.Generator) -> Terrain:
    """Random but plausible coast, rivers flowing north to the sea, and an east-west railway."""
    w, h = spec.nx * spec.spacing, spec.ny * spec.spacing
    coast = np.array([
        [0.03 * h, rng.uniform(0.6, 1.1) * w, rng.uniform(0, 2 * np.pi)],
        [0.012 * h, rng.uniform(0.15, 0.3) * w, rng.uniform(0, 2 * np.pi)],
    ])
    rivers = []
    for k in range(spec.rivers):
        x0 = w * (k + 1) / (spec.rivers + 1) + rng.uniform(-0.06, 0.06) * w
        rivers.append([x0, min(0.04 * w, 260.0), rng.uniform(0.5, 0.9) * h, rng.uniform(0, 2 * np.pi),
                       rng.uniform(0, 2 * np.pi), 22.0 if k == 0 else 14.0])
    rail = np.array([rng.uniform(0.55, 0.63) * h, rng.uniform(-0.03, 0.03), 0.025 * h,
                     rng.uniform(1.2, 1.8) * w, rng.uniform(0, 2 * np.pi)])
    t = Terrain(w, h, coast, np.array(rivers), rail, np.zeros((0, 2)), 0.1 * min(w, h))
    # the old town sits at the mouth of the main river; a few more kampung clusters inland
    y_old = float(t.coast_y(np.array([rivers[0][0]]))[0]) - 0.12 * h
    centres = [[float(t.river_x(0, np.array([y_old]))[0]) + 0.05 * w, y_old]]
    for _ in range(2 + spec.rivers):
        centres.append([rng.uniform(0.1, 0.9) * w, rng.uniform(0.15, 0.75) * h])
    t.kampung_centres = np.array(centres)
    return t


@dataclass
class Network:
    """Road graph in the local metric frame; ``source``/``target`` index ``node_xy`` (0-based)."""

    node_xy: np.ndarray
    edges: pd.DataFrame  # source, target, cls, highway, speed_kmh, length_m, cost, reverse_cost, ...
    geoms: np.ndarray  # shapely LineStrings, local frame, oriented source -> target
    streets: pd.DataFrame  # one row per named street: name, cls, orient, line, seg, oneway, tree_lined

    @property
    def directed_edge_count(self) -> int:
        return int((self.edges["cost"] >= 0).sum() + (self.edges["reverse_cost"] >= 0).sum())


def _crossings(ids: np.ndarray, side: np.ndarray, keep: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """Last kept node before a barrier and first kept node after it, along one lattice line."""
    kept = keep[ids]
    before = np.flatnonzero(kept & (side < 0))
    after = np.flatnonzero(kept & (side > 0))
    if len(before) == 0 or len(after) == 0:
        return None
    a, b = before.max(), after.min()
    if b <= a or b - a > max_gap:
        return None
    return int(ids[a]), int(ids[b])


def build_network(spec: ScaleSpec, terrain: Terrain, rng: np.random.Generator) -> Network:
    """The road graph: lattice, barriers, bridges, one-ways, then one strongly connected component."""
    s, nx, ny = spec.spacing, spec.nx, spec.ny
    w, h = terrain.width, terrain.height
    jj, ii = np.meshgrid(np.arange(ny + 1), np.arange(nx + 1), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()  # node id = j * (nx + 1) + i
    x0, y0 = ii * s, jj * s
    p = rng.uniform(0, 2 * np.pi, 4)
    x = x0 + 1.4 * s * np.sin(2 * np.pi * y0 / (0.8 * h) + p[0]) * (0.6 + 0.4 * np.sin(2 * np.pi * x0 / w + p[1]))
    y = y0 + 1.1 * s * np.sin(2 * np.pi * x0 / (0.7 * w) + p[2]) * (0.6 + 0.4 * np.sin(2 * np.pi * y0 / h + p[3]))
    x = x + np.where(ii % CELL != 0, rng.normal(0, 0.1 * s, len(x)), 0.0)
    y = y + np.where(jj % CELL != 0, rng.normal(0, 0.1 * s, len(y)), 0.0)
    xy = np.column_stack([x, y])

    land = terrain.land
    rivers = [terrain.river_area(k) for k in range(spec.rivers)]
    rail = terrain.rail_area
    blocked = shapely.union_all([*rivers, rail])
    node_block = shapely.union_all([*(r.buffer(10.0) for r in rivers), rail.buffer(6.0)])
    inner = land.buffer(-12.0)
    for g in (land, blocked, node_block, inner):
        shapely.prepare(g)
    keep = shapely.contains_xy(inner, x, y) & ~shapely.contains_xy(node_block, x, y)

    # candidate lattice edges: horizontal (orient 0) then vertical (orient 1)
    row = (nx + 1)
    h_src = (jj * row + ii)[ii < nx]
    v_src = (jj * row + ii)[jj < ny]
    src = np.concatenate([h_src, v_src])
    tgt = np.concatenate([h_src + 1, v_src + row])
    orient = np.concatenate([np.zeros(len(h_src), np.int8), np.ones(len(v_src), np.int8)])
    line = np.concatenate([jj[h_src], ii[v_src]])
    along = np.concatenate([ii[h_src], jj[v_src]])
    cls = line_class(line)
    mid = (xy[src] + xy[tgt]) / 2
    dens = terrain.kampung(mid[:, 0], mid[:, 1])
    u = rng.random(len(src))
    present = np.where(cls == 2, u < 0.95, np.where(cls == 3, u < 0.08 + 0.8 * dens, True))
    present &= keep[src] & keep[tgt]
    lines = shapely.linestrings(np.stack([xy[src], xy[tgt]], axis=1))
    present &= shapely.covered_by(lines, land) & ~shapely.intersects(blocked, lines)
    edge_src, edge_tgt = src[present], tgt[present]
    e_orient, e_line, e_along, e_cls = orient[present], line[present], along[present], cls[present]
    e_kind = np.zeros(len(edge_src), np.int8)  # 0 street, 1 bridge, 2 level crossing

    # bridges over each river on arterial rows and some collector rows; level crossings likewise
    extra: list[tuple[int, int, int, int, int, int, int]] = []
    sea = terrain.sea
    for k, river in enumerate(rivers):
        others = shapely.union_all([sea, rail, *(r for m, r in enumerate(rivers) if m != k)])
        bridges: list[tuple[int, int, int, int, int, int, int]] = []
        for j in range(ny + 1):
            c = int(line_class(np.array([j]))[0])
            if c > 1:
                continue
            ids = j * row + np.arange(nx + 1)
            side = x[ids] - terrain.river_x(k, y[ids])
            pair = _crossings(ids, side, keep, max_gap=5)
            if pair is None:
                continue
            seg = LineString([xy[pair[0]], xy[pair[1]]])
            if seg.intersects(others) or not seg.intersects(river):
                continue
            bridges.append((*pair, 0, j, int(ii[pair[0]]), c, 1))
        # every arterial gets its bridge, collectors only some, but never fewer than two per river
        chosen = [br for br in bridges if br[5] == 0 or rng.random() < 0.6]
        if len(chosen) < 2:
            chosen = bridges
        extra.extend(chosen)
    for i in range(nx + 1):
        c = int(line_class(np.array([i]))[0])
        if c > 1 or (c == 1 and rng.random() > 0.5):
            continue
        ids = np.arange(ny + 1) * row + i
        side = y[ids] - terrain.rail_y(x[ids])
        pair = _crossings(ids, side, keep, max_gap=3)
        if pair is None:
            continue
        seg = LineString([xy[pair[0]], xy[pair[1]]])
        if seg.intersects(shapely.union_all([sea, *rivers])) or not seg.intersects(rail):
            continue
        extra.append((*pair, 1, i, int(jj[pair[0]]), c, 2))
    if extra:
        ex = np.array(extra, dtype=np.int64)
        edge_src = np.concatenate([edge_src, ex[:, 0]])
        edge_tgt = np.concatenate([edge_tgt, ex[:, 1]])
        e_orient = np.concatenate([e_orient, ex[:, 2].astype(np.int8)])
        e_line = np.concatenate([e_line, ex[:, 3]])
        e_along = np.concatenate([e_along, ex[:, 4]])
        e_cls = np.concatenate([e_cls, ex[:, 5].astype(np.int8)])
        e_kind = np.concatenate([e_kind, ex[:, 6].astype(np.int8)])

    # streets: arterials and collectors are whole lines; locals and gangs one per neighbourhood block
    seg = np.where(e_cls <= 1, -1, e_along // CELL)
    street_code = (e_orient.astype(np.int64) * 10**8 + e_line.astype(np.int64) * 10**4 + (seg + 1))
    codes, street_idx = np.unique(street_code, return_inverse=True)
    st_orient = codes // 10**8
    st_line = (codes // 10**4) % 10**4
    st_seg = codes % 10**4 - 1
    st_cls = line_class(st_line)

    # one-way: a collector couplet through the centre and about 12% of local streets
    st_dir = np.zeros(len(codes), np.int8)  # 0 two-way, +1 along lattice order, -1 against
    coll_v = np.flatnonzero((st_cls == 1) & (st_orient == 1))
    if len(coll_v) >= 2:
        centre = np.argsort(np.abs(st_line[coll_v] * s - w / 2))[:2]
        pair = coll_v[np.sort(centre)]
        st_dir[pair[0]], st_dir[pair[1]] = 1, -1
    local = np.flatnonzero(st_cls == 2)
    ow = local[rng.random(len(local)) < 0.12]
    st_dir[ow] = rng.choice(np.array([-1, 1], np.int8), len(ow))
    e_dir = np.where(e_kind == 0, st_dir[street_idx], 0)

    swap = e_dir < 0
    a = np.where(swap, edge_tgt, edge_src)
    b = np.where(swap, edge_src, edge_tgt)
    oneway = e_dir != 0
    a, b, oneway, keep_e = _strongly_connected(len(xy), a, b, oneway)

    e = pd.DataFrame({
        "source": a[keep_e], "target": b[keep_e], "cls": e_cls[keep_e], "oneway": oneway[keep_e],
        "street": street_idx[keep_e], "bridge": e_kind[keep_e] == 1, "level_crossing": e_kind[keep_e] == 2,
    })
    used = np.unique(np.concatenate([e["source"].to_numpy(), e["target"].to_numpy()]))
    remap = np.full(len(xy), -1, np.int64)
    remap[used] = np.arange(len(used))
    e["source"] = remap[e["source"].to_numpy()]
    e["target"] = remap[e["target"].to_numpy()]
    node_xy = xy[used]
    # drop streets that lost every edge, renumber
    st_used, e_street = np.unique(e["street"].to_numpy(), return_inverse=True)
    e["street"] = e_street
    streets = pd.DataFrame({
        "orient": st_orient[st_used], "line": st_line[st_used], "seg": st_seg[st_used],
        "cls": st_cls[st_used], "direction": st_dir[st_used],
    })
    streets["name"] = _street_names(streets, spec, rng)
    art = np.flatnonzero(streets["cls"].to_numpy() == 0)
    tree = np.zeros(len(streets), bool)
    tree[art[rng.random(len(art)) < 0.5]] = True
    if len(art) and not tree.any():
        tree[art[0]] = True
    streets["tree_lined"] = tree

    sxy, txy = node_xy[e["source"].to_numpy()], node_xy[e["target"].to_numpy()]
    length = np.hypot(*(txy - sxy).T)
    c = e["cls"].to_numpy()
    speed = np.asarray(SPEED_KMH)[c]
    cost = length / (speed / 3.6)
    e["highway"] = np.asarray(HIGHWAY, dtype=object)[c]
    e["speed_kmh"] = speed
    e["length_m"] = length
    e["cost"] = cost
    e["reverse_cost"] = np.where(e["oneway"].to_numpy(), -1.0, cost)
    e["name"] = streets["name"].to_numpy()[e["street"].to_numpy()]
    e["tree_lined"] = tree[e["street"].to_numpy()]
    geoms = shapely.linestrings(np.stack([sxy, txy], axis=1))
    return Network(node_xy=node_xy, edges=e, geoms=geoms, streets=streets)


def _strongly_connected(n: int, a: np.ndarray, b: np.ndarray, oneway: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Make the graph one strongly connected component so every incident is reachable.

    One-way streets that separate components are opened both ways (the usual
    fix when a one-way system traps a block); whatever is still cut off (an
    island left by the river or the coast) is dropped.
    """
    oneway = oneway.copy()
    for _ in range(8):
        labels = _scc_labels(n, a, b, oneway)
        used = np.unique(np.concatenate([a, b]))
        main = np.bincount(labels[used]).argmax()
        out = (labels[a] != main) | (labels[b] != main)
        fix = out & oneway
        if not out.any() or not fix.any():
            break
        oneway[fix] = False
    labels = _scc_labels(n, a, b, oneway)
    used = np.unique(np.concatenate([a, b]))
    main = np.bincount(labels[used]).argmax()
    keep = (labels[a] == main) & (labels[b] == main)
    return a, b, oneway, keep


def _scc_labels(n: int, a: np.ndarray, b: np.ndarray, oneway: np.ndarray) -> np.ndarray:
    rows = np.concatenate([a, b[~oneway]])
    cols = np.concatenate([b, a[~oneway]])
    g = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    return connected_components(g, directed=True, connection="strong")[1]


def _street_names(streets: pd.DataFrame, spec: ScaleSpec, rng: np.random.Generator) -> np.ndarray:
    """Arterials after heroes, collectors "Raya" after mountains and islands, and each
    neighbourhood block its own theme: Jl. Kenanga I, II... and Gg. Kenanga 1, 2..."""
    cls = streets["cls"].to_numpy()
    out = np.empty(len(streets), dtype=object)
    art = np.flatnonzero(cls == 0)
    out[art] = ["Jl. " + n for n in N.unique_names(N.HEROES, len(art), rng)]
    col = np.flatnonzero(cls == 1)
    out[col] = ["Jl. " + n + " Raya" for n in N.unique_names(N.MOUNTAINS_ISLANDS, len(col), rng)]
    ncx = spec.nx // CELL + 1
    ncy = spec.ny // CELL + 1
    themes = N.unique_names(N.THEMES, ncx * ncy, rng, N.THEME_SUFFIXES)
    orient, line, seg = (streets[c].to_numpy() for c in ("orient", "line", "seg"))
    cx = np.where(orient == 0, seg, line // CELL)
    cy = np.where(orient == 0, line // CELL, seg)
    cell = cy * ncx + cx
    counters: dict[tuple[int, int], int] = {}
    for k in np.lexsort((line, orient, cell)):
        if cls[k] <= 1:
            continue
        key = (int(cell[k]), int(cls[k]))
        counters[key] = counters.get(key, 0) + 1
        nth = counters[key]
        theme = themes[int(cell[k])]
        out[k] = f"Jl. {theme} {N.roman(nth)}" if cls[k] == 2 else f"Gg. {theme} {nth}"
    return out
