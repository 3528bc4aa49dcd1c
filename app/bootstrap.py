"""One way for code outside a web request to reach the database: ``session_scope(settings, viewer)``.

The CLI, the reports and the notebooks read incidents through the same read
model as the web app (``incident_facts``, app/incidents), and what that view
shows depends on who reads: callers' data only for viewers allowed to see it,
agency users only their agency's incidents.  A bare ``Session(engine)`` tells
the database nobody, and reads as anonymous.  So every such caller gets its
session here, with its viewer said out loud: the city's own staff running a
command or a notebook are ``SYSTEM_VIEWER`` by default; a report meant for an
official can be built as that official's viewer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import ensure_database
from app.db.engine import make_engine, make_sessionmaker
from app.incidents.viewer import SYSTEM_VIEWER, Viewer


@contextmanager
def session_scope(settings: Settings, viewer: Viewer = SYSTEM_VIEWER) -> Iterator[Session]:
    """A session on the configured database (the embedded one is started if needed) as ``viewer``.

    One unit of work: committed when the block ends normally, rolled back when it
    raises; the engine is disposed either way, so a CLI run leaves no connection behind.
    """
    engine = make_engine(ensure_database(settings))
    try:
        with make_sessionmaker(engine, viewer=viewer)() as session, session.begin():
            yield session
    finally:
        engine.dispose()
