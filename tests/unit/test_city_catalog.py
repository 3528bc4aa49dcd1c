"""The city's catalog file: parsing, targets, and every problem of a bad file reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.city import catalog
from geodata.demo.catalog import CATALOG_FILE, seed_catalog

GOOD = b"""
[[agency]]
code = "DISDAMKAR"
name = "Dinas Pemadam Kebakaran"
name_en = "Fire service"
kind = "responder"
phone = "113"
color = "#d7301f"
unit_types = ["fire_engine"]

[[agency]]
code = "TNI"
name = "Kodim 0905"
name_en = "Army district command"
color = "#4b5320"

[[category]]
code = "kebakaran"
name = "Kebakaran"
name_en = "Fire"
priority = 1
target = "8 menit"
emergency = true
color = "#d7301f"
primary = ["DISDAMKAR"]
support = ["TNI"]
plan = [{ agency = "DISDAMKAR", unit_type = "fire_engine", count = 2 }, { agency = "TNI", count = 1 }]
"""


def test_a_good_file_parses_with_rules_plans_and_defaults():
    cat = catalog.parse(GOOD, "kota.toml")
    assert list(cat.agencies) == ["DISDAMKAR", "TNI"]
    assert cat.agencies["TNI"].kind == "government" and cat.agencies["TNI"].unit_types == ()
    fire = cat.categories["kebakaran"]
    assert fire.target_response_s == 480 and fire.priority == 1 and fire.is_emergency
    assert fire.is_public is False and fire.public_description is False
    assert fire.agencies == (("DISDAMKAR", "primary"), ("TNI", "support"))
    assert fire.plan == ({"agency": "DISDAMKAR", "unit_type": "fire_engine", "count": 2},
                         {"agency": "TNI", "unit_type": None, "count": 1})
    assert len(cat.sha256) == 64


@pytest.mark.parametrize(("text", "seconds"), [
    ("8 menit", 480), ("2 jam", 7200), ("3 hari", 259200), ("45m", 2700), ("2h", 7200), ("90 s", 90),
    ("1 day", 86400), (600, 600)])
def test_targets_as_people_write_them(text, seconds):
    assert catalog.parse_target(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "0 menit", "-5 menit", "31 hari", 0, True, 1.5, "8 minggu"])
def test_bad_targets_are_refused(bad):
    with pytest.raises(ValueError, match="target"):
        catalog.parse_target(bad)


def test_a_bad_file_reports_every_problem_one_line_each():
    bad = GOOD.replace(b'support = ["TNI"]', b'support = ["TNI", "POLRI"]') \
              .replace(b'target = "8 menit"', b'target = "segera"') \
              .replace(b'unit_type = "fire_engine", count = 2', b'unit_type = "helicopter", count = 2')
    bad += b"""
[[agency]]
code = "TNI"
name = "TNI lagi"
name_en = "Army again"
color = "#000000"

[[category]]
code = "kebakaran"
name = "Kebakaran 2"
name_en = "Fire 2"
priority = 9
target = "1 jam"
color = "red"
"""
    with pytest.raises(catalog.CatalogError) as err:
        catalog.parse(bad, "kota.toml")
    problems = err.value.problems
    expected = [
        "agency TNI: duplicate agency code TNI",
        "category kebakaran: target 'segera' is not a duration",
        "category kebakaran: support names unknown agency POLRI",
        "category kebakaran: plan line 1: unknown unit_type helicopter for DISDAMKAR (its unit_types: fire_engine)",
        "category kebakaran: duplicate category code kebakaran",
        "category kebakaran: priority must be a whole number from 1 (most urgent) to 5",
        "category kebakaran: color 'red' must be #rrggbb",
    ]
    for line in expected:
        assert any(p.startswith(line) for p in problems), (line, problems)
    assert len(problems) == len(expected)
    assert all("\n" not in p for p in problems)
    assert err.value.lines()[0].startswith("kota.toml: ")


@pytest.mark.parametrize(("raw", "problem"), [
    (b"[[agency]\ncode = 1", "not valid TOML"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[[unit]]\ncode='x'", "unknown section(s) unit"),
    (b"", "no [[agency]] entries"),
    (GOOD.replace(b'primary = ["DISDAMKAR"]', b'primary = ["DISDAMKAR"]\nroute = "x"'), "unknown key(s) route"),
    (GOOD.replace(b'code = "TNI"', b'code = "tni"'), "code must be upper-case"),
    (GOOD.replace(b'code = "kebakaran"', b'code = "Kebakaran!"'), "code must be lower-case"),
    (GOOD.replace(b'{ agency = "TNI", count = 1 }', b'{ agency = "BNN", count = 1 }'), "unknown agency BNN"),
    (GOOD.replace(b"count = 2", b"count = 0"), "count must be a whole number from 1 to 50"),
    (GOOD.replace(b'emergency = true', b'emergency = "ya"'), "emergency must be true or false"),
    (GOOD.replace(b'emergency = true', b'emergency = true\npublic_description = true'),
     "public_description needs public = true"),
])
def test_each_kind_of_problem_is_named(raw, problem):
    with pytest.raises(catalog.CatalogError) as err:
        catalog.parse(raw, "kota.toml")
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_related_categories_work_both_ways_and_must_exist():
    doc = GOOD + b"""
