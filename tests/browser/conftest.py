"""A real peta112 server on a loopback port and a headless Chromium driving it.

The server gets its own scratch database (migrated, seeded with tests/tinycity, data
committed) because the browser's requests run in other threads and connections, which
the rolled-back per-test transaction of tests/conftest.py could not share.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from app.db import migrate
from app.db.engine import make_engine
from tests import tinycity, users

CHROMIUM = os.environ.get("PETA112_CHROMIUM", "/usr/bin/chromium")
# As root, without the network: the flags the machine notes say Chromium needs here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass
class LiveServer:
    url: str
    db_url: str


@pytest.fixture(scope="session")
def live_server(cluster, base_settings: Settings) -> Iterator[LiveServer]:
    name = f"peta112_browser_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    url = cluster.url(name)
    migrate(url, "head")
    engine = make_engine(url)
    with engine.begin() as conn:
        tinycity.seed(conn)
    engine.dispose()
    app = create_app(base_settings.with_overrides(database_url=url, db_name=name))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per tile request drowns failures
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="peta112-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", db_url=url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        app.extensions["peta112.engine"].dispose()
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium; make test installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a fresh temporary profile (it refuses --user-data-dir).
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser, live_server: LiveServer):
    """A fresh context (no localStorage carried over) at 1366x768, with console errors collected."""
    ARTIFACTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    users.browser_login(pg, live_server.url)
    yield pg
    ctx.close()
