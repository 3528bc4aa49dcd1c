"""The incident read model and row-level security, checked in the database itself.

Every surface reads incidents through these rules, so they are tested here once
at the SQL level (as the web app's role, ``peta112_app``) and, per surface, in
tests/integration/test_visibility_surfaces.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from app.incidents import facts, lifecycle, viewer
from app.incidents.viewer import Viewer

PHONE = "0812-9999-0001"

SEED = """
INSERT INTO incidents (id, category_code, status, priority, source, address, caller_name, caller_phone,
                       description, received_at, geom)
VALUES (990001, 'kebakaran', 'received', 1, 'phone', 'Jl. Rahasia 7', 'Bu Siti', :phone, 'rumah terbakar',
        now() - interval '2 hours', ST_SetSRID(ST_MakePoint(110.41234, -6.98765), 4326)),
       (990002, 'pju_mati', 'received', 5, 'phone', 'Jl. Terang 1', 'Pak Budi', '0812-9999-0002',
        'lampu mati depan rumah', now() - interval '1 hour', ST_SetSRID(ST_MakePoint(110.43, -6.97), 4326)),
       (990003, 'pju_mati', 'prank', 5, 'phone', 'x', NULL, NULL, NULL, now(),
        ST_SetSRID(ST_MakePoint(110.43, -6.97), 4326));
UPDATE incidents SET is_prank = true WHERE id = 990003;
INSERT INTO incident_tasks (incident_id, agency_code, status) VALUES
  (990001, 'DAMKAR', 'forwarded'), (990002, 'PU', 'forwarded');
INSERT INTO incident_events (incident_id, actor, kind) VALUES (990001, 'test', 'created');
"""


@pytest.fixture()
def conn(engine: Engine) -> Iterator[Connection]:
    c = engine.connect()
    tx = c.begin()
    for stmt in SEED.split(";"):
        if stmt.strip():
            c.execute(text(stmt), {"phone": PHONE} if ":phone" in stmt else {})
    try:
        yield c
    finally:
        tx.rollback()
        c.close()


def as_viewer(conn: Connection, who: Viewer) -> None:
    conn.execute(text(f"SET LOCAL ROLE {facts.APP_ROLE}"))
    facts.apply_viewer(conn, who)


def ids(conn: Connection, sql: str) -> set[int]:
    return {r[0] for r in conn.execute(text(sql)) if r[0] >= 990001}


def test_sql_rules_agree_with_python(conn: Connection):
    rules = facts.installed_rules(conn)
    assert rules == {"open": lifecycle.INCIDENT_OPEN, "awaiting": lifecycle.INCIDENT_AWAITING,
                     "not_counted": lifecycle.INCIDENT_NOT_COUNTED}


def test_open_calls_index_has_the_open_statuses(conn: Connection):
    """Intake's duplicate search reads incidents_open_geom_idx with the open list written in: the index
    must be built with the same list, or the search silently stops using it."""
    definition = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'incidents_open_geom_idx'")
                              ).scalar_one()
    assert "USING gist (geom)" in definition
    listed = {s for s in lifecycle.INCIDENT_STATUSES if f"'{s}'" in definition}
    assert listed == lifecycle.INCIDENT_OPEN


@pytest.mark.parametrize("role,agency,visible,phone", [
    ("dispatcher", None, {990001, 990002, 990003}, True),
    ("call_taker", None, {990001, 990002, 990003}, True),
    ("admin", None, {990001, 990002, 990003}, True),
    ("official", None, {990001, 990002, 990003}, False),
    ("bpbd", "BPBD", {990001, 990002, 990003}, False),
    ("agency", "DAMKAR", {990001}, False),
    ("agency", "POLRI", set(), False),
    ("agency", None, set(), False),
    ("anonymous", None, set(), False),
])
def test_rows_and_caller_data_per_viewer(conn: Connection, role, agency, visible, phone):
    as_viewer(conn, Viewer(role, agency))
    for table in ("incidents", "incident_facts"):
        assert ids(conn, f"SELECT id FROM {table}") == visible, table
    assert ids(conn, "SELECT incident_id FROM incident_tasks") == visible & {990001, 990002}
    assert ids(conn, "SELECT incident_id FROM incident_events") == visible & {990001}
    phones = {r[0] for r in conn.execute(text("SELECT caller_phone FROM incident_facts WHERE id = 990001"))}
    assert phones == ({PHONE} if phone else ({None} if visible else set()))


def test_unset_viewer_sees_nothing(conn: Connection):
    conn.execute(text(f"SET LOCAL ROLE {facts.APP_ROLE}"))
    assert ids(conn, "SELECT id FROM incidents") == set()
    assert ids(conn, "SELECT id FROM incident_facts") == set()


def test_agency_cannot_create_or_touch_other_incidents(conn: Connection):
    as_viewer(conn, Viewer("agency", "POLRI"))
    n = conn.execute(text("UPDATE incidents SET address = 'x' WHERE id = 990001")).rowcount
    assert n == 0
    with pytest.raises(Exception, match="row-level security"), conn.begin_nested():
        conn.execute(text("INSERT INTO incidents (category_code, status, priority, source, geom) "
                          "VALUES ('kriminal', 'received', 1, 'phone', "
                          "ST_SetSRID(ST_MakePoint(110.4, -6.9), 4326))"))


def test_facts_rules(conn: Connection):
    as_viewer(conn, viewer.SYSTEM_VIEWER)
    rows = {r.id: r for r in conn.execute(text(
        "SELECT id, is_open, is_overdue, is_counted FROM incident_facts WHERE id >= 990001"))}
    assert rows[990001].is_open and rows[990001].is_overdue and rows[990001].is_counted  # fire, 2 h, target 8 min
    assert rows[990002].is_open and not rows[990002].is_overdue  # street light, target 3 days
    assert not rows[990003].is_open and not rows[990003].is_counted  # prank


def test_public_projection(conn: Connection):
    as_viewer(conn, viewer.ANONYMOUS_VIEWER)
    rows = conn.execute(text(
        "SELECT id, description, ST_X(geom) AS x, ST_Y(geom) AS y FROM incident_public WHERE id >= 990001"
    )).mappings().all()
    assert [r["id"] for r in rows] == [990002]  # the fire is not public; the prank is not counted
    cols = set(rows[0].keys()) | set(conn.execute(text("SELECT * FROM incident_public LIMIT 0")).keys())
    assert not {"caller_name", "caller_phone", "address"} & cols
    assert rows[0]["description"] == "lampu mati depan rumah"  # street lights publish descriptions
    assert (round(rows[0]["x"], 4), round(rows[0]["y"], 4)) == (110.4305, -6.9695)  # 0.001-degree cell centre


def test_incident_tables_have_row_level_security(conn: Connection):
    """Every table holding incident rows or rows keyed by an incident is under RLS."""
    tables = {r[0] for r in conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relname = 'incidents' OR EXISTS ("
        "  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'incident_id'))"))}
    assert {"incidents", "incident_tasks", "assignments", "incident_events"} <= tables
    unprotected = {r[0] for r in conn.execute(text(
        "SELECT relname FROM pg_class WHERE relname = ANY(:t) AND NOT relrowsecurity"), {"t": list(tables)})}
    assert unprotected == set()
