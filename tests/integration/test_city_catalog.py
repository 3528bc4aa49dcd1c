"""The city's catalog on real PostGIS: the demo file equals the seed, check/apply through the CLI, retiring.

``peta112 city catalog check|apply`` runs as a real subprocess against a committed scratch
database (check changes nothing, apply twice changes nothing the second time, a bad file
changes nothing); retiring a used category and adding a new agency are checked through the
HTTP API and Open311 in the test's rolled-back transaction, as the app reads them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from app.city import catalog
from app.db.engine import make_engine
from app.routing import cache
from geodata.demo.catalog import CATALOG_FILE
from geodata.importers.problem import ImportProblem
from geodata.importers.stations import import_stations
from tests import tinycity, users
from tests.apps import joined_app
from tests.scratch import scratch_database

PETA112 = [sys.executable, "-m", "app.cli"]
KEY = "kunci-katalog"
IN_EAST = {"lat": -6.978, "lon": 110.431}
DEMO = CATALOG_FILE.read_text(encoding="utf-8")

# A city's own catalog: TNI joins (a new agency with its own unit type and category),
# fires get a 12-minute target, health information is dropped (no incident uses it).
TNI = """
[[agency]]
code = "TNI"
name = "Kodim 0733 (TNI AD)"
name_en = "Army district command"
kind = "responder"
color = "#4b5320"
unit_types = ["truk_tni"]

