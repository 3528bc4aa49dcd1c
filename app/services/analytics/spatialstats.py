"""Local spatial statistics with numpy/scipy: Getis-Ord Gi*, Local Moran's I, BH-FDR, a hexagon grid.

Why our own and not esda at runtime: esda pulls scikit-learn, libpysal and
friends into the server for a few dozen lines of arithmetic.  The formulas and
the conditional-permutation scheme follow esda exactly (the tests compare
z-scores, statistics and pseudo p-values with esda/libpysal on the same data):

* Gi* (Getis & Ord 1992/1995) with the focal unit included (w_ii = 1) and the
  row standardised: G_i = sum_j w*_ij y_j / sum_j y_j.  Its z-score uses the
  general-weights moments, which are invariant to scaling a row, so it equals
  esda's ``G_Local(transform="B", star=True).Zs``.  (esda's ``transform="R"``
  variance treats every row as having one unit weight and gives other z's.)
* Pseudo p-values by conditional randomisation: the focal value stays, its
  k_i neighbours are drawn without replacement from the other n - 1 units; the
  same draws are reused for every unit (esda's ``crand``), seeded with
  ``numpy.random.RandomState(seed)`` so a given seed reproduces esda's draws.
  ``p_sim`` is esda's "directed" pseudo p-value (the smaller tail, +1 rule);
  for classification we double it (two-sided) and control the false discovery
  rate with Benjamini-Hochberg across units, so a map of 300 hexagons does not
  light up 15 "hotspots" by chance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

HEX_DIRECTIONS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))
SQRT3 = math.sqrt(3.0)


@dataclass
class GiStar:
    G: np.ndarray  # statistic, row-standardised W* (focal unit included)
    z: np.ndarray
    p_norm: np.ndarray  # two-sided, normal approximation
    p_sim: np.ndarray  # directed pseudo p-value (esda's p_sim); NaN without permutations


@dataclass
class LocalMoran:
    I: np.ndarray  # noqa: E741 - the statistic's name
    quadrant: np.ndarray  # "HH", "LH", "LL", "HL"
    z_norm: np.ndarray  # under total randomisation (esda's EI/VI)
    p_sim: np.ndarray


def adjacency(n: int, pairs: np.ndarray | list[tuple[int, int]]) -> sp.csr_matrix:
    """Symmetric binary n x n adjacency (no diagonal) from (i, j) index pairs."""
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    arr = arr[arr[:, 0] != arr[:, 1]]
    rows = np.concatenate([arr[:, 0], arr[:, 1]])
    cols = np.concatenate([arr[:, 1], arr[:, 0]])
    a = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    a.data[:] = 1.0  # duplicates summed above: back to binary
    a.sort_indices()
    return a


def row_standardise(w: sp.csr_matrix) -> sp.csr_matrix:
    rs = np.asarray(w.sum(axis=1)).ravel()
    inv = np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)
    return sp.csr_matrix(sp.diags(inv) @ w)


def permutation_ids(n: int, max_card: int, permutations: int, seed: int) -> np.ndarray:
    """(permutations, max_card) draws from range(n - 1) without replacement; same stream as esda's crand."""
    rs = np.random.RandomState(seed)
    out = np.empty((permutations, max_card), dtype=np.int64)
    for k in range(permutations):
        out[k] = rs.choice(n - 1, size=max_card, replace=False)
    return out


def _directed_p(observed: float, sims: np.ndarray) -> float:
    """esda's 'directed' pseudo p: count of draws at least as large, folded to the smaller tail."""
    p = len(sims)
    larger = int((sims >= observed).sum())
    if p - larger < larger:
        larger = p - larger
    return (larger + 1.0) / (p + 1.0)


def _tie_tolerant(x: np.ndarray) -> np.ndarray:
    """Nudge observed values down by a few ulps so equal sums count as 'at least as large'."""
    return x - 1e-9 * np.maximum(np.abs(x), 1.0)


