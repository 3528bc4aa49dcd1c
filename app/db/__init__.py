"""Database wiring: which server to use, migrations, and a session per request.

With ``DATABASE_URL`` set peta112 uses that server and never touches ``./var``;
otherwise it starts (if needed) its embedded cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT, Settings
from app.db.cluster import ClusterError, EmbeddedCluster
from app.db.engine import make_engine, make_sessionmaker, normalize_url

if TYPE_CHECKING:
    from app.incidents.viewer import Viewer

__all__ = [
    "FROM_MEMORY",
    "ClusterError",
    "EmbeddedCluster",
    "NeedsThread",
    "cluster_for",
    "database_url",
    "ensure_database",
    "get_session",
    "init_app",
    "migrate",
    "request_viewer",
    "use_viewer",
]

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# The server (app/live/asgi.py) answers some requests (a cached basemap tile) on its event loop,
# without a pool thread, when the app can answer them from memory alone.  Such a request carries
# FROM_MEMORY in its environ; if it needs the database after all (a credential or a tile not in
# the process's caches, the hub not listening), ``get_session`` marks it NEEDS_THREAD and raises
# NeedsThread before any connection is taken, and the server asks again the ordinary way.
FROM_MEMORY = "peta112.from_memory"
NEEDS_THREAD = "peta112.needs_thread"


class NeedsThread(RuntimeError):
    """A request tried from memory on the event loop needs the database: answer it in a pool thread."""


def cluster_for(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster(settings.var_dir, pg_bin=settings.pg_bin)


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return normalize_url(settings.database_url)
    return cluster_for(settings).url(settings.db_name)


def ensure_database(settings: Settings) -> str:
    """Make the configured database reachable (start the embedded one) and return its URL."""
    if settings.embedded:
        cluster = cluster_for(settings)
        cluster.up()
        cluster.ensure_database(settings.db_name)
    return database_url(settings)


def _alembic_config(url: str):  # -> alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command

    cfg = _alembic_config(url)
    if downgrade:
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("postgresql+psycopg://")).get_current_head()


# -- Flask integration --------------------------------------------------------------
def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(database_url(settings), app_role=True)
    factory = make_sessionmaker(engine, viewer=request_viewer)
    app.extensions["peta112.engine"] = engine
    app.extensions["peta112.session_factory"] = factory
    app.teardown_appcontext(_close_session)
    # Only the server's own retry sees this answer (it asks again in a pool thread).
    app.register_error_handler(NeedsThread, lambda _exc: Response(status=503))


def request_viewer() -> Viewer:
    """Who reads: in a request the signed-in user, else anonymous (no incident rows).

    Outside a request (app-context jobs, tests preparing data) the code itself is the
    actor, as in the CLI: the system viewer.
    """
    from app.incidents.viewer import SYSTEM_VIEWER, for_user

    if not has_request_context():
        return SYSTEM_VIEWER
    override = g.get("viewer")
    return override if override is not None else for_user(g.get("user"))


def use_viewer(who: Viewer) -> None:
    """From here on in this request, read and write as ``who`` (e.g. a keyed integration).

    The current transaction ends, so the next one tells the database the new viewer.
    """
    g.viewer = who
    session = g.get("db_session")
    if session is not None:
        session.commit()


def get_engine() -> Engine:
    return current_app.extensions["peta112.engine"]


def get_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        if has_request_context() and request.environ.get(FROM_MEMORY):
            request.environ[NEEDS_THREAD] = True
            raise NeedsThread(request.path)
        factory: Callable[[], Session] = current_app.extensions["peta112.session_factory"]
        g.db_session = factory()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
