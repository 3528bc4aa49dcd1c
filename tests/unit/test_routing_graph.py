"""The pure graph engine without a database: strongly connected components and searches."""

import math

import numpy as np

from app.routing.graph import RoadGraph, Snap, strong_components


def test_strong_components_flag_a_one_way_trap_and_an_island():
    # 1-2-3 two-way triangle; 3->4 one-way (a trap: 4 has no way out); 5-6 two-way island.
    src = [1, 2, 3, 3, 5]
    tgt = [2, 3, 1, 4, 6]
    cost = [10, 10, 10, 10, 10]
    rcost = [10, 10, 10, -1, 10]
    c = strong_components(src, tgt, cost, rcost)
    assert c.count == 3  # {1,2,3}, {4}, {5,6}
    assert c.sizes_desc() == [3, 2, 1]
    assert c.edge_in_largest.tolist() == [True, True, True, False, False]
    assert {int(n) for n in c.node_ids[c.labels == c.largest]} == {1, 2, 3}


def test_an_edge_closed_both_ways_joins_nothing():
    c = strong_components([1, 2], [2, 3], [5, -1], [5, -1])
    assert c.sizes_desc() == [2, 1]
    assert c.edge_in_largest.tolist() == [True, False]


def test_graph_components_follow_graph_edge_order_and_search_respects_one_way():
    ids = np.array([30, 10, 20])
    g = RoadGraph(ids, np.array([3, 1, 2]), np.array([1, 2, 3]), np.array([10.0, 10.0, 10.0]),
                  np.array([-1.0, -1.0, -1.0]), np.array([100.0, 100.0, 100.0]),
                  np.array([None, None, None], dtype=object), 32749)
    assert g.components().count == 1  # a one-way ring is strongly connected
    assert g.components().edge_in_largest.all()
    # From the middle of edge 10 (1->2): 5 s to node 2, 15 s to node 3, 25 s to node 1 (never backwards).
    start = Snap(0.0, 0.0, g.edge_index(10), 0.5, 0.0)
    assert g.departures(start) == {g.node_index(2): 5.0}
    dist, pred = g.search([g.departures(start)])
    assert dist[0].tolist() == [25.0, 5.0, 15.0]
    assert pred[0][g.node_index(2)] >= g.n_nodes  # reached straight from the start point
    far, _ = g.search([g.departures(start)], limit=10.0)
    assert math.isinf(far[0][g.node_index(3)])
