"""The ``peta112`` command: database, demo data, imports, serving, reports.

Every command prints one readable line and exits non-zero on a problem the
user can fix; tracebacks are for bugs only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.engine import make_url

from app.config import Settings, from_env
from app.db import (
    ClusterError,
    cluster_for,
    current_revision,
    database_url,
    ensure_database,
    head_revision,
    migrate,
)


class UserError(click.ClickException):
    """A failure explained in one line."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn known failures (no PostgreSQL, bad input, unreachable server) into one line."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        from app.secret_key import SecretKeyError
        from app.services.errors import ServiceError

        try:
            return fn(*args, **kwargs)
        except (ClusterError, SecretKeyError) as exc:
            raise UserError(str(exc)) from None
        except ServiceError as exc:
            raise UserError(f"{exc.field}: {exc.detail}" if exc.field else exc.detail) from None
        except OperationalError as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            raise UserError(f"database unreachable: {first}") from None

    return wrapper


def cli_session(ctx: click.Context):  # -> sqlalchemy.orm.Session
    """A session for one CLI command, as the system viewer; its engine is disposed when the command ends."""
    from app.db.engine import make_engine, make_sessionmaker
    from app.incidents.viewer import SYSTEM_VIEWER

    engine = make_engine(ensure_database(ctx.find_root().obj))
    ctx.call_on_close(engine.dispose)
    return make_sessionmaker(engine, viewer=SYSTEM_VIEWER)()


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group()
@click.version_option(package_name="peta112")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """peta112: GIS situational awareness for Call Center 112."""
    try:
        ctx.obj = from_env()
    except ValueError as exc:  # a malformed PETA112_* variable
        raise UserError(str(exc)) from None


# -- db -------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Embedded PostgreSQL/PostGIS cluster and migrations."""


@db.command("up")
@click.pass_context
@friendly
def db_up(ctx: click.Context) -> None:
    """Start the embedded cluster (idempotent) and create the database."""
    s = _settings(ctx)
    if not s.embedded:
        _check_reachable(database_url(s))
        click.echo(f"using DATABASE_URL ({_redacted(database_url(s))}); nothing to start")
        return
    cluster = cluster_for(s)
    started = cluster.up()
    created = cluster.ensure_database(s.db_name)
    state = "started" if started else "already running"
    click.echo(f"PostgreSQL {state}: socket {cluster.paths.sockets}, database {s.db_name}"
               + (" (created)" if created else ""))


@db.command("down")
@click.pass_context
@friendly
def db_down(ctx: click.Context) -> None:
    """Stop the embedded cluster."""
    s = _settings(ctx)
    if not s.embedded:
        raise UserError("DATABASE_URL is set: peta112 does not manage that server")
    stopped = cluster_for(s).down()
    click.echo("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


@db.command("status")
@click.pass_context
@friendly
def db_status(ctx: click.Context) -> None:
    """Server, PostGIS and pgRouting versions, socket, schema revision and row counts."""
    from app.db.engine import make_engine
    from app.services.status import database_status

    s = _settings(ctx)
    if s.embedded:
        cluster = cluster_for(s)
        if not cluster.is_running():
            raise UserError("embedded PostgreSQL is not running; start it with: peta112 db up")
        click.echo(f"cluster:    {cluster.paths.data}")
        click.echo(f"socket:     {cluster.paths.sockets}/.s.PGSQL.{cluster.port}")
    url = database_url(s)
    click.echo(f"database:   {_redacted(url)}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            info = database_status(conn)
    finally:
        engine.dispose()
    if not info["reachable"]:
        raise UserError(f"database unreachable: {info['error']}")
    click.echo(f"postgresql: {info['postgresql']}")
    click.echo(f"postgis:    {info['postgis'] or 'not installed (run: peta112 db migrate)'}")
    click.echo(f"pgrouting:  {info['pgrouting'] or 'not installed (run: peta112 db migrate)'}")
    click.echo(f"revision:   {info['revision'] or 'none'} (head {head_revision()})")
    for table, n in info["counts"].items():
        click.echo(f"  {table:<20} {'-' if n is None else n}")


@db.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--downgrade", "down", is_flag=True, help="Downgrade to --revision (e.g. base).")
@click.pass_context
@friendly
def db_migrate(ctx: click.Context, revision: str, down: bool) -> None:
    """Upgrade (or downgrade) the schema with Alembic."""
    s = _settings(ctx)
    url = ensure_database(s)
    migrate(url, revision, downgrade=down)
    click.echo(f"schema at revision {current_revision(url) or 'base'}")


@db.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly
def db_reset(ctx: click.Context, yes: bool) -> None:
    """Delete all data: recreate the database and migrate it to head."""
    s = _settings(ctx)
    if not yes and not click.confirm("This deletes every incident and all data. Continue?"):
        raise UserError("reset cancelled")
    if s.embedded:
        cluster = cluster_for(s)
        cluster.up()
        cluster.drop_database(s.db_name)
        cluster.ensure_database(s.db_name)
        url = database_url(s)
    else:
        url = database_url(s)
        migrate(url, "base", downgrade=True)
    migrate(url, "head")
    click.echo(f"database reset; schema at revision {current_revision(url)}")


def _check_reachable(url: str) -> None:
    from app.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


# -- serve ----------------------------------------------------------------------------------
@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="server processes (uvicorn); 0 runs Flask's development server.")
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web app (the database must be up and migrated)."""
    from app import secret_key

    s = _settings(ctx)
    secret_key.resolve(s)  # refuse a published or weak key before the server starts its workers
    ensure_database(s)
    if s.base_url is None:  # links point at the address served, never at a request's Host header
        local = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        s = s.with_overrides(base_url=f"http://{local}:{port}")
        click.echo(f"links use {s.base_url}; set PETA112_BASE_URL to the public address")
    if workers <= 0:
        from app import create_app

        create_app(s).run(host=host, port=port, threaded=True)
        return
    # uvicorn: the Flask app on a thread pool per process, the live stream on its event loop
    # (app/live/asgi.py), so open maps hold no worker thread; one LISTEN per process.
    from app.live.asgi import server_argv

    argv = server_argv(host, port, workers)
    _raise_open_files_limit()  # every open map is a socket
    os.execve(sys.executable, argv, {**os.environ, "PETA112_BASE_URL": s.base_url})


def _raise_open_files_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


# -- commands defined in other modules (one line each) ---------------------------------
from geodata.cli import demo  # noqa: E402

cli.add_command(demo)
from geodata.importers.cli import import_group  # noqa: E402

cli.add_command(import_group)
from app.cli_dispatch import incident  # noqa: E402

cli.add_command(incident)
from app.cli_routing import nearest_cmd  # noqa: E402

cli.add_command(nearest_cmd)
from app.cli_reports import report  # noqa: E402

cli.add_command(report)
from app import cli_backup  # noqa: E402,F401  (adds db backup / db restore)
from app.cli_users import privacy, token, user  # noqa: E402

cli.add_command(user)
cli.add_command(token)
cli.add_command(privacy)
from app.cli_channels import channels  # noqa: E402

cli.add_command(channels)


def main() -> None:
    cli(prog_name="peta112")
