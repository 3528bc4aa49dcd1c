"""Engines and sessions for psycopg 3, built from a URL (never at import time)."""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from app.incidents.viewer import Viewer

APP_ROLE = "peta112_app"


def normalize_url(url: str) -> str:
    """Accept the libpq-style URLs people paste (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, app_role: bool = False, **kw: object) -> Engine:
    """An engine; with ``app_role`` every connection runs as ``peta112_app``.

    The web app connects as whoever ``DATABASE_URL`` names (often the tables' owner)
    and then drops to the non-owner role, so PostgreSQL's row-level security applies
    to every query it makes; migrations, the CLI and importers stay the owner.

    A pooled connection is checked at checkout without a round trip (:func:`_still_open`),
    not with ``pool_pre_ping`` (a ``SELECT 1`` per transaction, a third of a small request's
    database time): a restarted or terminated server closes its end of the socket, which
    shows as "readable" on an idle connection, and such a connection is replaced before use.
    """
    opts: dict[str, object] = {"pool_pre_ping": False}
    if "poolclass" not in kw:
        opts.update(pool_size=5, max_overflow=10)
    opts.update(kw)
    engine = create_engine(normalize_url(url), **opts)
    if not opts["pool_pre_ping"]:
        event.listen(engine, "checkout", _check_open)
    if app_role:
        event.listen(engine, "connect", _set_app_role)
    return engine


def _still_open(dbapi_connection: Any) -> bool:
    """May this idle connection be used?  No round trip: libpq's state and a zero-timeout poll.

    An idle connection has nothing to read (it listens to nothing); anything readable is the
    server's goodbye (a FATAL "terminating connection" before it closes, or the close itself).
    """
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return False
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # not psycopg 3: trust the pool
        return True
    try:
        from psycopg import pq

        if pgconn.status != pq.ConnStatus.OK:
            return False
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except Exception:  # noqa: BLE001 - any doubt: a new connection
        return False
    return not readable


def _check_open(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if not _still_open(dbapi_connection):
        # The pool invalidates this connection and checks out another (a new one if need be).
        raise DisconnectionError("pooled connection closed by the server")


def _set_app_role(dbapi_connection: Any, _record: Any) -> None:
    try:
        with dbapi_connection.cursor() as cur:
            cur.execute(f"SET ROLE {APP_ROLE}")
        dbapi_connection.commit()  # a SET inside a transaction that rolls back would be undone
    except Exception:
        # The pool does not close a connection whose connect event failed: do it here.
        dbapi_connection.close()
        raise


def make_sessionmaker(engine: Engine, viewer: Viewer | Callable[[], Viewer] | None = None) -> sessionmaker[Session]:
    """Sessions whose every transaction starts by telling the database who is reading.

    ``viewer`` is a fixed :class:`~app.incidents.viewer.Viewer` (the CLI: ``SYSTEM_VIEWER``)
    or a callable asked at each transaction (the web app: the request's user).
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    if viewer is not None:
        from app.incidents.facts import apply_viewer
        from app.incidents.viewer import Viewer as _Viewer

        def who() -> Viewer:
            return viewer if isinstance(viewer, _Viewer) else viewer()

        @event.listens_for(factory, "after_begin")
        def _tell(_session: Session, _transaction: Any, connection: Any) -> None:
            apply_viewer(connection, who())

    return factory
