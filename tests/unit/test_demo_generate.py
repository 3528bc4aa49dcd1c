"""The demo city generator, without a database: determinism, geometry, network and planted patterns."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from app.cli.demo import SCALE_NAMES
from geodata.demo import SCALES, DemoCity, generate
from geodata.demo.catalog import seed_catalog
from geodata.demo.history import RAINY_MONTHS

UNTIL = date(2026, 11, 25)
OPEN = ("received", "verified", "dispatched", "en_route", "on_scene")


@pytest.fixture(scope="module")
def city() -> DemoCity:
    # one full year, so the rainy season and every category are in the window
    return generate(seed=112, scale="small", years=1.0, until=UNTIL)


def test_same_seed_same_city_other_seed_other_city(city: DemoCity):
    again = generate(seed=112, scale="small", years=1.0, until=UNTIL)
    other = generate(seed=7, scale="small", years=1.0, until=UNTIL)
    assert again.fingerprint() == city.fingerprint()
    assert other.fingerprint() != city.fingerprint()
    assert again.manifest == city.manifest


def test_kelurahan_tile_the_land_without_gaps_or_overlaps(city: DemoCity):
    areas = city.admin_areas.to_crs(32749)
    kel = areas[areas["level"] == "kelurahan"]
    kec = areas[areas["level"] == "kecamatan"]
    land = gpd.GeoSeries([city.land], crs=4326).to_crs(32749).iloc[0]
    assert 40 <= len(kel) <= 100 and 5 <= len(kec) <= 10
    assert shapely.is_valid(areas.geometry.to_numpy()).all()
    assert (areas.geometry.geom_type == "MultiPolygon").all()
    union = shapely.union_all(kel.geometry.to_numpy())
    assert union.area == pytest.approx(land.area, rel=1e-6)
    assert kel.geometry.area.sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps
    assert shapely.symmetric_difference(union, land).area < 1e-6 * land.area
    assert kec.geometry.area.sum() == pytest.approx(union.area, rel=1e-6)
    assert set(kel["parent_id"]) == set(kec["id"])
    assert kel["name"].is_unique and areas["code"].is_unique
    assert (kel["population"] > 0).all()
    flags = pd.DataFrame(list(kel["props"]))
    for flag in ("coastal", "riverside", "lowlying", "dense_kampung"):
        assert flags[flag].any(), flag


def _graph(city: DemoCity) -> tuple[int, np.ndarray]:
    e = city.road_edges
    fwd, back = e["cost"].to_numpy() >= 0, e["reverse_cost"].to_numpy() >= 0
    src, tgt = e["source"].to_numpy(), e["target"].to_numpy()
    rows = np.concatenate([src[fwd], tgt[back]])
    cols = np.concatenate([tgt[fwd], src[back]])
    n = int(city.road_nodes["id"].max()) + 1
    g = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=True, connection="strong")
    return int(fwd.sum() + back.sum()), labels[city.road_nodes["id"].to_numpy()]


def test_network_is_one_strongly_connected_component_of_the_right_size(city: DemoCity):
    directed, labels = _graph(city)
    assert len(np.unique(labels)) == 1
    assert 1000 <= directed <= 3000
    assert directed == city.manifest["counts"]["directed_edges"]
    e = city.road_edges
    assert set(e["source"]) | set(e["target"]) == set(city.road_nodes["id"])
    assert set(e["highway"]) == {"primary", "secondary", "residential", "service"}
    assert e["name"].notna().all()
    assert np.allclose(e["cost"], e["length_m"] / (e["speed_kmh"] / 3.6), rtol=1e-3, atol=1e-2)


def test_one_way_streets_are_closed_backwards(city: DemoCity):
    e = city.road_edges
    ow = e[e["oneway"]]
    assert len(ow) > 10
    assert (ow["reverse_cost"] == -1).all()
    assert (e.loc[~e["oneway"], "reverse_cost"] == e.loc[~e["oneway"], "cost"]).all()


def test_river_and_railway_are_crossed_only_at_bridges_and_level_crossings(city: DemoCity):
    e = city.road_edges.to_crs(32749)
    places = city.places.to_crs(32749)
    bridge = e["props"].map(lambda p: bool(p.get("bridge"))).to_numpy()
    crossing = e["props"].map(lambda p: bool(p.get("level_crossing"))).to_numpy()
    rivers = shapely.union_all(places.loc[places["kind"] == "waterway"].geometry.to_numpy())
    rail = shapely.union_all(places.loc[places["kind"] == "railway"].geometry.to_numpy())
    over_river = shapely.intersects(e.geometry.to_numpy(), rivers)
    over_rail = shapely.intersects(e.geometry.to_numpy(), rail)
    assert over_river.sum() >= 2
    assert (over_river == bridge).all()
    assert over_rail.sum() >= 1
    assert (over_rail == crossing).all()


def test_streets_and_landmarks_are_named_for_the_geocoder(city: DemoCity):
    p = city.places
    streets = p[p["kind"] == "street"]
    assert set(city.road_edges["name"]) == set(streets["name"])
    assert streets["name"].is_unique
    kinds = set(p.loc[p["kind"] == "landmark", "props"].map(lambda d: d["type"]))
    assert {"pasar", "masjid", "sekolah", "kantor_kelurahan", "terminal", "stasiun", "hospital"} <= kinds
    assert (p["kind"] == "kelurahan").sum() == (city.admin_areas["level"] == "kelurahan").sum()
    assert any(n.startswith("Gg. ") for n in streets["name"])


def test_every_agency_has_a_station_and_units_match_the_response_plans(city: DemoCity):
    cat = seed_catalog()
    assert set(city.stations["agency_code"]) == set(cat.agencies)
    u = city.units
    assert u["callsign"].is_unique
    have = set(zip(u["agency_code"], u["unit_type"], strict=True))
    for c in cat.categories.values():
        for step in c.plan:
            assert (step["agency"], step["unit_type"]) in have, (c.code, step)
    assert (u["status"] == "available").mean() > 0.7
    busy = u[u["current_incident_id"].notna()]
    assert len(busy) >= 1
    inc = city.incidents.set_index("id")
    assert inc.loc[busy["current_incident_id"].astype(int), "status"].isin(OPEN).all()
    assert set(city.assignments["unit_id"]) == set(busy["id"])


def test_history_covers_every_category_with_consistent_lifecycles(city: DemoCity):
    inc = city.incidents
    assert set(inc["category_code"]) == set(seed_catalog().categories)
    until = pd.Timestamp(city.until)
    ts = ["received_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at", "resolved_at", "closed_at"]
    for col in [*ts, "cancelled_at"]:
        assert (inc[col].dropna() <= until).all(), col
    closed = inc[inc["status"] == "closed"].copy()
    closed["en_route_at"] = closed["en_route_at"].fillna(closed["dispatched_at"])
    closed["on_scene_at"] = closed["on_scene_at"].fillna(closed["en_route_at"])
    for a, b in zip(ts, ts[1:], strict=False):
        assert (closed[a] <= closed[b]).all(), (a, b)
    assert (inc["status"] == "closed").mean() > 0.7
    assert inc["status"].isin(OPEN).sum() >= 3
    assert inc["status"].isin(["cancelled"]).any()
    assert inc["kelurahan_id"].notna().all() and inc["address"].str.contains("Kel. ").all()
    assert inc["caller_phone"].str.match(r"^\+628\d{8,11}$").all()


def test_pranks_are_a_minority_and_come_from_repeat_numbers(city: DemoCity):
    inc = city.incidents
    prank = inc[inc["is_prank"]]
    assert 0.10 <= len(prank) / len(inc) <= 0.20
    assert (prank["status"] == "prank").mean() > 0.95
    repeat = prank["caller_phone"].isin(city.manifest["prank_repeat_numbers"]).mean()
    assert repeat > 0.4
    assert not city.incident_tasks["incident_id"].isin(prank["id"]).any()


def test_floods_come_in_the_rainy_season_in_flood_prone_kelurahan(city: DemoCity):
    inc = city.incidents
    flood = inc[inc["category_code"] == "banjir"]
    local_month = (flood["received_at"] + pd.Timedelta(hours=7)).dt.month
    assert local_month.isin(RAINY_MONTHS).mean() > 0.8
    codes = city.admin_areas.set_index("id")["code"]
    in_prone = codes.loc[flood["kelurahan_id"]].isin(city.manifest["flood_prone_kelurahan"])
    assert in_prone.mean() > 0.7


def test_one_agency_task_per_routing_rule_and_one_agency_clearly_slower(city: DemoCity):
    cat = seed_catalog()
    t, inc = city.incident_tasks, city.incidents
    forwarded = inc[~inc["is_prank"] & inc["dispatched_at"].notna()]  # the desk forwards at dispatch
    expected = forwarded["category_code"].map(lambda c: len(cat.categories[c].agencies)).sum()
    assert len(t) == expected
    assert not t.duplicated(["incident_id", "agency_code"]).any()
    ack = (t["acknowledged_at"] - t["forwarded_at"]).dt.total_seconds().groupby(t["agency_code"]).median()
    slow = city.manifest["slow_agency"]["code"]
    assert ack.idxmax() == slow
    assert ack[slow] > 2 * ack.drop(slow).max()


def test_events_reconstruct_each_incident_status(city: DemoCity):
    ev, inc = city.incident_events, city.incidents
    created = ev[ev["kind"] == "created"]
    assert created["incident_id"].is_unique and len(created) == len(inc)
    last = ev.sort_values(["incident_id", "at", "id"]).groupby("incident_id").last()
    final = inc.set_index("id")["status"]
    assert (last["to_status"] == final.loc[last.index]).all()
    assert ev["id"].is_monotonic_increasing and ev["at"].is_monotonic_increasing


def test_planted_hotspots_stand_out(city: DemoCity):
    inc = city.incidents.to_crs(32749)
    for h in city.manifest["hotspots"]:
        pts = inc[inc["category_code"] == h["category"]]
        c = gpd.GeoSeries(gpd.points_from_xy([h["lon"]], [h["lat"]]), crs=4326).to_crs(32749).iloc[0]
        near = (pts.distance(c) <= h["radius_m"]).sum()
        land_share = np.pi * h["radius_m"] ** 2 / gpd.GeoSeries([city.land], crs=4326).to_crs(32749).area.iloc[0]
        assert near >= h["planted"]
        assert near / len(pts) > 3 * land_share, h


def test_scales_and_cli_choices_agree():
    assert tuple(SCALES) == SCALE_NAMES
    with pytest.raises(ValueError, match="unknown scale"):
        generate(scale="village")
