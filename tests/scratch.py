"""Scratch databases for tests whose data must really commit (CLI subprocesses, live servers)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from sqlalchemy import Connection

from app.db import EmbeddedCluster, migrate
from app.db.engine import make_engine


@contextlib.contextmanager
def scratch_database(cluster: EmbeddedCluster, prefix: str,
                     seed: Callable[[Connection], None] | None = None) -> Iterator[str]:
    """Create and migrate ``<prefix>_<pid>``, optionally seed it, yield its URL, drop it afterwards."""
    name = f"{prefix}_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    url = cluster.url(name)
    try:
        migrate(url, "head")
        if seed is not None:
            engine = make_engine(url)
            try:
                with engine.begin() as conn:
                    seed(conn)
            finally:
                engine.dispose()
        yield url
    finally:
        cluster.drop_database(name)