def gi_star(y: np.ndarray, adj: sp.csr_matrix, permutations: int = 999, seed: int = 12345,
            null: str = "conditional", ids: np.ndarray | None = None) -> GiStar:
    """Getis-Ord Gi* per unit (focal unit included); see the module docstring for the conventions.

    ``null="conditional"`` (esda, GeoDa) keeps y_i in place and shuffles only
    the neighbours, so it asks "are the neighbours of i unusually high?" and a
    lone spike with ordinary neighbours is not hot.  ``null="total"`` shuffles
    every value, the null under which the Getis-Ord z-score is derived (its
    permutation analogue, robust to skewed counts): the focal value counts,
    though a lone spike still cannot get below about k_i / n.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    adj = sp.csr_matrix(adj, dtype=float)
    wstar = (adj + sp.identity(n, format="csr")).tocsr()
    wstar.data[:] = 1.0
    card = np.diff(wstar.indptr).astype(float)  # neighbours incl. self
    total = y.sum()
    lag_sum = np.asarray(wstar @ y).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(total != 0, lag_sum / card / total, 0.0)
    mean = y.mean() if n else 0.0
    s = math.sqrt(max((y**2).mean() - mean**2, 0.0)) if n else 0.0
    # general-weights Gi* z (binary weights; identical for any per-row scaling)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = s * np.sqrt((n * card - card**2) / max(n - 1, 1))
        z = np.where(denom > 0, (lag_sum - mean * card) / denom, 0.0)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = np.full(n, np.nan)
    if permutations and n > 2:
        others = card.astype(int) - 1
        observed = _tie_tolerant(lag_sum)
        if null == "total":
            rs = np.random.RandomState(seed)
            k_max = int(card.max())
            tids = np.empty((permutations, k_max), dtype=np.int64)
            for k in range(permutations):
                tids[k] = rs.choice(n, size=k_max, replace=False)
            for i in range(n):
                k = int(card[i])
                p_sim[i] = 1.0 if (k >= n or s == 0) else _directed_p(observed[i], y[tids[:, :k]].sum(axis=1))
            return GiStar(G, z, p_norm, p_sim)
        max_card = min(int(others.max()), n - 1)
        if max_card > 0:
            if ids is None:
                ids = permutation_ids(n, max_card, permutations, seed)
            for i in range(n):
                k = others[i]
                if k <= 0 or k >= n - 1 or s == 0:
                    p_sim[i] = 1.0
                    continue
                y_no_i = np.delete(y, i)
                sims = y_no_i[ids[:, :k]].sum(axis=1) + y[i]
                p_sim[i] = _directed_p(observed[i], sims)
    return GiStar(G, z, p_norm, p_sim)


def local_moran(y: np.ndarray, adj: sp.csr_matrix, permutations: int = 999, seed: int = 12345,
                ids: np.ndarray | None = None) -> LocalMoran:
    """Local Moran's I (Anselin 1995) with row-standardised weights, as esda.Moran_Local."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    w = row_standardise(sp.csr_matrix(adj, dtype=float))
    sd = y.std()
    z = (y - y.mean()) / sd if sd > 0 else np.zeros(n)
    den = float((z * z).sum())
    lag = np.asarray(w @ z).ravel()
    I = (n - 1) * z * lag / den if den > 0 else np.zeros(n)  # noqa: E741
    quad = np.where(z > 0, np.where(lag > 0, "HH", "HL"), np.where(lag > 0, "LH", "LL"))
    # total randomisation moments (Sokal et al. 1998), as esda's EI/VI
    wi = np.asarray(w.sum(axis=1)).ravel()
    wi2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    m2 = den / n if n else 0.0
    z_norm = np.zeros(n)
    if m2 > 0 and n > 2:
        b2 = ((z**4).sum() / n) / m2**2
        n1 = n - 1
        ei = -wi / n1
        vi = wi2 * (n - b2) / n1 + (wi**2 - wi2) * (2 * b2 - n) / (n1 * (n - 2)) - (wi / n1) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            z_norm = np.where(vi > 0, (I - ei) / np.sqrt(vi), 0.0)
    p_sim = np.full(n, np.nan)
    if permutations and n > 2 and den > 0:
        card = np.diff(w.indptr)
        max_card = int(card.max()) if n else 0
        if max_card > 0:
            if ids is None:
                ids = permutation_ids(n, min(max_card, n - 1), permutations, seed)
            scaling = (n - 1) / den
            for i in range(n):
                k = card[i]
                if k == 0:
                    p_sim[i] = 1.0  # an island has no neighbourhood to be surprising about
                    continue
                wk = w.data[w.indptr[i]:w.indptr[i + 1]]
                z_no_i = np.delete(z, i)
                sims = z[i] * (z_no_i[ids[:, :k]] @ wk) * scaling
                p_sim[i] = _directed_p(_tie_tolerant(I[i:i + 1])[0], sims)
    return LocalMoran(I, quad, z_norm, p_sim)


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and does not count)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def classify(z: np.ndarray, p_adj: np.ndarray) -> list[str]:
    """hot/cold at 99% or 95% confidence on FDR-adjusted two-sided p-values, else not significant."""
    out = []
    for zi, pi in zip(z, p_adj, strict=True):
        if np.isnan(pi) or pi > 0.05 or zi == 0:
            out.append("not_significant")
        else:
            out.append(("hot" if zi > 0 else "cold") + ("_99" if pi <= 0.01 else "_95"))
    return out