[[category]]
code = "kebakaran_hutan"
name = "Kebakaran Hutan dan Lahan"
name_en = "Forest and land fire"
priority = 1
target = "30 menit"
color = "#b30000"
related = ["kebakaran"]
primary = ["DISDAMKAR"]
"""
    cat = catalog.parse(doc)
    assert cat.categories["kebakaran_hutan"].related == ("kebakaran",)
    assert cat.categories["kebakaran"].related == ("kebakaran_hutan",)  # declared on one side only
    with pytest.raises(catalog.CatalogError) as err:
        catalog.parse(doc.replace(b'related = ["kebakaran"]', b'related = ["karhutla", "kebakaran_hutan"]'))
    assert err.value.problems == [
        "category kebakaran_hutan: related names unknown category karhutla (not a [[category]] of this file)",
        "category kebakaran_hutan: related names the category itself"]


def test_a_missing_file_is_one_problem(tmp_path: Path):
    with pytest.raises(catalog.CatalogError, match="1 problem"):
        catalog.load(tmp_path / "nope.toml")


def test_the_demo_file_is_valid_and_feeds_the_generator():
    cat = catalog.load(CATALOG_FILE)
    assert len(cat.agencies) == 12 and len(cat.categories) == 19
    seed = seed_catalog()
    assert seed.agencies == tuple(cat.agencies)
    fire = seed.categories["kebakaran"]
    assert fire.target_s == 480 and fire.agencies[0] == ("DAMKAR", "primary")
    assert fire.plan[0] == {"agency": "DAMKAR", "unit_type": "fire_engine", "count": 2}
    # every plan line names a unit type its agency runs (the demo stations field exactly these)
    assert all(p["unit_type"] in cat.agencies[p["agency"]].unit_types
               for c in cat.categories.values() for p in c.plan)


def test_diff_lines_read_as_a_person_writes_them():
    before = {"target_response_s": 480, "plan": [{"agency": "DAMKAR", "unit_type": "fire_engine", "count": 2}],
              "agencies": [["DAMKAR", "primary"]], "retired": True}
    after = {"target_response_s": 600, "plan": [{"agency": "DAMKAR", "unit_type": None, "count": 3}],
             "agencies": [["DAMKAR", "primary"], ["POLRI", "support"]], "retired": False}
    line = catalog.Change("restore", "category", "kebakaran", before, after).line()
    assert line == ("~ category kebakaran: restore (retired, listed again); target_response_s 480 -> 600; "
                    "plan [2 fire_engine (DAMKAR)] -> [3 any unit (DAMKAR)]; "
                    "agencies [DAMKAR primary] -> [DAMKAR primary, POLRI support]")
    retire = catalog.Change("retire", "agency", "PLN", before, None, {"stations": 2, "incident_tasks": 40})
    assert retire.line() == "- agency PLN: retire (not in the file, still used by 40 incident_tasks, 2 stations)"
    assert catalog.duration_text(86400) == "1 hari" and catalog.duration_text(90) == "90 detik"


def test_an_agency_entry_may_carry_its_own_task_target():
    doc = GOOD.replace(b'support = ["TNI"]', b'support = [{ agency = "TNI", task_target = "45 menit" }]') \
              .replace(b'primary = ["DISDAMKAR"]', b'primary = [{ agency = "DISDAMKAR" }]')
    fire = catalog.parse(doc).categories["kebakaran"]
    assert fire.agencies == (("DISDAMKAR", "primary"), ("TNI", "support"))
    assert fire.task_targets == (("TNI", 2700),)  # DISDAMKAR: no target of its own
    assert fire.row()["task_targets"] == {"TNI": 2700}
    assert catalog.parse(GOOD).categories["kebakaran"].task_targets == ()


@pytest.mark.parametrize(("entry", "problem"), [
    (b'{ agency = "TNI", task_target = "segera" }', "category kebakaran: support TNI: task_target 'segera' is not"),
    (b'{ agency = "TNI", task_target = "0 menit" }', "category kebakaran: support TNI: task_target '0 menit' must"),
    (b'{ agency = "TNI", target = "5 menit" }', "category kebakaran: support entry: unknown key(s) target"),
    (b'{ task_target = "5 menit" }', "category kebakaran: support entry: agency is required"),
    (b'{ agency = "POLRI", task_target = "5 menit" }', "category kebakaran: support names unknown agency POLRI"),
    (b'[1]', "category kebakaran: support must be a list of agency codes or"),
])
def test_a_bad_task_target_entry_is_named(entry, problem):
    doc = GOOD.replace(b'support = ["TNI"]', b"support = [" + entry + b"]")
    with pytest.raises(catalog.CatalogError) as err:
        catalog.parse(doc, "kota.toml")
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_a_task_target_change_reads_as_written():
    before = {"task_targets": {"PLN": 2700, "POLRI": 1200}, "retired": False}
    after = {"task_targets": {"PLN": 3600, "POLRI": 1200}, "retired": False}
    line = catalog.Change("change", "category", "kebakaran", before, after).line()
    assert line == "~ category kebakaran: task_targets {PLN 45 menit, POLRI 20 menit} -> {PLN 1 jam, POLRI 20 menit}"
