"""Shared fixtures: one migrated test database per session, one transaction per test.

The test database lives in the same embedded cluster that ``make run`` uses
(database ``peta112_test``), or on the server named by ``PETA112_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings, from_env
from app.db import cluster_for, migrate
from app.db.engine import make_engine
from app.routing import cache as routing_cache
from tests import users
from tests.apps import joined_app

# Tests change roads and stations (often in a transaction no notice ever announces) and ask at
# once: without a listening hub the routing cache checks its fingerprints on every query here.
routing_cache.RECHECK_S = 0.0

# One database per pytest process, so parallel runs (two developers, CI) never collide.
TEST_DB = os.environ.get("PETA112_TEST_DB", f"peta112_test_{os.getpid()}")


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return from_env(env).with_overrides(db_name=TEST_DB, testing=True)


@pytest.fixture(scope="session")
def cluster(base_settings: Settings):
    c = cluster_for(base_settings)
    c.up()
    return c


@pytest.fixture(scope="session")
def test_db_url(cluster, base_settings: Settings) -> Iterator[str]:
    cluster.drop_database(TEST_DB)
    cluster.ensure_database(TEST_DB)
    url = cluster.url(TEST_DB)
    migrate(url, "head")
    eng = make_engine(url)
    with eng.begin() as conn:
        users.seed(conn)
    eng.dispose()
    yield url
    cluster.drop_database(TEST_DB)


@pytest.fixture(scope="session")
def settings(base_settings: Settings, test_db_url: str) -> Settings:
    return base_settings.with_overrides(database_url=test_db_url)


@pytest.fixture(scope="session")
def engine(test_db_url: str) -> Iterator[Engine]:
    eng = make_engine(test_db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def db_conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def session(db_conn: Connection) -> Iterator[Session]:
    s = Session(bind=db_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


@pytest.fixture()
def make_app(settings: Settings, db_conn: Connection):
    """Build apps with other settings whose every request session joins the test's rolled-back transaction."""
    with contextlib.ExitStack() as apps:
        yield lambda **overrides: apps.enter_context(joined_app(settings, db_conn, **overrides))


@pytest.fixture()
def app(make_app):
    """An app whose every request session joins the test's rolled-back transaction."""
    return make_app()


@pytest.fixture()
def client(app):
    """A test client signed in as admin (an API token); pass ``headers=users.auth(role)`` to act as another."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = users.auth("admin")["Authorization"]
    return c


@pytest.fixture()
def anon(app):
    """A test client with no credentials."""
    return app.test_client()


class LiveServer:
    """A real HTTP server (uvicorn with the app as `peta112 serve` runs it) on a committed scratch database."""

    def __init__(self, url: str, base_url: str, engine: Engine, app: Any = None):
        self.app = app  # the Flask app served (its caches, for tests of them)
        self.db_url = url
        self.url = base_url
        self.engine = engine
        self.headers = users.auth("dispatcher")


class InFlight:
    """WSGI middleware counting requests inside the app (a streamed body is outside: it holds no pooled session)."""

    def __init__(self, wsgi_app: Any):
        self.wsgi_app = wsgi_app
        self.busy = 0
        self.idle = threading.Condition()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self.idle:
            self.busy += 1
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()

    def wait_idle(self) -> None:
        with self.idle:
            # Requests end on their own in milliseconds; the bound only keeps a stuck one from hanging the suite.
            self.idle.wait_for(lambda: self.busy == 0, timeout=120)


@contextlib.contextmanager
def serve_asgi(application: Any, **server_options: Any) -> Iterator[int]:
    """Serve ``application`` as ``peta112 serve`` does (uvicorn, app/live/asgi.py) in a thread; yield the port."""
    import socket

    import uvicorn

    from app.live.asgi import Server

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(Server(application, **server_options), log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=2, backlog=2048)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="peta112-live-server",
                              daemon=True)
    thread.start()
    try:
        # Starting takes well under a second; the bound only keeps a broken start from hanging the suite.
        for _ in range(600):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "the test server did not start"
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@contextlib.contextmanager
def serving(cluster: Any, base_settings: Settings, prefix: str,
            seed: Callable[[Connection], None]) -> Iterator[LiveServer]:
    """The app served as ``peta112 serve`` does, on its own committed scratch database ``prefix``."""
    import logging

    from tests.scratch import scratch_database

    with scratch_database(cluster, prefix, seed=seed) as url:
        eng = make_engine(url)
        # Browser tests sign in dozens of times a minute from one address: no login rate limit here
        # (tests/integration/test_auth.py tests the limit itself).
        application = create_app(base_settings.with_overrides(database_url=url, rate_limit_login=0))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per tile request drowns failures
        calls = InFlight(application.wsgi_app)
        application.wsgi_app = calls  # type: ignore[method-assign]
        try:
            with serve_asgi(application) as port:
                yield LiveServer(url, f"http://127.0.0.1:{port}", eng, application)
        finally:
            # A request a closed browser left behind still holds a pooled connection; disposing the pool
            # under it would orphan that connection (a ResourceWarning at exit), so let such requests end.
            calls.wait_idle()
            from app.web.stream import stop_hub

            stop_hub(application)
            application.extensions["peta112.engine"].dispose()
            eng.dispose()


@pytest.fixture(scope="session")
def live_server(cluster, base_settings: Settings) -> Iterator[LiveServer]:
    from tests import tinycity

    with serving(cluster, base_settings, "peta112_live", tinycity.seed) as server:
        yield server
