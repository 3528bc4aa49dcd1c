"""Fixtures for modules that analyse a generated demo city, and the tiny city for one test.

Such a module defines a module-scoped ``city`` fixture (``geodata.demo.generate(...)``);
these fixtures load it once into a transaction that is rolled back after the module,
and give each test a savepoint of its own.  ``tiny_city`` is the hand-made city of
tests/tinycity.py in the test's own rolled-back transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.routing import cache
from geodata.demo import DemoCity, load
from tests import tinycity, users
from tests.apps import joined_app


@pytest.fixture()
def tiny_city(db_conn: Connection) -> Connection:
    tinycity.seed(db_conn)
    return db_conn


@pytest.fixture(scope="module")
def city_conn(engine: Engine, city: DemoCity) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    try:
        load(conn, city, replace=True, analyze=False)
        conn.execute(text("ANALYZE incidents, incident_tasks, admin_areas, road_edges, road_nodes, stations"))
        yield conn
    finally:
        trans.rollback()
        conn.close()
        cache.invalidate()  # the routing cache must not outlive the rolled-back network


@pytest.fixture()
def db(city_conn: Connection) -> Iterator[Session]:
    """A session in a savepoint of the module's transaction: a test's own writes vanish after it."""
    nested = city_conn.begin_nested()
    s = Session(bind=city_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield s
    finally:
        s.close()
        nested.rollback()


@pytest.fixture()
def api(settings, city_conn: Connection, db: Session):
    """A test client (signed in as admin) whose requests run inside the module's transaction."""
    with joined_app(settings, city_conn) as application:
        yield users.signed_in(application.test_client())
