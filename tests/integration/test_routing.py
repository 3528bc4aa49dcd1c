"""Drive-time routing and nearest responders, checked against pgRouting on a seeded grid city."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from pyproj import Geod
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import Connection, text

from app.routing import cache, store
from app.routing import nearest as routing
from tests.routing_net import GridNetwork, add_station, add_unit, load_network, make_grid

EDGES_SQL = "SELECT id, source, target, cost, reverse_cost FROM road_edges"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def net() -> GridNetwork:
    return make_grid(30, 30, seed=112)


def seed_city(conn: Connection, net: GridNetwork) -> dict[str, int]:
    """Stations (placed between nodes so they snap mid-edge) and units of DAMKAR and DINKES."""
    ids: dict[str, int] = {}
    for key, agency, (i, j) in [
        ("dk_north", "DAMKAR", (5.5, 25)), ("dk_south", "DAMKAR", (20, 4.5)), ("dk_west", "DAMKAR", (2, 10.4)),
        ("ps_a", "DINKES", (10.5, 20)), ("ps_b", "DINKES", (25, 25.5)), ("ps_c", "DINKES", (15, 3.5)),
        ("ps_d", "DINKES", (27.5, 8)), ("bpbd", "BPBD", (14, 14.3)),
    ]:
        ids[key] = add_station(conn, agency, f"Pos {key}", net.grid_lonlat(i, j))
    units = [
        ("DK-01", "DAMKAR", "fire_engine", "dk_north", None, "available"),
        ("DK-02", "DAMKAR", "fire_engine", "dk_south", None, "available"),
        ("DK-03", "DAMKAR", "rescue", "dk_south", None, "available"),
        ("DK-04", "DAMKAR", "fire_engine", "dk_west", None, "dispatched"),
        ("AMB-01", "DINKES", "ambulance", "ps_a", None, "available"),
        ("AMB-02", "DINKES", "ambulance", "ps_b", None, "available"),
        ("AMB-03", "DINKES", "ambulance", "ps_c", None, "available"),
        ("AMB-04", "DINKES", "ambulance", "ps_d", None, "on_scene"),
        ("AMB-05", "DINKES", "ambulance", "ps_a", net.grid_lonlat(18.5, 12.2), "available"),
    ]
    for callsign, agency, utype, station, pos, status in units:
        ids[callsign] = add_unit(conn, agency, callsign, utype, ids[station], pos, status)
    return ids


@pytest.fixture()
def city(db_conn: Connection, net: GridNetwork) -> dict[str, int]:
    load_network(db_conn, net)
    return seed_city(db_conn, net)


def pgr_points_cost(conn: Connection, points: list[tuple[int, int, float]], start: int, ends: list[int]) -> dict:
    """pgr_withPointsCost from a point/node to points/nodes; points are (pid, edge_id, fraction)."""
    values = ", ".join(f"({p}, {e}, {f!r})" for p, e, f in points)
    rows = conn.execute(text(
        "SELECT end_pid, agg_cost FROM pgr_withPointsCost(:edges, :points, CAST(:s AS bigint), "
        "CAST(:e AS bigint[]), directed => true, driving_side => 'b')"),
        {"edges": EDGES_SQL, "points": f"SELECT * FROM (VALUES {values}) AS p(pid, edge_id, fraction)",
         "s": start, "e": ends})
    return {int(e): float(c) for e, c in rows}


# -- exactness against pgRouting ------------------------------------------------------------
def test_graph_times_equal_pgr_dijkstra(city, session, db_conn, net):
    g = cache.state(session).graph
    assert g is not None and g.n_nodes == len(net.node_ids)
    rng = np.random.default_rng(7)
    main = net.node_ids[: net.nx * net.ny]
    sources = rng.choice(main, 10, replace=False).tolist()
    targets = rng.choice(main, 5, replace=False).tolist()
    rows = db_conn.execute(text(
        "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(:edges, CAST(:s AS bigint[]), "
        "CAST(:t AS bigint[]), directed => true)"), {"edges": EDGES_SQL, "s": sources, "t": targets})
    pgr = {(int(s), int(t)): float(c) for s, t, c in rows}
    ours = dijkstra(g.csr, indices=[g.node_index(s) for s in sources])
    worst = 0.0
    for a, s in enumerate(sources):
        for t in targets:
            mine = float(ours[a, g.node_index(t)])
            if (s, t) not in pgr:
                assert s == t or math.isinf(mine), (s, t)
                continue
            worst = max(worst, abs(mine - pgr[(s, t)]))
    assert worst < 1.0
    assert len(pgr) >= 40  # the river and one-ways still leave most pairs connected


def test_one_way_and_parallel_edges_in_graph(city, session, net):
    g = cache.state(session).graph
    e = int(np.flatnonzero((net.cost >= 0) & (net.reverse_cost < 0))[0])
    s, t = g.node_index(int(net.source[e])), g.node_index(int(net.target[e]))
    assert g.csr[s, t] > 0
    assert g.csr[t, s] == 0 or g.arc_edge[g.arcs([t, s])[0]] != g.edge_index(int(net.edge_ids[e]))
    # Parallel edges: the arc keeps the fastest of them.
    pairs: dict[tuple[int, int], float] = {}
    for src, tgt, c in zip(net.source, net.target, net.cost, strict=True):
        if c >= 0:
            key = (int(src), int(tgt))
            pairs[key] = min(pairs.get(key, math.inf), float(c))
    for (src, tgt), c in list(pairs.items())[:200]:
        back = [float(rc) for s2, t2, rc in zip(net.source, net.target, net.reverse_cost, strict=True)
                if s2 == tgt and t2 == src and rc >= 0]
        assert g.csr[g.node_index(src), g.node_index(tgt)] == pytest.approx(min([c, *back]))


def test_station_tables_equal_pgr_with_points(city, session, db_conn, net):
    state = cache.state(session)
    g = state.graph
    table = state.table(session, "DINKES")
    assert len(table.station_ids) == 4
    rng = np.random.default_rng(3)
    ends = rng.choice(net.node_ids[: net.nx * net.ny], 20, replace=False).tolist()
    for row, snap in enumerate(table.snaps):
        assert snap is not None and 0.0 < snap.fraction < 1.0 and snap.snap_m < 30
        pgr = pgr_points_cost(db_conn, [(1, int(g.edge_ids[snap.edge]), snap.fraction)], -1, ends)
        for node in ends:
            mine = float(table.dist[row, g.node_index(node)])
            if node in pgr:
                assert mine == pytest.approx(pgr[node], abs=1.0)
            else:
                assert math.isinf(mine)


def test_mid_edge_point_eta_equals_pgr(city, session, db_conn, net):
    lon, lat = net.grid_lonlat(16.4, 17)  # between nodes: snaps mid-edge
    res = routing.nearest(session, lat, lon, agency="DAMKAR", k=3)
    assert res["method"] == "drive_time"
    g = cache.state(session).graph
    target = store.snap_points(session, g, [(0, lon, lat)])[0]
    assert 0.05 < target.fraction < 0.95
    for c in res["candidates"]:
        st = db_conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM stations WHERE id = :i"),
                             {"i": c["station_id"]}).one()
        start = store.snap_points(session, g, [(0, st[0], st[1])])[0]
        pgr = pgr_points_cost(db_conn, [(1, int(g.edge_ids[start.edge]), start.fraction),
                                        (2, int(g.edge_ids[target.edge]), target.fraction)], -1, [-2])
        assert c["eta_s"] == pytest.approx(pgr[-2], abs=1.0)
        # route(): the same drive from the station to the point
        r = routing.route(session, (st[1], st[0]), (lat, lon))
        assert r["eta_s"] == pytest.approx(c["eta_s"], abs=0.2)
        assert r["distance_m"] == pytest.approx(c["distance_m"], abs=0.5)
    etas = [c["eta_s"] for c in res["candidates"]]
    assert etas == sorted(etas)


def test_one_way_is_respected(city, session, db_conn, net):
    import shapely

    e = int(np.flatnonzero((net.cost >= 0) & (net.reverse_cost < 0) & (net.length_m > 60))[3])
    a = shapely.line_interpolate_point(net.geoms[e], 0.25, normalized=True)
    b = shapely.line_interpolate_point(net.geoms[e], 0.75, normalized=True)
    ab = routing.route(session, (a.y, a.x), (b.y, b.x))
    ba = routing.route(session, (b.y, b.x), (a.y, a.x))
    assert ab["method"] == ba["method"] == "drive_time"
    # Along the one-way: half the edge; against it: around the block.
    assert ab["eta_s"] == pytest.approx(0.5 * net.cost[e], abs=1.0)
    assert ba["eta_s"] > ab["eta_s"] + 10
    g = cache.state(session).graph
    sa, sb = (store.snap_points(session, g, [(0, p.x, p.y)])[0] for p in (a, b))
    eid = int(net.edge_ids[e])
    pgr = pgr_points_cost(db_conn, [(1, eid, sa.fraction), (2, eid, sb.fraction)], -2, [-1])
    assert ba["eta_s"] == pytest.approx(pgr[-1], abs=1.0)
    # The route is a line from the start to the end point.
    coords = ba["route"]["coordinates"]
    assert GEOD.inv(*coords[0], b.x, b.y)[2] < 1.0 and GEOD.inv(*coords[-1], a.x, a.y)[2] < 1.0
    assert GEOD.line_length(*zip(*coords, strict=True)) == pytest.approx(ba["distance_m"], rel=0.01)


def _one_way_nodes(net: GridNetwork, n: int, seed: int) -> list[int]:
    """Main-grid nodes where a one-way street starts or ends: where a tie decides the route."""
    one_way = (net.cost < 0) | (net.reverse_cost < 0)
    nodes = np.unique(np.concatenate([net.source[one_way], net.target[one_way]]))
    nodes = nodes[np.isin(nodes, net.node_ids[: net.nx * net.ny])]
    return np.random.default_rng(seed).choice(nodes, n, replace=False).tolist()


def test_points_on_nodes_equal_pgr_with_points_cost(city, session, db_conn, net):
    """A call exactly on an intersection: every edge there is as near; the fastest decides (issue 17.4)."""
    nodes = _one_way_nodes(net, 60, seed=17)
    state = cache.state(session)
    g = state.graph
    table = state.table(session, "DINKES")
    truth: dict[int, dict[int, float]] = {}  # station id -> node id -> pgr seconds
    for sid, snap in zip(table.station_ids, table.snaps, strict=True):
        assert snap is not None
        truth[sid] = pgr_points_cost(db_conn, [(1, int(g.edge_ids[snap.edge]), snap.fraction)], -1, nodes)
    worst, compared, lowest_id_wrong = 0.0, 0, 0
    for node in nodes:
        lon, lat = net.node_lonlat(node)
        res = routing.nearest(session, lat, lon, agency="DINKES", k=10, include_busy=True)
        assert res["method"] == "drive_time"
        at_station = {c["station_id"]: c for c in res["candidates"] if c["position"] == "station"}
        unreached = {u["station_id"] for u in res["unreached"]}
        for sid, costs in truth.items():
            if node not in costs:  # pgRouting cannot reach it: neither may we, and we must say so
                assert sid not in at_station and sid in unreached, (node, sid)
                continue
            assert sid in at_station, (node, sid)
            worst = max(worst, abs(at_station[sid]["eta_s"] - costs[node]))
            compared += 1
        # What the old rule (the lowest edge id of the tie) would have answered, for the record.
        first = store.snap_points(session, g, [(0, lon, lat)])[0]
        for sid, costs in truth.items():
            row = table.row(sid)
            old = min((float(table.dist[row, n]) + s for n, s in g.arrivals(first).items()), default=math.inf)
            lowest_id_wrong += not math.isclose(old, costs.get(node, math.inf), abs_tol=1.0)
    assert compared >= 150 and worst <= 0.1
    assert lowest_id_wrong >= 1  # the sample holds intersections where the old tie rule was wrong


def test_route_between_nodes_equals_pgr_dijkstra(city, session, db_conn, net):
    nodes = _one_way_nodes(net, 24, seed=5)
    pairs = list(zip(nodes[:12], nodes[12:], strict=True))
    rows = db_conn.execute(text(
        "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(:edges, :pairs, directed => true)"),
        {"edges": EDGES_SQL, "pairs": "SELECT * FROM (VALUES " + ", ".join(f"({a}, {b})" for a, b in pairs)
         + ") AS p(source, target)"})
    pgr = {(int(a), int(b)): float(c) for a, b, c in rows}
    for a, b in pairs:
        (lon0, lat0), (lon1, lat1) = net.node_lonlat(a), net.node_lonlat(b)
        r = routing.route(session, (lat0, lon0), (lat1, lon1))
        if (a, b) in pgr:
            assert r["method"] == "drive_time" and r["eta_s"] == pytest.approx(pgr[(a, b)], abs=0.1)
            coords = r["route"]["coordinates"]
            assert GEOD.inv(*coords[0], lon0, lat0)[2] < 0.5 and GEOD.inv(*coords[-1], lon1, lat1)[2] < 0.5
        else:
            assert r["method"] == "straight_line_fallback"


def test_unreached_candidates_are_listed_with_a_reason(city, session, db_conn, net):
    island = [int(n) for n in net.island_node_ids]
    sid = add_station(db_conn, "DINKES", "Pos pulau", net.node_lonlat(island[2]))
    add_unit(db_conn, "DINKES", "AMB-ISLAND", "ambulance", sid)
    add_unit(db_conn, "DINKES", "AMB-FAR", "ambulance", None, (110.42, -7.5))  # 50 km from any road
    lon, lat = net.grid_lonlat(12, 12)
    res = routing.nearest(session, lat, lon, agency="DINKES", k=10)
    assert res["method"] == "drive_time"
    why = {u["callsign"]: u for u in res["unreached"]}
    assert why["AMB-ISLAND"]["reason"] == "outside_component"
    assert why["AMB-FAR"]["reason"] == "no_road" and "1500 m" in why["AMB-FAR"]["detail"]
    assert set(why) == {"AMB-ISLAND", "AMB-FAR"}
    got = {c["callsign"] for c in res["candidates"]}
    assert not got & set(why) and len(got) == 4  # the four available mainland ambulances
    # A call on the island: only the island's own unit reaches it; the others are told why not.
    ilon, ilat = net.node_lonlat(island[4])
    res = routing.nearest(session, ilat, ilon, agency="DINKES", k=10)
    assert [c["callsign"] for c in res["candidates"]] == ["AMB-ISLAND"]
    why = {u["callsign"]: u["reason"] for u in res["unreached"]}
    assert why.pop("AMB-FAR") == "no_road" and set(why.values()) == {"unreachable"} and len(why) == 4


def test_mobile_unit_routed_from_its_avl_position(city, session, db_conn, net):
    lon, lat = net.grid_lonlat(19, 10.5)
    res = routing.nearest(session, lat, lon, agency="DINKES", k=5)
    by_call = {c["callsign"]: c for c in res["candidates"]}
    amb5 = by_call["AMB-05"]
    assert amb5["position"] == "avl" and by_call["AMB-01"]["position"] == "station"
    g = cache.state(session).graph
    ulon, ulat = net.grid_lonlat(18.5, 12.2)
    s = store.snap_points(session, g, [(0, ulon, ulat), (1, lon, lat)])
    pgr = pgr_points_cost(db_conn, [(1, int(g.edge_ids[s[0].edge]), s[0].fraction),
                                    (2, int(g.edge_ids[s[1].edge]), s[1].fraction)], -1, [-2])
    assert amb5["eta_s"] == pytest.approx(pgr[-2], abs=1.0)
    assert res["candidates"][0]["callsign"] == "AMB-05"  # it is nearby; its home station is not


def test_many_mobile_units_match_brute_force(city, session, db_conn, net):
    """Patrol cars on the road: the growing reverse-search bound must not change the answer."""
    rng = np.random.default_rng(11)
    for i in range(15):
        add_unit(db_conn, "POLRI", f"PATROL-{i}", "patrol_car", None, net.grid_lonlat(*rng.uniform(0, 29, 2)))
    lon, lat = net.grid_lonlat(7.3, 22)
    res = routing.nearest(session, lat, lon, agency="POLRI", k=4)
    assert res["method"] == "drive_time" and all(c["position"] == "avl" for c in res["candidates"])
    units = db_conn.execute(text(
        "SELECT callsign, ST_X(geom), ST_Y(geom) FROM units WHERE agency_code = 'POLRI'")).all()
    brute = sorted((routing.route(session, (y, x), (lat, lon))["eta_s"], c) for c, x, y in units)
    assert [c["eta_s"] for c in res["candidates"]] == pytest.approx([e for e, _ in brute[:4]], abs=0.2)
    assert [c["callsign"] for c in res["candidates"]] == [c for _, c in brute[:4]]


# -- filters and fallbacks -----------------------------------------------------------------
def test_busy_units_skipped_unless_asked(city, session, net):
    lon, lat = net.grid_lonlat(2, 11)  # next to dk_west, whose only engine is dispatched
    res = routing.nearest(session, lat, lon, agency="DAMKAR", k=5)
    calls = [c["callsign"] for c in res["candidates"]]
    assert "DK-04" not in calls and all(c["available"] for c in res["candidates"])
    busy = routing.nearest(session, lat, lon, agency="DAMKAR", k=5, include_busy=True)
    first = busy["candidates"][0]
    assert first["callsign"] == "DK-04" and first["available"] is False and first["status"] == "dispatched"


def test_agency_k_and_unit_type(city, session, net):
    lon, lat = net.grid_lonlat(12, 12)
    res = routing.nearest(session, lat, lon, agency="DINKES", k=2)
    assert len(res["candidates"]) == 2 and {c["agency"] for c in res["candidates"]} == {"DINKES"}
    every = routing.nearest(session, lat, lon, k=50)
    assert {c["agency"] for c in every["candidates"]} == {"DAMKAR", "DINKES", "BPBD"}
    assert len(every["candidates"]) == 7 + 1  # 7 available units and the BPBD station
    rescue = routing.nearest(session, lat, lon, unit_type="rescue")
    assert [c["callsign"] for c in rescue["candidates"]] == ["DK-03"]


def test_agency_without_units_lists_stations(city, session, net):
    lon, lat = net.grid_lonlat(14, 16)
    res = routing.nearest(session, lat, lon, agency="BPBD")
    assert res["method"] == "drive_time"
    (c,) = res["candidates"]
    assert c["kind"] == "station" and c["station_id"] == city["bpbd"] and c["unit_id"] is None
    assert c["eta_s"] > 0 and c["route"]["type"] == "LineString"


def test_by_distance_order_equals_st_distance(city, session, db_conn, net):
    lon, lat = net.grid_lonlat(9, 14)
    res = routing.nearest(session, lat, lon, k=6, by="distance")
    assert res["method"] == "straight_line"
    rows = db_conn.execute(text(
        "SELECT u.id, ST_Distance(COALESCE(u.geom, s.geom)::geography, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d "
        "FROM units u LEFT JOIN stations s ON s.id = u.station_id WHERE u.status = 'available' "
        "ORDER BY d, u.id LIMIT 6"), {"lon": lon, "lat": lat}).all()
    got = [(c["unit_id"], c["straight_m"]) for c in res["candidates"] if c["kind"] == "unit"]
    assert [u for u, _ in got] == [r.id for r in rows][: len(got)]
    for (_, d), r in zip(got, rows, strict=False):
        assert d == pytest.approx(r.d, abs=0.1)
    assert all(c["eta_s"] is None for c in res["candidates"])


def test_unreachable_point_falls_back_and_says_so(city, session, net):
    lon, lat = net.node_lonlat(int(net.island_node_ids[4]))
    res = routing.nearest(session, lat, lon, agency="DAMKAR")
    assert res["method"] == "straight_line_fallback"
    assert "reach" in res["reason"]
    assert res["candidates"] and res["candidates"][0]["eta_s"] > 0
    far = routing.nearest(session, -7.5, 110.42, agency="DAMKAR")  # 50 km away, no road near
    assert far["method"] == "straight_line_fallback" and "no road within" in far["reason"]


def test_no_network_falls_back(db_conn, session, net):
    seed_city(db_conn, net)
    lon, lat = net.grid_lonlat(10, 10)
    res = routing.nearest(session, lat, lon, agency="DINKES", k=2)
    assert res["method"] == "straight_line_fallback" and res["reason"] == "no road network loaded"
    assert len(res["candidates"]) == 2
    r = routing.route(session, (lat, lon), (lat + 0.01, lon))
    assert r["method"] == "straight_line_fallback" and r["distance_m"] == pytest.approx(1105, abs=10)


def test_cache_rebuilds_when_stations_change(city, session, db_conn, net):
    lon, lat = net.grid_lonlat(29, 29)
    before = routing.nearest(session, lat, lon, agency="DAMKAR", k=1)["candidates"][0]
    sid = add_station(db_conn, "DAMKAR", "Pos baru", net.grid_lonlat(28.5, 29))
    add_unit(db_conn, "DAMKAR", "DK-09", "fire_engine", sid)
    after = routing.nearest(session, lat, lon, agency="DAMKAR", k=1)["candidates"][0]
    assert after["callsign"] == "DK-09" and after["eta_s"] < before["eta_s"]


# -- HTTP and CLI --------------------------------------------------------------------------
def test_api_nearest_shape(city, client, net):
    lon, lat = net.grid_lonlat(16.4, 17)
    res = client.get(f"/api/v1/nearest?lat={lat}&lon={lon}&agency=dinkes&k=2")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["method"] == "drive_time"
    assert body["query"] == {"lat": lat, "lon": lon, "agency": "DINKES", "k": 2, "by": "time",
                             "unit_type": None, "include_busy": False}
    c = body["candidates"][0]
    assert set(c) >= {"unit_id", "callsign", "unit_type", "station_id", "station_name", "agency", "status",
                      "available", "eta_s", "distance_m", "straight_m", "route"}
    assert c["route"]["type"] == "LineString" and len(c["route"]["coordinates"]) >= 2
    assert c["distance_m"] >= c["straight_m"] - 50


@pytest.mark.parametrize(("query", "field"), [
    ("lon=110.42", "lat"), ("lat=nan&lon=110.42", "lat"), ("lat=-91&lon=110.42", "lat"),
    ("lat=-6.98&lon=abc", "lon"), ("lat=-6.98&lon=inf", "lon"), ("lat=-6.98", "lon"),
    ("lat=-6.98&lon=110.42&agency=NOPE", "agency"), ("lat=-6.98&lon=110.42&k=0", "k"),
    ("lat=-6.98&lon=110.42&k=51", "k"), ("lat=-6.98&lon=110.42&k=2.5", "k"),
    ("lat=-6.98&lon=110.42&by=fast", "by"), ("lat=-6.98&lon=110.42&include_busy=maybe", "include_busy"),
])
def test_api_nearest_422_names_the_field(client, query, field):
    res = client.get(f"/api/v1/nearest?{query}")
    assert res.status_code == 422
    assert res.mimetype == "application/problem+json"
    body = res.get_json()
    assert body["status"] == 422 and body["field"] == field and body["errors"][0]["field"] == field


def test_cli_prints_the_same_candidates(cluster, net):
    """`peta112 nearest` in a real subprocess against a scratch database with committed data."""
    from sqlalchemy.orm import Session

    from app.db import migrate
    from app.db.engine import make_engine

    name = f"peta112_routing_cli_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    try:
        url = cluster.url(name)
        migrate(url, "head")
        engine = make_engine(url)
        with engine.begin() as conn:
            load_network(conn, net)
            seed_city(conn, net)
            add_unit(conn, "DINKES", "AMB-FAR", "ambulance", None, (110.42, -7.5))  # 50 km from any road
        lon, lat = net.grid_lonlat(16.4, 17)
        with Session(engine) as s:
            expected = routing.nearest_for_point(s, lat, lon, agency="DINKES", k=3)
        assert [u["callsign"] for u in expected["unreached"]] == ["AMB-FAR"]
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATABASE_URL": url}
        base = [sys.executable, "-m", "app.cli_main", "nearest", "--lat", repr(lat), "--lon", repr(lon),
                "--agency", "DINKES", "--k", "3"]
        out = subprocess.run([*base, "--json"], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == json.loads(json.dumps(expected))
        table = subprocess.run(base, capture_output=True, text=True, env=env, timeout=300)
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        assert lines[0] == "method: drive_time"
        n = len(expected["candidates"])
        assert [ln.split()[1] for ln in lines[2:2 + n]] == [c["callsign"] for c in expected["candidates"]]
        assert lines[2 + n:] == ["not reachable: AMB-FAR (DINKES, no_road): no road within 1500 m of its "
                                 "last position"]
        bad = subprocess.run([*base[:-2], "--k", "99"], capture_output=True, text=True, env=env, timeout=300)
        assert bad.returncode == 1 and bad.stderr.startswith("error: k:")
    finally:
        cluster.drop_database(name)