[[category]]
code = "bantuan_tni"
name = "Bantuan TNI"
name_en = "Army assistance"
priority = 2
target = "30 menit"
emergency = true
color = "#4b5320"
primary = ["TNI"]
support = ["BPBD"]
plan = [{ agency = "TNI", unit_type = "truk_tni", count = 1 }]
"""


def without_category(doc: str, code: str) -> str:
    """The file without the category's block and without it in other categories' ``related``."""
    blocks = doc.split("\n[[")
    doc = "\n[[".join(b for b in blocks if f'\ncode = "{code}"\n' not in b)
    return re.sub(r'(?m)^related = \[(.*)\]$', lambda m: "related = [" + ", ".join(
        x for x in m.group(1).split(", ") if x != f'"{code}"') + "]", doc)


def city_file(tmp_path: Path, doc: str, name: str = "kota.toml") -> Path:
    path = tmp_path / name
    path.write_text(doc, encoding="utf-8")
    return path


def custom(tmp_path: Path) -> Path:
    doc = without_category(DEMO, "info_kesehatan").replace(
        'code = "kebakaran"\nname = "Kebakaran"\nname_en = "Fire"\npriority = 1\ntarget = "8 menit"',
        'code = "kebakaran"\nname = "Kebakaran"\nname_en = "Fire"\npriority = 1\ntarget = "12 menit"')
    assert doc.count('target = "12 menit"') == 1 and 'code = "info_kesehatan"' not in doc
    return city_file(tmp_path, doc + TNI)


def snapshot(conn) -> dict:
    """Every row of the catalog tables and the audit, to compare before and after."""
    return {t: sorted(map(tuple, conn.execute(text(f"SELECT to_jsonb(x)::text FROM {t} x")).all()))
            for t in ("agencies", "incident_categories", "category_agencies", "catalog_events")}


# -- the demo file and the seed agree ----------------------------------------------------------------
def test_the_demo_file_applied_to_a_fresh_database_changes_nothing(db_conn):
    cat = catalog.load(CATALOG_FILE)
    before = snapshot(db_conn)
    assert catalog.plan_changes(db_conn, cat) == []
    assert catalog.apply(db_conn, cat, "test") == []
    assert snapshot(db_conn) == before


def migration_0017_targets() -> set[tuple[str, str, int]]:
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0017_flood_notify_task_targets.py"
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {(c, a, minutes * 60) for c, a, minutes in module.SUPPORT_TARGETS}


def test_the_demo_file_holds_the_task_targets_migration_0017_seeds(db_conn):
    cat = catalog.load(CATALOG_FILE)
    in_file = {(c.code, a, s) for c in cat.categories.values() for a, s in c.task_targets}
    seeded = migration_0017_targets()
    assert len(seeded) == 10 and in_file == seeded
    in_db = set(map(tuple, db_conn.execute(text(
        "SELECT category_code, agency_code, task_target_s FROM category_agencies "
        "WHERE task_target_s IS NOT NULL")).all()))
    assert in_db == seeded
    assert dict(cat.categories["kebakaran"].task_targets) == {"POLRI": 1200, "PLN": 2700}


def test_export_writes_a_file_that_applies_as_no_change(db_conn, tmp_path):
    doc = catalog.export(db_conn)
    again = catalog.parse(doc.encode(), "export.toml")
    assert len(again.agencies) == 12 and len(again.categories) == 19
    assert catalog.plan_changes(db_conn, again) == []
    assert again.categories["mobil_jenazah"].target_response_s == 7200  # written as "2 jam"
    assert 'target = "2 jam"' in doc and 'target = "3 hari"' in doc
    assert 'support = [{ agency = "PLN", task_target = "45 menit" }, { agency = "POLRI", task_target = "20 menit" }]' \
        in doc
    assert {(c.code, a, t) for c in again.categories.values() for a, t in c.task_targets} == migration_0017_targets()
    # After a city's own catalog (a new agency, a retired category), the export is that catalog.
    db_conn.execute(text("INSERT INTO incidents (category_code, priority, geom) "
                         "VALUES ('info_kesehatan', 5, ST_SetSRID(ST_MakePoint(110.4, -6.97), 4326))"))
    changes = catalog.apply(db_conn, catalog.load(custom(tmp_path)), "test")
    assert ("retire", "info_kesehatan") in {(c.action, c.code) for c in changes}
    doc = catalog.export(db_conn)
    assert 'code = "info_kesehatan"' not in doc and 'code = "TNI"' in doc
    assert catalog.plan_changes(db_conn, catalog.parse(doc.encode())) == []


# -- the CLI on a committed scratch database ----------------------------------------------------------
@pytest.fixture(scope="module")
def scratch_url(cluster):
    with scratch_database(cluster, "peta112_catalog") as url:
        yield url


def run(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PETA112, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=300)


def read_snapshot(url: str) -> dict:
    eng = make_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as conn:
            return snapshot(conn)
    finally:
        eng.dispose()


def test_check_prints_the_diff_and_changes_nothing_then_apply_twice(scratch_url, tmp_path):
    path = custom(tmp_path)
    before = read_snapshot(scratch_url)
    res = run(scratch_url, "city", "catalog", "check", path)
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert f"{path}: valid (13 agencies, 19 categories)" in out
    assert "+ agency TNI: add (Kodim 0733 (TNI AD))" in out
    assert "+ category bantuan_tni: add (Bantuan TNI)" in out
    assert "~ category kebakaran: target_response_s 480 -> 720" in out
    assert "- category info_kesehatan: delete (not in the file, nothing uses it)" in out
    assert out[-1] == f"{path}: 4 change(s) would be applied; nothing changed"
    assert read_snapshot(scratch_url) == before

    res = run(scratch_url, "city", "catalog", "apply", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == f"{path}: 4 change(s) applied, audited in catalog_events"
    after = read_snapshot(scratch_url)
    assert after != before
    eng = make_engine(scratch_url, poolclass=NullPool)
    try:
        with eng.connect() as conn:
            events = conn.execute(text("SELECT kind, code, actor, source, data->'fields' FROM catalog_events "
                                       "ORDER BY id")).all()
            assert [(k, c) for k, c, *_ in events] == [("agency_add", "TNI"), ("category_change", "kebakaran"),
                                                        ("category_add", "bantuan_tni"),
                                                        ("category_delete", "info_kesehatan")]
            assert all(a.startswith("cli") and s == str(path) for _, _, a, s, _ in events)
            assert events[1][4] == ["target_response_s"]
            assert conn.execute(text("SELECT target_response_s FROM incident_categories "
                                     "WHERE code = 'kebakaran'")).scalar_one() == 720
            assert conn.execute(text("SELECT count(*) FROM incident_categories "
                                     "WHERE code = 'info_kesehatan'")).scalar_one() == 0
            assert conn.execute(text("SELECT array_agg(agency_code || ':' || role ORDER BY agency_code) "
                                     "FROM category_agencies WHERE category_code = 'bantuan_tni'")).scalar_one() \
                == ["BPBD:support", "TNI:primary"]
    finally:
        eng.dispose()

    exported = run(scratch_url, "city", "catalog", "export", "--out", tmp_path / "export.toml")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"{tmp_path / 'export.toml'}: 13 agencies, 19 categories written"
    assert run(scratch_url, "city", "catalog", "export").stdout == (tmp_path / "export.toml").read_text()
    res = run(scratch_url, "city", "catalog", "check", tmp_path / "export.toml")
    assert res.returncode == 0 and "nothing to change" in res.stdout.splitlines()[-1]

    again = run(scratch_url, "city", "catalog", "apply", path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"{path}: the database already holds this catalog; nothing to change"]
    assert read_snapshot(scratch_url) == after  # no row changed, no audit row written

    # The demo file brings the demo catalog back (health information re-added, TNI unused: deleted).
    back = run(scratch_url, "city", "catalog", "apply", CATALOG_FILE)
    assert back.returncode == 0, back.stderr
    assert "- agency TNI: delete (not in the file, nothing uses it)" in back.stdout.splitlines()
    assert {k: v for k, v in read_snapshot(scratch_url).items() if k != "catalog_events"} == \
        {k: v for k, v in before.items() if k != "catalog_events"}


def test_a_bad_file_changes_nothing_one_line_per_problem(scratch_url, tmp_path):
    doc = DEMO.replace('primary = ["PMI"]', 'primary = ["PMI", "PALANG_HIJAU"]') \
        .replace('unit_type = "rescue_boat"', 'unit_type = "kapal_selam"', 1) \
        .replace('target = "3 hari"', 'target = "kapan-kapan"') \
        + '\n[[agency]]\ncode = "DAMKAR"\nname = "Damkar lagi"\nname_en = "Fire again"\ncolor = "#000000"\n'
    path = city_file(tmp_path, doc, "rusak.toml")
    before = read_snapshot(scratch_url)
    for cmd in ("check", "apply"):
        res = run(scratch_url, "city", "catalog", cmd, path)
        assert res.returncode == 1
        assert "Traceback" not in res.stderr and res.stdout == ""
        lines = res.stderr.splitlines()
        assert len(lines) == 4, lines
        assert all(line.startswith(f"error: {path}: ") for line in lines)
        joined = "\n".join(lines)
        assert "agency DAMKAR: duplicate agency code DAMKAR" in joined
        assert "category permintaan_darah: primary names unknown agency PALANG_HIJAU" in joined
        assert "category banjir: plan line 1: unknown unit_type kapal_selam for BPBD" in joined
        assert "category pju_mati: target 'kapan-kapan' is not a duration" in joined
        assert lines[-1].endswith("(4 problems; nothing changed)")
    assert read_snapshot(scratch_url) == before
    missing = run(scratch_url, "city", "catalog", "check", tmp_path / "tidak-ada.toml")
    assert missing.returncode == 1 and "cannot read the file" in missing.stderr and "Traceback" not in missing.stderr


# -- retiring and adding, as the API and Open311 see it ----------------------------------------------
@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    cache.invalidate()
    return db_conn


@pytest.fixture()
def o311(settings, city):
    with joined_app(settings, city, open311_keys=(KEY,)) as application:
        yield users.signed_in(application.test_client())


def test_retiring_a_used_category_keeps_old_incidents_and_refuses_new_ones(client, o311, city, tmp_path):
    old = client.post("/api/v1/incidents", json={"category": "narkoba", **IN_EAST, "description": "transaksi"})
    assert old.status_code == 201, old.get_json()
    old_id = old.get_json()["id"]
    lamp = o311.post("/open311/v2/requests.json", data={"api_key": KEY, "service_code": "pju_mati",
                                                        "lat": "-6.978", "long": "110.431"})
    assert lamp.status_code == 201, lamp.get_json()
    rid = lamp.get_json()[0]["service_request_id"]

    doc = without_category(without_category(DEMO, "narkoba"), "pju_mati")
    changes = catalog.apply(city, catalog.parse(doc.encode(), "kota.toml"), "test")
    assert [(c.action, c.what, c.code) for c in changes] == [
        ("change", "category", "kriminal"), ("change", "category", "perjudian"),
        ("change", "category", "gangguan_ketertiban"),  # no longer related to drugs
        ("retire", "category", "narkoba"), ("retire", "category", "pju_mati")]
    assert changes[0].fields() == ["related"]
    assert changes[3].in_use == {"incidents": 1}
    assert changes[3].line() == "- category narkoba: retire (not in the file, still used by 1 incidents)"
    # BNN answers only drugs; its rule stays with the retired category, so it is retired, not deleted.
    assert catalog.plan_changes(city, catalog.parse(doc.encode())) == []

    # Old incidents keep their category, in the API and in Open311.
    inc = client.get(f"/api/v1/incidents/{old_id}").get_json()
    assert inc["category"] == "narkoba" and inc["category_name"] == "Narkoba"
    [req] = o311.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert req["service_code"] == "pju_mati" and req["service_name"] == "Lampu Jalan (PJU) Mati"
    cats = {c["code"]: c for c in client.get("/api/v1/categories").get_json()["categories"]}
    assert cats["narkoba"]["retired_at"] is not None and cats["kebakaran"]["retired_at"] is None

    # New calls are refused: intake 422 naming the category, Open311 neither lists nor files them.
    res = client.post("/api/v1/incidents", json={"category": "narkoba", **IN_EAST})
    assert res.status_code == 422 and res.mimetype == "application/problem+json"
    assert res.get_json()["field"] == "category" and "retired" in res.get_json()["detail"]
    listed = {s["service_code"] for s in o311.get(f"/open311/v2/services.json?api_key={KEY}").get_json()}
    assert "narkoba" not in listed and "pju_mati" not in listed and "kebakaran" in listed
    assert "pju_mati" not in {s["service_code"] for s in o311.get("/open311/v2/services.json").get_json()}
    assert o311.get(f"/open311/v2/services/pju_mati.json?api_key={KEY}").status_code == 404
    res = o311.post("/open311/v2/requests.json", data={"api_key": KEY, "service_code": "pju_mati",
                                                       "lat": "-6.978", "long": "110.431"})
    assert res.status_code == 400
    [err] = res.get_json()
    assert "service_code" in err["description"] and "retired" in err["description"]

    # Listed again, the category is restored and takes calls.
    changes = catalog.apply(city, catalog.load(CATALOG_FILE), "test")
    assert {(c.action, c.code) for c in changes} == {("restore", "narkoba"), ("restore", "pju_mati"),
                                                      ("change", "kriminal"), ("change", "perjudian"),
                                                      ("change", "gangguan_ketertiban")}
    assert client.post("/api/v1/incidents", json={"category": "narkoba", **IN_EAST}).status_code == 201


def test_a_retired_agency_stays_while_used_and_gets_no_new_tasks(client, city, tmp_path):
    start = DEMO.index('support = [\n    { agency = "POLRI", task_target = "20 menit" }')  # the fire's support
    fire_support = DEMO[start:DEMO.index("\n]", start) + 2]
    assert '"PLN"' in fire_support and "code" not in fire_support
    doc = without_category(DEMO, "narkoba").replace(fire_support, 'support = ["POLRI"]')
    blocks = doc.split("\n[[")
    doc = "\n[[".join(b for b in blocks if 'code = "PLN"' not in b and 'code = "BNN"' not in b)
    city.execute(text("INSERT INTO stations (agency_code, kind, name, geom) "
                      "VALUES ('PLN', 'pln_post', 'PLN ULP', ST_SetSRID(ST_MakePoint(110.43, -6.97), 4326))"))
    changes = catalog.apply(city, catalog.parse(doc.encode()), "test")
    got = {(c.action, c.what, c.code): c.in_use for c in changes}
    assert got[("retire", "agency", "PLN")] == {"stations": 1}
    assert got[("delete", "category", "narkoba")] == {}  # no incident uses it
    assert ("delete", "agency", "BNN") in got  # its only rule went with narkoba
    fire = client.post("/api/v1/incidents", json={"category": "kebakaran", **IN_EAST}).get_json()
    assert {t["agency"] for t in fire["tasks"]} == {"DAMKAR", "POLRI"}
    agencies = {a["code"]: a for a in client.get("/api/v1/agencies").get_json()["agencies"]}
    assert agencies["PLN"]["retired_at"] is not None and "BNN" not in agencies
    assert agencies["DAMKAR"]["unit_types"] == ["fire_engine", "rescue_unit"]
    # A retired agency gets no new accounts and no new stations (it would dispatch for nobody).
    r = client.patch("/api/v1/users/t_damkar", json={"role": "agency", "agency": "PLN"})
    assert r.status_code == 422 and r.get_json()["field"] == "agency", r.get_json()
    assert "retired" in r.get_json()["detail"]
    csv = tmp_path / "stations.csv"
    csv.write_text("agency,kind,name,lat,lon\nPLN,pln_post,PLN Rayon Timur,-6.97,110.44\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match="retired agency code 'PLN'"):
        import_stations(city, csv)


def test_a_new_agency_and_category_are_usable_for_intake_and_routing(client, city, tmp_path):
    changes = catalog.apply(city, catalog.load(custom(tmp_path)), "test")
    assert ("add", "agency", "TNI") in {(c.action, c.what, c.code) for c in changes}
    city.execute(text("""
        INSERT INTO stations (id, agency_code, kind, name, geom) VALUES
          (950, 'TNI', 'military_post', 'Makodim 0733', ST_SetSRID(ST_MakePoint(110.421, -6.966), 4326));
        INSERT INTO units (id, station_id, agency_code, callsign, unit_type, status, geom) VALUES
          (850, 950, 'TNI', 'TNI-TRUK-1', 'truk_tni', 'available', ST_SetSRID(ST_MakePoint(110.421, -6.966), 4326));
    """))
    res = client.post("/api/v1/incidents", json={"category": "bantuan_tni", **IN_EAST, "description": "evakuasi"})
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert {(t["agency"], t["agency_name"]) for t in inc["tasks"]} >= {("TNI", "Kodim 0733 (TNI AD)")}
    assert {t["agency"] for t in inc["tasks"]} == {"TNI", "BPBD"}
    [line] = [x for x in inc["recommended"]["plan"] if x["agency"] == "TNI"]
    assert line["unit_type"] == "truk_tni" and line["filled"] == 1
    [cand] = line["candidates"]
    assert cand["callsign"] == "TNI-TRUK-1" and cand["eta_s"] > 0
    assert inc["target_response_s"] == 1800
    # The changed target is what intake uses at once.
    fire = client.post("/api/v1/incidents", json={"category": "kebakaran", **IN_EAST}).get_json()
    assert fire["target_response_s"] == 720


def test_a_city_category_related_to_another_is_checked_for_duplicates(client, city):
    forest = """
