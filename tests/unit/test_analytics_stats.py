"""The spatial statistics without a database: Gi*, Local Moran's I and BH-FDR against esda/scipy by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from app.services.analytics import spatialstats as S


def _lattice(rows: int, cols: int) -> list[tuple[int, int]]:
    """Queen pairs of a rows x cols grid (the same as libpysal.weights.lat2W(rook=False))."""
    pairs = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols:
                    pairs.append((i, rr * cols + cc))
    return pairs


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(7)
    n = 7 * 8
    counts = rng.poisson(3, n).astype(float)
    counts[[10, 11, 18, 19]] += 15  # a planted cluster
    smooth = rng.gamma(2.0, 2.0, n)
    smooth[[40, 41, 48]] += 10
    return S.adjacency(n, _lattice(7, 8)), counts, smooth


def _esda_w(adj):
    libpysal = pytest.importorskip("libpysal")
    neighbors = {i: [int(j) for j in adj.indices[adj.indptr[i]:adj.indptr[i + 1]]] for i in range(adj.shape[0])}
    return libpysal.weights.W(neighbors, silence_warnings=True)


def test_adjacency_matches_libpysal_lattice(grid):
    libpysal = pytest.importorskip("libpysal")
    adj, _, _ = grid
    ref = libpysal.weights.lat2W(7, 8, rook=False).sparse.toarray()
    assert (adj.toarray() == ref).all()


@pytest.mark.parametrize("which", ["counts", "smooth"])
def test_gi_star_matches_esda(grid, which):
    esda = pytest.importorskip("esda")
    adj, counts, smooth = grid
    y = counts if which == "counts" else smooth
    ours = S.gi_star(y, adj, permutations=999, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, _esda_w(adj), transform="B", star=True, permutations=999, seed=11, n_jobs=1)
        ref_r = esda.G_Local(y, _esda_w(adj), transform="R", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6)
    np.testing.assert_allclose(ours.G, ref_r.Gs, atol=1e-12)  # row-standardised statistic
    np.testing.assert_allclose(ours.p_norm, 2 * ref.p_norm, atol=1e-12)  # esda's p_norm is one-sided
    np.testing.assert_allclose(ours.p_sim, ref.p_sim, atol=1e-6)  # same draws from the same seed
    if which == "counts":
        assert ours.z[[10, 11, 18, 19]].min() > 2


def test_local_moran_matches_esda(grid):
    esda = pytest.importorskip("esda")
    adj, _, y = grid
    ours = S.local_moran(y, adj, permutations=999, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local(y, _esda_w(adj), transformation="r", permutations=999, seed=5, n_jobs=1)
    np.testing.assert_allclose(ours.I, ref.Is, atol=1e-10)
    np.testing.assert_allclose(ours.z_norm, (ref.Is - ref.EI) / np.sqrt(ref.VI), atol=1e-6)
    np.testing.assert_allclose(ours.p_sim, ref.p_sim, atol=1e-12)
    quad = {"HH": 1, "LH": 2, "LL": 3, "HL": 4}
    assert [quad[q] for q in ours.quadrant] == list(ref.q)


def test_total_null_lets_the_focal_value_count():
    adj = S.adjacency(400, _lattice(20, 20))
    y = np.full(400, 5.0) + np.random.default_rng(1).normal(0, 0.5, 400)
    y[210] = 60.0  # one cell, ordinary neighbours
    cond = S.gi_star(y, adj, permutations=999, seed=3)
    total = S.gi_star(y, adj, permutations=999, seed=3, null="total")
    assert cond.p_sim[210] > 0.05  # its neighbours are not unusual given y_210
    # under the total null only neighbourhoods that draw the spike (about 9/400) are as high
    assert total.p_sim[210] < 0.03


def test_bh_fdr_hand_example_and_scipy():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    # sorted 0.005 0.01 0.03 0.04 0.2 -> *5/rank 0.025 0.025 0.05 0.05 0.2 -> running min from the top
    np.testing.assert_allclose(S.bh_fdr(p), [0.025, 0.05, 0.05, 0.025, 0.2])
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 0.2, 50)
    np.testing.assert_allclose(S.bh_fdr(q), stats.false_discovery_control(q, method="bh"))
    withnan = S.bh_fdr(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(withnan[1]) and withnan[0] == pytest.approx(0.02) and withnan[2] == pytest.approx(0.02)


def test_classify():
    z = np.array([3.0, 2.5, -3.0, 1.0, -2.0])
    p = np.array([0.005, 0.03, 0.001, 0.5, 0.2])
    assert S.classify(z, p) == ["hot_99", "hot_95", "cold_99", "not_significant", "not_significant"]


def test_hex_grid_assigns_points_to_the_hexagon_that_contains_them():
    shapely = pytest.importorskip("shapely")
    size = 100.0
    rng = np.random.default_rng(2)
    x, y = rng.uniform(400_000, 401_000, 500), rng.uniform(9_225_000, 9_226_000, 500)
    q, r = S.hex_axial(x, y, size)
    cx, cy = S.hex_centre(q, r, size)
    for k in range(len(x)):
        poly = shapely.Polygon(S.hex_polygon_coords(cx[k], cy[k], size))
        assert poly.buffer(1e-6).contains(shapely.Point(x[k], y[k]))
    qs, rs = S.hex_cells_covering((400_000, 9_225_000, 401_000, 9_226_000), size)
    cells = set(zip(qs.tolist(), rs.tolist(), strict=True))
    assert set(zip(q.tolist(), r.tolist(), strict=True)) <= cells
    adj = S.hex_adjacency(qs, rs)
    assert (adj != adj.T).nnz == 0
    assert np.diff(adj.indptr).max() == 6
    # neighbours share an edge: centres exactly sqrt(3) * size apart
    i = int(np.argmax(np.diff(adj.indptr)))
    ccx, ccy = S.hex_centre(qs, rs, size)
    for j in adj.indices[adj.indptr[i]:adj.indptr[i + 1]]:
        assert np.hypot(ccx[i] - ccx[j], ccy[i] - ccy[j]) == pytest.approx(np.sqrt(3) * size)
