"""A committed scratch database holding a small demo city, for tests that run subprocesses or kernels.

Reports run as ``python -m app.cli_main`` and the notebook runs in a Jupyter
kernel: neither can join a rolled-back test transaction, so they get a real
database, created once per session and dropped afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.db import migrate
from app.db.engine import make_engine
from geodata.demo import generate, load

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so reports and the notebook see the same weeks


def create(cluster, name: str, years: float = 0.25) -> str:  # noqa: ANN001 - the conftest cluster fixture
    """Drop, create, migrate and fill database ``name``; returns its URL."""
    cluster.drop_database(name)
    cluster.ensure_database(name)
    url = cluster.url(name)
    migrate(url, "head")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            load(conn, generate(seed=112, scale="small", years=years, until=UNTIL))
    finally:
        engine.dispose()
    return url