[[category]]
code = "kebakaran_hutan"
name = "Kebakaran Hutan dan Lahan"
name_en = "Forest and land fire"
priority = 1
target = "30 menit"
emergency = true
color = "#b30000"
related = ["kebakaran"]
primary = ["DAMKAR", "BPBD"]
"""
    changes = catalog.apply(city, catalog.parse((DEMO + forest).encode()), "test")
    assert [(c.action, c.code) for c in changes] == [("change", "kebakaran"), ("add", "kebakaran_hutan")]
    assert changes[0].line() == "~ category kebakaran: related [ambulans] -> [ambulans, kebakaran_hutan]"
    fire = client.post("/api/v1/incidents", json={"category": "kebakaran", **IN_EAST}).get_json()
    land = client.post("/api/v1/incidents", json={"category": "kebakaran_hutan", "lat": IN_EAST["lat"] + 0.001,
                                                  "lon": IN_EAST["lon"]})
    assert land.status_code == 201, land.get_json()
    assert land.get_json()["duplicate_of"] == fire["id"]
    assert {t["agency"] for t in land.get_json()["tasks"]} == {"DAMKAR", "BPBD"}
    near = client.get("/api/v1/incidents/nearby-open", query_string={"category": "kebakaran_hutan", **IN_EAST})
    assert near.status_code == 200, near.get_json()
    assert set(near.get_json()["categories"]) == {"kebakaran", "kebakaran_hutan"}
    assert fire["id"] in {i["id"] for i in near.get_json()["items"]}


def test_task_targets_set_changed_and_dropped_by_the_file(client, city):
    """A city gives PLN an hour at a fire, BPBD 25 minutes at a flood, drops BNN's own target."""
    doc = DEMO.replace('{ agency = "PLN", task_target = "45 menit" }', '{ agency = "PLN", task_target = "1 jam" }') \
        .replace('support = [{ agency = "BNN", task_target = "4 jam" }]', 'support = ["BNN"]')
    doc = doc.replace('primary = ["BPBD"]', 'primary = [{ agency = "BPBD", task_target = "25 menit" }]', 1)
    assert doc.count('agency = "PLN", task_target = "1 jam"') == 1 and 'support = ["BNN"]' in doc
    changes = catalog.apply(city, catalog.parse(doc.encode(), "kota.toml"), "test")
    assert [c.line() for c in changes] == [
        "~ category kebakaran: task_targets {PLN 45 menit, POLRI 20 menit} -> {PLN 1 jam, POLRI 20 menit}",
        "~ category banjir: task_targets {} -> {BPBD 25 menit}",
        "~ category narkoba: task_targets {BNN 4 jam} -> {}"]
    rules = {(c, a): (r, t) for c, a, r, t in city.execute(text(
        "SELECT category_code, agency_code, role, task_target_s FROM category_agencies "
        "WHERE category_code IN ('kebakaran', 'banjir', 'narkoba')")).all()}
    assert rules == {("kebakaran", "DAMKAR"): ("primary", None), ("kebakaran", "POLRI"): ("support", 1200),
                     ("kebakaran", "PLN"): ("support", 3600), ("banjir", "BPBD"): ("primary", 1500),
                     ("narkoba", "POLRI"): ("primary", None), ("narkoba", "BNN"): ("support", None)}
    [fields, before, after] = city.execute(text(
        "SELECT data->'fields', data->'before'->'task_targets', data->'after'->'task_targets' "
        "FROM catalog_events WHERE code = 'kebakaran' ORDER BY id DESC LIMIT 1")).one()
    assert fields == ["task_targets"] and before == {"PLN": 2700, "POLRI": 1200} and after["PLN"] == 3600
    assert catalog.plan_changes(city, catalog.parse(doc.encode())) == []  # a second apply: nothing
    # What the app reads: the categories API carries each agency's own target.
    cats = {c["code"]: c for c in client.get("/api/v1/categories").get_json()["categories"]}
    assert {a["agency"]: a["task_target_s"] for a in cats["kebakaran"]["agencies"]} == \
        {"DAMKAR": None, "POLRI": 1200, "PLN": 3600}
    # The demo file puts migration 0017's targets back.
    back = catalog.apply(city, catalog.load(CATALOG_FILE), "test")
    assert {c.code for c in back} == {"kebakaran", "banjir", "narkoba"}
    assert set(map(tuple, city.execute(text(
        "SELECT category_code, agency_code, task_target_s FROM category_agencies "
        "WHERE task_target_s IS NOT NULL")).all())) == migration_0017_targets()


