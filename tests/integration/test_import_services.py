"""The importer services called in-process (as from a notebook), inside the
rolled-back ``db_conn`` transaction, plus the small rules they rely on."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from geodata.importers import ImportProblem
from geodata.importers.areas import import_areas
from geodata.importers.incidents import import_incidents
from geodata.importers.network import (
    Network,
    largest_component,
    oneway_direction,
    parse_maxspeed,
    speed_for,
)
from geodata.importers.osm import build_network
from geodata.importers.stations import import_stations


@pytest.mark.parametrize(("value", "kmh"), [
    ("50", 50.0), ("30 mph", 48.28032), ("['40', '60']", 50.0), ("ID:urban", 50.0), ("none", None),
    ("signals", None), (None, None), ("40;60", 50.0), ("0", None),
])
def test_parse_maxspeed(value, kmh):
    assert parse_maxspeed(value) == (pytest.approx(kmh) if kmh else None)


def test_speed_defaults_and_oneway_rules():
    assert speed_for("residential") == 25 and speed_for("primary", "60") == 60
    assert speed_for("weird_class") == 25
    assert oneway_direction({"oneway": "yes"}) == 1 and oneway_direction({"oneway": "1"}) == 1
    assert oneway_direction({"oneway": "true"}) == 1 and oneway_direction({"oneway": "-1"}) == -1
    assert oneway_direction({"junction": "roundabout"}) == 1
    assert oneway_direction({"junction": "roundabout", "oneway": "no"}) == 0
    assert oneway_direction({"highway": "motorway"}) == 1
    assert oneway_direction({"highway": "primary"}) == 0


def test_ways_cut_by_the_extract_and_islands():
    xy = {i: (116.80 + 0.001 * i, -1.2) for i in range(1, 10)}
    ways = [
        (1, {"highway": "residential"}, [1, 2, 3, 4], [xy[1], xy[2], None, xy[4]]),  # node 3 outside
        (2, {"highway": "residential"}, [2, 5], [xy[2], xy[5]]),
        (3, {"highway": "service"}, [8, 9], [xy[8], xy[9]]),  # island
    ]
    net = build_network(ways, [])
    assert sorted(zip(net.edges.source, net.edges.target, strict=True)) == [(1, 2), (2, 5), (8, 9)]
    assert 4 not in net.nodes.index  # a lone node after the cut is not a road
    main = largest_component(net)
    assert sorted(main.nodes.index) == [1, 2, 5] and len(main.edges) == 2
    assert isinstance(main, Network)


def test_ways_without_any_located_node_give_no_edges():
    net = build_network([(1, {"highway": "residential"}, [1, 2], [None, None])], [])
    assert len(net.edges) == 0 and len(net.nodes) == 0
    net = build_network([(1, {"highway": "residential"}, [1, 2], [(116.8, -1.2), None])], [])
    assert len(net.edges) == 0 and len(net.nodes) == 0  # one located node is no road


def test_largest_component_drops_one_way_traps():
    """Issue 17: a one-way street out of the city into a dead end is connected (weakly) but a
    unit sent there cannot drive back; --largest-component keeps only what routing can use both ways."""
    xy = {i: (116.80 + 0.001 * i, -1.2 + 0.0005 * (i % 2)) for i in range(1, 8)}
    ways = [
        (1, {"highway": "residential"}, [1, 2, 3, 1], [xy[1], xy[2], xy[3], xy[1]]),  # a two-way loop
        (2, {"highway": "residential", "oneway": "yes"}, [3, 4, 5], [xy[3], xy[4], xy[5]]),  # in, no way out
        (3, {"highway": "residential", "oneway": "yes"}, [6, 7, 1], [xy[6], xy[7], xy[1]]),  # out of nowhere
    ]
    net = build_network(ways, [])
    assert sorted(net.nodes.index) == [1, 3, 5, 6]  # ways split where they meet (1 and 3)
    assert len(net.edges) == 4
    main = largest_component(net)
    assert sorted(main.nodes.index) == [1, 3]
    assert sorted(zip(main.edges.source, main.edges.target, strict=True)) == [(1, 3), (3, 1)]
    assert set(main.edges.osm_id) == {1}


def test_stations_from_a_projected_point_file(db_conn, tmp_path):
    pts = gpd.GeoDataFrame(
        {"agency": ["BPBD", "POLRI"], "kind": ["BPBD post", "police_post"],
         "name": ["Pusdalops BPBD", "Polsek Balikpapan Kota"], "radio": ["ch 7", None]},
        geometry=gpd.points_from_xy([116.83, 116.85], [-1.27, -1.26]), crs=4326).to_crs(32750)
    path = tmp_path / "stations.gpkg"
    pts.to_file(path)
    before = db_conn.execute(text("SELECT count(*) FROM stations")).scalar()
    assert import_stations(db_conn, path) == {"stations": 2, "kept": 0, "skipped": 0}
    rows = db_conn.execute(text(
        "SELECT agency_code, kind, props, ST_X(geom), ST_Y(geom) FROM stations ORDER BY id DESC LIMIT 2")).all()
    (a2, k2, p2, x2, y2), (a1, k1, p1, x1, y1) = rows
    assert (a1, k1, p1) == ("BPBD", "bpbd_post", {"radio": "ch 7"}) and p2 == {}
    assert x1 == pytest.approx(116.83, abs=1e-7) and y1 == pytest.approx(-1.27, abs=1e-7)
    assert db_conn.execute(text("SELECT count(*) FROM stations")).scalar() == before + 2


def test_areas_codes_from_names_and_explicit_parent(db_conn, tmp_path):
    sq = shapely.box(116.80, -1.30, 116.82, -1.28)
    gpd.GeoDataFrame({"nama": ["Balikpapan Barat", "Balikpapan Barat"]}, geometry=[sq, sq.buffer(0.001)],
                     crs=4326).to_file(tmp_path / "kec.geojson")
    assert import_areas(db_conn, tmp_path / "kec.geojson", "kecamatan")["areas"] == 2
    codes = list(db_conn.execute(text("SELECT code FROM admin_areas WHERE level = 'kecamatan' ORDER BY code"))
                 .scalars())
    # One name twice: the geometry tells them apart, the same way on every run.
    assert len(set(codes)) == 2 and all(c.startswith("kec-balikpapan-barat-") and len(c) == 29 for c in codes)
    assert import_areas(db_conn, tmp_path / "kec.geojson", "kecamatan")["unchanged"] == 2
    gpd.GeoDataFrame({"name": ["Margasari"], "kec": [codes[1]], "luas": [1.5]},
                     geometry=[shapely.box(116.805, -1.29, 116.81, -1.285)], crs=4326
                     ).to_file(tmp_path / "kel.geojson")
    res = import_areas(db_conn, tmp_path / "kel.geojson", "kelurahan", parent_field="kec")
    ids = res.pop("ids")
    assert res == {"areas": 1, "linked": 1, "repaired": 0, "inserted": 1, "updated": 0, "unchanged": 0}
    assert db_conn.execute(text("SELECT name FROM admin_areas WHERE id = ANY(:ids)"), {"ids": ids}).all() == \
        [("Margasari",)]
    parent, props = db_conn.execute(text(
        "SELECT p.code, k.props FROM admin_areas k JOIN admin_areas p ON p.id = k.parent_id "
        "WHERE k.name = 'Margasari'")).one()
    assert parent == codes[1] and props == {"luas": 1.5}
    gpd.GeoDataFrame({"name": ["X"], "kec": ["Nowhere"]}, geometry=[sq], crs=4326).to_file(tmp_path / "bad.geojson")
    with pytest.raises(ImportProblem, match="row 1: parent 'Nowhere'"):
        import_areas(db_conn, tmp_path / "bad.geojson", "kelurahan", parent_field="kec")


def test_incidents_reject_bad_rows(db_conn, tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text("category,received_at,lat,lon\nbanjir,yesterday-ish,-1.2,116.8\n")
    with pytest.raises(ImportProblem, match="row 1: received_at 'yesterday-ish'"):
        import_incidents(db_conn, p)
    p.write_text("category,received_at,lat,lon\nbanjir,2025-01-01,95,116.8\n")
    with pytest.raises(ImportProblem, match="row 1: lat 95.0 / lon 116.8 out of range"):
        import_incidents(db_conn, p)
    p.write_text("category,received_at,lat,lon,status\nbanjir,2025-01-01,-1.2,116.8,lost\n")
    with pytest.raises(ImportProblem, match="unknown status 'lost'"):
        import_incidents(db_conn, p)
    with pytest.raises(ImportProblem, match="unknown time zone"):
        import_incidents(db_conn, p, timezone="Mars/Olympus")
    p.write_text("category,received_at,lat,lon,id\nbanjir,2025-01-01,-1.2,116.8,A-1\n"
                 "banjir,2025-01-01,-1.2,116.8,A-1\n")
    assert import_incidents(db_conn, p)["incidents"] == 1  # same external id: one incident