# -- hexagon grid --------------------------------------------------------------------------
def hex_axial(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat-topped hexagon (edge ``size`` metres, grid anchored at the CRS origin) holding each point."""
    q = (2.0 / 3.0) * np.asarray(x, float) / size
    r = (-1.0 / 3.0 * np.asarray(x, float) + SQRT3 / 3.0 * np.asarray(y, float)) / size
    # cube rounding
    cx, cz = q, r
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    rx = np.where(fix_x, -ry - rz, rx)
    rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
    return rx.astype(np.int64), rz.astype(np.int64)


def hex_centre(q: np.ndarray, r: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(q, float)
    r = np.asarray(r, float)
    return size * 1.5 * q, size * SQRT3 * (r + q / 2.0)


def hex_polygon_coords(cx: float, cy: float, size: float) -> list[tuple[float, float]]:
    """Closed ring of a flat-topped hexagon (vertices at 0, 60, ... 300 degrees)."""
    pts = [(cx + size * math.cos(math.radians(60 * k)), cy + size * math.sin(math.radians(60 * k)))
           for k in range(6)]
    return [*pts, pts[0]]


def hex_cells_covering(bounds: tuple[float, float, float, float], size: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial (q, r) of every hexagon whose centre lies within ``bounds`` grown by one hexagon."""
    xmin, ymin, xmax, ymax = bounds
    q0, q1 = math.floor(xmin / (1.5 * size)) - 1, math.ceil(xmax / (1.5 * size)) + 1
    qs, rs = [], []
    for q in range(q0, q1 + 1):
        r0 = math.floor((ymin - size) / (SQRT3 * size) - q / 2.0) - 1
        r1 = math.ceil((ymax + size) / (SQRT3 * size) - q / 2.0) + 1
        for r in range(r0, r1 + 1):
            qs.append(q)
            rs.append(r)
    return np.asarray(qs, np.int64), np.asarray(rs, np.int64)


def hex_adjacency(q: np.ndarray, r: np.ndarray) -> sp.csr_matrix:
    """Hexagons sharing an edge (queen and rook coincide on a hexagon grid)."""
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(q, r, strict=True))}
    pairs = []
    for k, (a, b) in enumerate(zip(q, r, strict=True)):
        for dq, dr in HEX_DIRECTIONS[:3]:
            j = index.get((int(a) + dq, int(b) + dr))
            if j is not None:
                pairs.append((k, j))
    return adjacency(len(q), pairs)