def test_catalog_events_are_append_only(db_conn, tmp_path):
    catalog.apply(db_conn, catalog.load(custom(tmp_path)), "test")
    assert db_conn.execute(text("SELECT count(*) FROM catalog_events")).scalar_one() == 4
    nested = db_conn.begin_nested()
    with pytest.raises(Exception, match="append-only"):
        db_conn.execute(text("UPDATE catalog_events SET actor = 'mallory'"))
    nested.rollback()


# -- with the city's setup -------------------------------------------------------------------------------
BALIKPAPAN = Path(__file__).resolve().parents[2].parent / "shared" / "geodata" / "balikpapan" / \
    "balikpapan_kota_drive.graphml"


@pytest.mark.skipif(not BALIKPAPAN.exists(), reason=f"reference geodata not found at {BALIKPAPAN}")
def test_city_setup_applies_the_catalog_first_in_the_same_transaction(scratch_url, tmp_path):
    stations = tmp_path / "pos.csv"
    stations.write_text("agency,kind,name,lat,lon\n"
                        "TNI,military_post,Makodim 0905 Balikpapan,-1.26500,116.83000\n"
                        "DAMKAR,fire_station,Pos Damkar Klandasan,-1.27600,116.83300\n")
    before = read_snapshot(scratch_url)
    bad = city_file(tmp_path, DEMO.replace('target = "8 menit"', 'target = "cepat"', 1), "rusak.toml")
    res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--catalog", bad, "--check")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        f"error: {bad}: category kebakaran: target 'cepat' is not a duration such as \"8 menit\", \"2 jam\" or "
        "\"3 hari\" (nothing changed)"]
    # --check runs the whole setup, the new catalog included, and rolls it back: a station of the
    # agency only the new catalog adds (TNI) is loaded and reported.
    res = run(scratch_url, "city", "setup", "--osm", BALIKPAPAN, "--stations", stations,
              "--catalog", custom(tmp_path), "--check")
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert "+ agency TNI: add (Kodim 0733 (TNI AD))" in out
    assert any(line.startswith("stations TNI: 1") for line in out), out
    assert out[-1] == "catalog: 4 change(s) would be applied; nothing changed"
    assert read_snapshot(scratch_url) == before


def test_a_database_before_the_catalog_migration_is_one_line(cluster, tmp_path):
    from app.db import migrate

    name = f"peta112_catalog_old_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    try:
        url = cluster.url(name)
        migrate(url, "0022")
        res = run(url, "city", "catalog", "check", CATALOG_FILE)
        assert res.returncode == 1 and "Traceback" not in res.stderr
        assert res.stderr.strip().splitlines() == [
            "error: the database predates the city catalog (migration 0023); run: peta112 db migrate"]
    finally:
        cluster.drop_database(name)
