"""Pooled connections are checked without a round trip, and one the server closed is replaced, not used."""

from __future__ import annotations

import time

from sqlalchemy import event, text

from app.db.engine import _still_open, make_engine


def test_a_terminated_pooled_connection_is_replaced_at_checkout(test_db_url):
    engine = make_engine(test_db_url, pool_size=1, max_overflow=0)
    killer = make_engine(test_db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            raw = conn.connection.dbapi_connection
        assert _still_open(raw)
        seen: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, stmt, *_a: seen.append(stmt))
        with engine.connect() as conn:  # a healthy idle connection: reused, and no ping was sent
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert seen == ["SELECT pg_backend_pid()"]
        with killer.connect() as k:
            assert k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        deadline = time.monotonic() + 30
        while _still_open(raw):  # the server's goodbye reaches the socket
            assert time.monotonic() < deadline, "the terminated connection still looks open"
            time.sleep(0.01)
        with engine.connect() as conn:  # no OperationalError: the pool opened a new connection
            new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert new_pid != pid
    finally:
        engine.dispose()
        killer.dispose()
