"""Engines and sessions for psycopg 3, built from a URL (never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
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
    """
    opts: dict[str, object] = {"pool_pre_ping": True}
    if "poolclass" not in kw:
        opts.update(pool_size=5, max_overflow=10)
    opts.update(kw)
    engine = create_engine(normalize_url(url), **opts)
    if app_role:
        event.listen(engine, "connect", _set_app_role)
    return engine


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
