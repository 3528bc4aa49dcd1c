"""Apps for HTTP tests whose requests run inside a test's rolled-back transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings
from app.db import request_viewer
from app.db.engine import APP_ROLE
from app.incidents.facts import apply_viewer
from app.web.stream import stop_hub


def request_session_factory(db_conn: Connection) -> Callable[[], Session]:
    """Request sessions that join the test's transaction but read as the web app does.

    Like the app's own sessions, each transaction switches to the ``peta112_app`` role
    and tells the database the request's viewer, so row-level security and caller-data
    masking apply in every HTTP test; at the end of the request the test's connection
    becomes the owner again.
    """
    class RequestSession(Session):
        def close(self) -> None:
            super().close()  # rolls back its savepoint: only then is the owner role back for good
            with contextlib.suppress(Exception):
                db_conn.exec_driver_sql("RESET ROLE")

    def factory() -> Session:
        s = RequestSession(bind=db_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)

        @event.listens_for(s, "after_begin")
        def _as_app(_session: Session, _tx: object, conn: Connection) -> None:
            conn.exec_driver_sql(f"SET LOCAL ROLE {APP_ROLE}")
            apply_viewer(conn, request_viewer())

        return s

    return factory


@contextlib.contextmanager
def joined_app(settings: Settings, conn: Connection, **overrides: Any) -> Iterator[Flask]:
    """``create_app`` whose request sessions join ``conn``'s transaction (see above)."""
    application = create_app(settings.with_overrides(**overrides) if overrides else settings)
    application.extensions["peta112.session_factory"] = request_session_factory(conn)
    try:
        yield application
    finally:
        stop_hub(application)  # the live stream's listener, if a test opened a stream
        application.extensions["peta112.engine"].dispose()
