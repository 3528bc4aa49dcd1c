"""Loading the demo city into PostGIS: row counts, routability, --replace and the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from app.db.engine import make_engine
from geodata.demo import DemoCity, DemoLoadError, generate, load

UNTIL = "2026-11-25"
PETA112 = [sys.executable, "-m", "app.cli_main"]


@pytest.fixture(scope="module")
def small_city() -> DemoCity:
    return generate(seed=112, scale="small", years=0.25, until=date(2026, 11, 25))


def _count(conn: Connection, table: str) -> int:
    return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def test_load_puts_every_row_in_place_and_the_network_routes(db_conn: Connection, small_city: DemoCity):
    counts = load(db_conn, small_city, replace=True, analyze=False)
    for table, df in small_city.frames().items():
        assert counts[table] == len(df) == _count(db_conn, table), table
    assert db_conn.execute(text("SELECT count(*) FROM admin_areas WHERE NOT ST_IsValid(geom)")).scalar_one() == 0
    comps = db_conn.execute(text(
        "SELECT count(DISTINCT component) FROM pgr_strongComponents("
        "'SELECT id, source, target, cost, reverse_cost FROM road_edges')")).scalar_one()
    assert comps == 1
    # the straight line lies: the fastest route is longer than the crow flies
    row = db_conn.execute(text("""
        WITH ends AS (SELECT min(id) AS a, max(id) AS b FROM road_nodes)
        SELECT (SELECT sum(e.length_m) FROM pgr_dijkstra(
                    'SELECT id, source, target, cost, reverse_cost FROM road_edges', ends.a, ends.b) d
                JOIN road_edges e ON e.id = d.edge) AS route_m,
               ST_Distance(na.geom::geography, nb.geom::geography) AS crow_m
        FROM ends JOIN road_nodes na ON na.id = ends.a JOIN road_nodes nb ON nb.id = ends.b""")).one()
    assert row.route_m > row.crow_m > 0
    kel = db_conn.execute(text("""
        SELECT count(*) FROM incidents i JOIN admin_areas k ON k.id = i.kelurahan_id
        WHERE k.level = 'kelurahan' AND i.kecamatan_id = k.parent_id""")).scalar_one()
    assert kel == len(small_city.incidents)
    # sequences moved past the COPYed ids: the app can insert right away
    new_id = db_conn.execute(text(
        "INSERT INTO incidents (category_code, priority) VALUES ('ambulans', 1) RETURNING id")).scalar_one()
    assert new_id == len(small_city.incidents) + 1


def test_load_refuses_a_non_empty_database_unless_replace(db_conn: Connection, small_city: DemoCity):
    load(db_conn, small_city, replace=True, analyze=False)
    with pytest.raises(DemoLoadError, match="--replace"):
        load(db_conn, small_city, analyze=False)
    # the append-only audit trail is emptied by TRUNCATE, not DELETE
    load(db_conn, small_city, replace=True, analyze=False)
    assert _count(db_conn, "incident_events") == len(small_city.incident_events)


# -- the command, run as a user runs it ----------------------------------------------------------
@pytest.fixture()
def scratch_url(cluster) -> str:
    from tests.scratch import scratch_database

    with scratch_database(cluster, "peta112_demo") as url:
        yield url


def _demo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = url
    return subprocess.run([*PETA112, "demo", "--scale", "small", "--years", "0.25", "--until", UNTIL, *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_demo_command_loads_refuses_and_replaces(scratch_url: str, tmp_path: Path):
    from app.services.status import database_status

    manifest = tmp_path / "manifest.json"
    first = _demo(scratch_url, "--manifest", str(manifest))
    assert first.returncode == 0, first.stderr
    assert "road network" in first.stderr  # progress goes to stderr
    assert "catalog catalog.toml: 0 change(s)" in first.stderr  # the demo's own file says what the seed says
    truth = json.loads(manifest.read_text())
    assert truth["seed"] == 112 and truth["scale"] == "small"
    assert truth["slow_agency"]["code"] and truth["hotspots"] and truth["flood_prone_kelurahan"]

    engine = make_engine(scratch_url)  # what the admins' /api/v1/health reports
    try:
        with engine.connect() as conn:
            counts = database_status(conn)["counts"]
    finally:
        engine.dispose()
    c = truth["counts"]
    assert counts["road_edges"] == c["road_edges"] and counts["road_nodes"] == c["road_nodes"]
    assert counts["incidents"] == c["incidents"] and counts["incident_events"] == c["incident_events"]
    assert counts["admin_areas"] == c["kecamatan"] + c["kelurahan"]
    assert counts["units"] == c["units"] and counts["stations"] == c["stations"]
    with engine.connect() as conn:  # chats waiting for the desk, sent through the channels' own code
        chats = conn.execute(text(
            "SELECT c.channel, c.status, c.call_id IS NOT NULL AS has_call, c.geom IS NOT NULL AS located, "
            "(SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id) AS messages "
            "FROM conversations c ORDER BY c.id")).all()
    engine.dispose()
    from geodata.demo.chats import CHATS

    assert len(chats) == len(CHATS) and all(r.status == "open" and r.has_call and r.messages > 0 for r in chats)
    assert [r.channel for r in chats] == [ch for ch, _name, _msgs in CHATS]
    assert [r.located for r in chats] == [any(t is None for t, _m in msgs) for _ch, _n, msgs in CHATS]

    refused = _demo(scratch_url, "--manifest", str(tmp_path / "m2.json"))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()]
    assert refused.stderr.startswith("error:") and "--replace" in refused.stderr
    assert "Traceback" not in refused.stderr

    skipped = _demo(scratch_url, "--if-empty", "--manifest", str(tmp_path / "m3.json"))
    assert skipped.returncode == 0, skipped.stderr
    assert "not loaded" in skipped.stdout
    assert not (tmp_path / "m3.json").exists()

    engine = make_engine(scratch_url)  # an operator changed a target; the demo brings its own catalog back
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE incident_categories SET target_response_s = 999 WHERE code = 'kebakaran'"))
        replaced = _demo(scratch_url, "--replace", "--manifest", str(tmp_path / "m4.json"))
        assert replaced.returncode == 0, replaced.stderr
        assert "catalog catalog.toml: 1 change(s)" in replaced.stderr
        with engine.connect() as conn:
            assert conn.execute(text("SELECT target_response_s FROM incident_categories "
                                     "WHERE code = 'kebakaran'")).scalar_one() == 480
            assert conn.execute(text("SELECT kind, actor FROM catalog_events")).all() == [
                ("category_change", "peta112 demo")]
    finally:
        engine.dispose()
    assert json.loads((tmp_path / "m4.json").read_text()) == truth  # same seed, same --until: same city
