"""The small demo city as seed data for a committed scratch database (tests/scratch.py).

Reports run as ``python -m app.cli_main`` and the notebook runs in a Jupyter
kernel: neither can join a rolled-back test transaction, so they get a real
database with this city in it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from geodata.demo import generate, load

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so reports and the notebook see the same weeks


def seed(conn: Connection) -> None:
    """A quarter year of the small demo city, seed 112, ending at UNTIL."""
    load(conn, generate(seed=112, scale="small", years=0.25, until=UNTIL))
