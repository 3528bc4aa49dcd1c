"""The agency-performance rollup equals the raw query, before and after every kind of change.

A committed scratch database (the rollup is refreshed by other connections, so the
data must really commit): the demo city's quarter year, refreshed, then changed in
every way a cell can go stale (task clocks, a task added or removed, a call's
category, kecamatan, day, prank flag, status, duplicate), and compared with the raw
query through every grouping and filter, both while the changes are only logged
(cells built in the request) and after a refresh (stored cells).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.incidents.facts import apply_viewer
from app.incidents.viewer import Viewer
from app.services.analytics import rollup
from app.services.analytics.common import make_window
from app.services.analytics.performance import GROUPS, PerformanceQuery, Target, performance
from app.services.analytics.trends import TrendQuery, trends
from geodata.demo import generate, load
from tests.scratch import scratch_database

WIB = ZoneInfo("Asia/Jakarta")
UNTIL = datetime(2026, 11, 25, tzinfo=WIB)


@pytest.fixture(scope="module")
def owner(cluster) -> Iterator[Engine]:
    with scratch_database(cluster, "peta112_rollup") as url:
        engine = make_engine(url)
        with engine.begin() as conn:
            load(conn, generate(seed=5, scale="small", years=0.25, until=UNTIL.date()), analyze=False)
        try:
            yield engine
        finally:
            rollup.forget()
            engine.dispose()


def _variants(session: Session) -> list[PerformanceQuery]:
    """Every grouping, with the filters and parameters that change which tasks count and how."""
    kec = session.execute(text("SELECT code FROM admin_areas WHERE level = 'kecamatan' ORDER BY code")).scalar()
    year = make_window(UNTIL - timedelta(days=365), UNTIL, 0, WIB)
    # cut at a city midnight and mid-afternoon: windows are masks inside UTC-day cells
    cut = make_window(datetime(2026, 9, 3, tzinfo=WIB), datetime(2026, 10, 17, 15, 37, 11, 250000, tzinfo=WIB), 0, WIB)
    odd_targets = {"DAMKAR": [Target("turnout", 60, 0.8), Target("arrival", 300, 0.95, origin="forwarded")],
                   "POLRI": [Target("arrival", 600)]}
    out = [PerformanceQuery(window=year, group=g) for g in GROUPS]
    out += [PerformanceQuery(window=cut, group=g, categories=["kebakaran", "banjir", "kecelakaan"]) for g in GROUPS]
    out += [PerformanceQuery(window=year, group="agency,kecamatan", kecamatan=kec),
            PerformanceQuery(window=cut, group="agency", kecamatan=kec, categories=["banjir", "rob", "kebakaran"]),
            PerformanceQuery(window=cut, group="agency", fast_closure_s=10, rank_by="resolve"),
            PerformanceQuery(window=year, group="agency,category", targets=odd_targets),
            PerformanceQuery(window=year, group="agency", targets={})]
    return out


def _assert_equal_to_raw(engine: Engine, expect_source: str = "rollup") -> int:
    """Compare every variant through both paths; returns how many groups and months were compared."""
    compared = 0
    with Session(engine) as s:
        for q in _variants(s):
            fast = performance(s, q)
            raw = performance(s, q, use_rollup=False)
            assert fast["parameters"].pop("computed_from") == expect_source
            assert raw["parameters"].pop("computed_from") == "tasks"
            assert fast == raw, (q.group, q.categories, q.kecamatan)
            compared += len(raw["groups"])
            if q.group == "agency":  # trends take the same window and filters
                tq = TrendQuery(q.window, q.categories, q.kecamatan)
                fast_t, raw_t = trends(s, tq), trends(s, tq, use_rollup=False)
                assert fast_t["parameters"].pop("computed_from") == ("rollup" if expect_source == "rollup"
                                                                     else "incidents")
                assert raw_t["parameters"].pop("computed_from") == "incidents"
                assert fast_t == raw_t, (q.categories, q.kecamatan)
                compared += len(raw_t["category_mix"])
    return compared


def test_refreshed_cells_answer_exactly_as_the_raw_query(owner: Engine):
    with owner.connect() as conn:
        assert rollup.pending(conn) > 0  # loading logged every cell
    built = rollup.refresh(owner)
    assert built > 100
    with owner.connect() as conn:
        assert rollup.pending(conn) == 0
        stored = conn.execute(text("SELECT count(*), sum(records) FROM rollup_cells WHERE kind = 'tasks'")).one()
        counted = conn.execute(text(
            "SELECT count(*) FROM incident_tasks t JOIN incident_facts f ON f.id = t.incident_id "
            "WHERE f.is_counted")).scalar_one()
    assert stored[0] < built and stored[1] == counted  # built: task and incident cells
    assert _assert_equal_to_raw(owner) > 100
    assert _assert_equal_to_raw(owner) > 100  # again, from this process's cache


CHANGES = [
    # task clocks
    "UPDATE incident_tasks SET acknowledged_at = forwarded_at + make_interval(secs => {n} * 7.25) "
    "WHERE id IN (SELECT id FROM incident_tasks ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incident_tasks SET resolved_at = forwarded_at + interval '45 seconds' "
    "WHERE id IN (SELECT id FROM incident_tasks WHERE resolved_at IS NOT NULL ORDER BY md5(id::text || '{seed}') "
    "LIMIT {n})",
    "UPDATE incident_tasks SET status = 'rejected', rejected_at = forwarded_at + interval '2 minutes' "
    "WHERE id IN (SELECT id FROM incident_tasks ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    # a task added to another agency, and one removed (which of the incident's tasks counts it moves)
    "INSERT INTO incident_tasks (incident_id, agency_code, status, forwarded_at, acknowledged_at) "
    "SELECT i.id, 'PMI', 'acknowledged', i.received_at + interval '1 minute', i.received_at + interval '3 minutes' "
    "FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = i.id "
    "AND t.agency_code = 'PMI') ORDER BY md5(i.id::text || '{seed}') LIMIT {n}",
    "DELETE FROM incident_tasks WHERE id IN (SELECT id FROM incident_tasks ORDER BY md5(id::text || '{seed}') "
    "LIMIT {n})",
    # what the cell holds of the call
    "UPDATE incidents SET category_code = 'pohon_tumbang' WHERE id IN (SELECT incident_id FROM incident_tasks "
    "ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET kecamatan_id = (SELECT min(id) FROM admin_areas WHERE level = 'kecamatan') "
    "WHERE id IN (SELECT incident_id FROM incident_tasks ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET received_at = received_at - interval '2 days 3 hours' WHERE id IN "
    "(SELECT incident_id FROM incident_tasks ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET is_prank = true WHERE id IN (SELECT incident_id FROM incident_tasks "
    "ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET status = 'cancelled' WHERE id IN (SELECT incident_id FROM incident_tasks "
    "ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET duplicate_of = (SELECT min(id) FROM incidents) WHERE id IN "
    "(SELECT incident_id FROM incident_tasks ORDER BY md5(id::text || '{seed}') LIMIT {n}) "
    "AND id <> (SELECT min(id) FROM incidents)",
    # calls with no task: new ones (trends count them), a prank by status, a move across days
    "INSERT INTO incidents (category_code, status, priority, source, address, kelurahan_id, kecamatan_id, "
    "is_prank, idempotency_key, received_at, geom) SELECT category_code, 'received', priority, 'phone', address, "
    "kelurahan_id, kecamatan_id, false, 'rollup-' || id || '-{seed}', received_at + interval '5 hours', geom "
    "FROM incidents ORDER BY md5(id::text || '{seed}') LIMIT {n}",
    "UPDATE incidents SET status = 'prank' WHERE id IN (SELECT id FROM incidents i WHERE NOT EXISTS "
    "(SELECT 1 FROM incident_tasks t WHERE t.incident_id = i.id) ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    "UPDATE incidents SET received_at = received_at + interval '30 hours' WHERE id IN (SELECT id FROM incidents i "
    "WHERE NOT EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = i.id) "
    "ORDER BY md5(id::text || '{seed}') LIMIT {n})",
    # and back: a prank that was not, a cancelled call reopened
    "UPDATE incidents SET is_prank = false, status = 'closed' WHERE id IN (SELECT id FROM incidents "
    "WHERE is_prank OR status = 'cancelled' ORDER BY md5(id::text || '{seed}') LIMIT {n})",
]


def test_every_kind_of_change_stays_exact_logged_and_refreshed(owner: Engine):
    rng = random.Random(16)
    rollup.refresh(owner)
    for round_ in range(3):
        for sql in rng.sample(CHANGES, len(CHANGES)):
            with owner.begin() as conn:
                conn.execute(text(sql.format(n=rng.randint(1, 25), seed=f"{round_}{rng.random()}")))
        with owner.connect() as conn:
            assert rollup.pending(conn) > 0
        _assert_equal_to_raw(owner)  # logged cells built in the request
        assert rollup.refresh(owner) > 0
        with owner.connect() as conn:
            assert rollup.pending(conn) == 0
        _assert_equal_to_raw(owner)  # stored cells


def test_a_writer_in_flight_keeps_its_mark_through_a_refresh(owner: Engine):
    rollup.refresh(owner)
    with owner.connect() as writer:
        tx = writer.begin()
        writer.execute(text("UPDATE incident_tasks SET acknowledged_at = forwarded_at + interval '1 hour' "
                            "WHERE id = (SELECT min(id) FROM incident_tasks)"))
        rollup.refresh(owner)  # does not wait for the writer, and cannot see its mark
        tx.commit()
    with owner.connect() as conn:
        assert rollup.pending(conn) == 1
    _assert_equal_to_raw(owner)
    rollup.refresh(owner)
    _assert_equal_to_raw(owner)


def test_only_readers_who_see_every_incident_read_cells(owner: Engine):
    rollup.refresh(owner)
    app = make_engine(owner.url.render_as_string(hide_password=False), app_role=True)
    try:
        q = PerformanceQuery(window=make_window(UNTIL - timedelta(days=365), UNTIL, 0, WIB))
        with Session(app) as s:
            apply_viewer(s, Viewer("agency", "DAMKAR"))
            assert s.execute(text("SELECT count(*) FROM rollup_cells")).scalar_one() == 0
            mine = performance(s, q)
            assert mine["parameters"]["computed_from"] == "tasks"
            assert {g["agency"] for g in mine["groups"]} >= {"DAMKAR"}
        with Session(app) as s:
            apply_viewer(s, Viewer("official"))
            assert s.execute(text("SELECT count(*) FROM rollup_cells")).scalar_one() > 0
            assert performance(s, q)["parameters"]["computed_from"] == "rollup"
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text("DELETE FROM rollup_cells"))
    finally:
        app.dispose()


def test_truncate_starts_the_rollup_again(owner: Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(rollup, "MAX_BUILT_IN_REQUEST", 10)  # this city: ~90 days, 750 task cells
    rollup.refresh(owner)
    with owner.connect() as conn:
        epoch = conn.execute(text("SELECT epoch FROM rollup_state")).scalar_one()
    _assert_equal_to_raw(owner)
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM incident_tasks WHERE agency_code = 'DAMKAR'"))
        conn.execute(text("CREATE TEMP TABLE kept AS SELECT * FROM incident_tasks"))
        conn.execute(text("TRUNCATE incident_tasks CASCADE"))  # and the assignments (last test here)
        conn.execute(text("INSERT INTO incident_tasks SELECT * FROM kept"))
    with owner.connect() as conn:
        assert conn.execute(text("SELECT epoch FROM rollup_state")).scalar_one() != epoch
        assert conn.execute(text("SELECT count(*) FROM rollup_cells")).scalar_one() == 0
        assert rollup.pending(conn) > rollup.MAX_BUILT_IN_REQUEST
    _assert_equal_to_raw(owner, expect_source="tasks")  # too much to build in a request
    rollup.refresh(owner)
    _assert_equal_to_raw(owner)


def test_the_server_folds_the_log_by_itself(cluster, base_settings):
    """`peta112 serve`'s lifespan starts the refresher (the web role could not refresh: it may only read),
    which also loads the cells into the process before any request asks."""
    from app import create_app
    from tests import tinycity
    from tests.conftest import serve_asgi

    with scratch_database(cluster, "peta112_rollup_serve", seed=tinycity.seed) as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO incidents (category_code, status, priority, source, address, received_at, geom) "
                    "VALUES ('kebakaran', 'received', 1, 'phone', 'Jl. Uji', now(), "
                    "ST_SetSRID(ST_MakePoint(112.75, -7.25), 4326))"))
            with engine.connect() as conn:
                assert rollup.pending(conn) > 0
            application = create_app(base_settings.with_overrides(database_url=url, rollup_refresh_s=0.2))
            with serve_asgi(application):
                for _ in range(300):  # a refresh round every 0.2 s; the bound only stops a broken refresher
                    with engine.connect() as conn:
                        if rollup.pending(conn) == 0:
                            break
                    threading.Event().wait(0.1)
                for _ in range(300):  # and then loads them into the process, ahead of any request
                    if rollup.held_version(url, "incidents") is not None:
                        break
                    threading.Event().wait(0.1)
            with engine.connect() as conn:
                assert rollup.pending(conn) == 0
                assert conn.execute(text("SELECT count(*) FROM rollup_cells WHERE kind = 'incidents'")).scalar_one()
                version = conn.execute(text("SELECT version FROM rollup_state")).scalar_one()
            assert rollup.held_version(url, "incidents") == version
            application.extensions["peta112.engine"].dispose()
        finally:
            engine.dispose()


def test_the_cli_refreshes_and_rebuilds(cluster):
    import os
    import subprocess
    import sys

    from tests import tinycity

    with scratch_database(cluster, "peta112_rollup_cli", seed=tinycity.seed) as url:
        env = {**os.environ, "DATABASE_URL": url}
        run = [sys.executable, "-m", "app.cli_main", "analytics", "refresh"]
        first = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("rollup: ") and first.stdout.rstrip().endswith("0 waiting")
        again = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
        assert again.stdout.startswith("rollup: 0 cells refreshed")
        rebuilt = subprocess.run([*run, "--rebuild"], capture_output=True, text=True, env=env, timeout=300)
        assert rebuilt.returncode == 0 and " cells rebuilt in " in rebuilt.stdout, rebuilt.stderr
        bad = subprocess.run(run, capture_output=True, text=True, env={**env, "PETA112_ROLLUP_REFRESH_S": "soon"},
                             timeout=300)
        assert bad.returncode != 0 and bad.stderr.strip() == \
            "error: PETA112_ROLLUP_REFRESH_S must be a number of seconds >= 0"
