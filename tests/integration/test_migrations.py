"""Alembic round trip on a scratch database, and models.py agreeing with the DDL."""

from __future__ import annotations

import os

from sqlalchemy import inspect, text

from app.db import current_revision, head_revision, migrate
from app.db.engine import make_engine
from app.models import metadata

SCRATCH = f"peta112_migrations_{os.getpid()}"


def _tables(url: str) -> set[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return set(conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    finally:
        eng.dispose()


def test_upgrade_downgrade_upgrade_round_trip(cluster):
    cluster.drop_database(SCRATCH)
    cluster.ensure_database(SCRATCH)
    url = cluster.url(SCRATCH)
    try:
        migrate(url, "head")
        assert current_revision(url) == head_revision()
        ours = set(metadata.tables)
        assert ours <= _tables(url)
        migrate(url, "base", downgrade=True)
        assert current_revision(url) is None
        assert not (ours & _tables(url))
        migrate(url, "head")
        assert ours <= _tables(url)
    finally:
        cluster.drop_database(SCRATCH)


def test_models_match_migrated_columns(engine):
    insp = inspect(engine)
    for name, table in metadata.tables.items():
        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(db_cols) == {c.name for c in table.columns}, name
        for col in table.columns:
            assert db_cols[col.name]["nullable"] == col.nullable, f"{name}.{col.name}"


def test_geometry_is_4326_with_gist_indexes(db_conn):
    rows = db_conn.execute(text(
        "SELECT f_table_name, srid FROM geometry_columns g JOIN pg_tables t "
        "ON t.schemaname = g.f_table_schema AND t.tablename = g.f_table_name WHERE f_table_schema = 'public'"
    )).all()
    assert rows and all(srid == 4326 for _, srid in rows)
    for table, _ in rows:
        n = db_conn.execute(text(
            "SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef ILIKE '%USING gist%'"
        ), {"t": table}).scalar_one()
        assert n >= 1, table


def test_incident_events_are_append_only(db_conn):
    db_conn.execute(text(
        "INSERT INTO incidents (id, category_code, priority, geom) "
        "VALUES (900001, 'kebakaran', 1, ST_SetSRID(ST_MakePoint(110.4, -6.97), 4326))"))
    db_conn.execute(text(
        "INSERT INTO incident_events (incident_id, actor, kind) VALUES (900001, 'test', 'created')"))
    nested = db_conn.begin_nested()
    try:
        db_conn.execute(text("UPDATE incident_events SET actor = 'mallory'"))
        raise AssertionError("update of incident_events was allowed")
    except Exception as exc:  # noqa: BLE001 - the database must refuse
        assert "append-only" in str(exc)
        nested.rollback()


def test_seeded_routing_rules(db_conn):
    rules = dict(db_conn.execute(text(
        "SELECT c.code, array_agg(a.agency_code ORDER BY a.agency_code) "
        "FROM incident_categories c LEFT JOIN category_agencies a ON a.category_code = c.code "
        "GROUP BY c.code")).all())
    assert rules["kebakaran"][:1] == ["DAMKAR"] or "DAMKAR" in rules["kebakaran"]
    assert {"POLRI", "DINKES"} <= set(rules["kecelakaan"])
    assert rules["banjir"] == ["BPBD"]
    assert rules["prank"] == [None]
    assert "PMI" in rules["permintaan_darah"]
