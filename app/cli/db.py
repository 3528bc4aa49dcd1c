"""``peta112 db ...``: the embedded PostgreSQL/PostGIS cluster, migrations, backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.common import UserError, friendly, redacted, settings
from app.db import (
    cluster_for,
    current_revision,
    database_url,
    ensure_database,
    head_revision,
    migrate,
)
from app.db.backup import backup, check_dump, restore


@click.group("db")
def db() -> None:
    """Embedded PostgreSQL/PostGIS cluster and migrations."""


@db.command("up")
@click.pass_context
@friendly
def db_up(ctx: click.Context) -> None:
    """Start the embedded cluster (idempotent) and create the database."""
    s = settings(ctx)
    if not s.embedded:
        _check_reachable(database_url(s))
        click.echo(f"using DATABASE_URL ({redacted(database_url(s))}); nothing to start")
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
    s = settings(ctx)
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

    s = settings(ctx)
    if s.embedded:
        cluster = cluster_for(s)
        if not cluster.is_running():
            raise UserError("embedded PostgreSQL is not running; start it with: peta112 db up")
        click.echo(f"cluster:    {cluster.paths.data}")
        click.echo(f"socket:     {cluster.paths.sockets}/.s.PGSQL.{cluster.port}")
    url = database_url(s)
    click.echo(f"database:   {redacted(url)}")
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
    s = settings(ctx)
    url = ensure_database(s)
    migrate(url, revision, downgrade=down)
    click.echo(f"schema at revision {current_revision(url) or 'base'}")


@db.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly
def db_reset(ctx: click.Context, yes: bool) -> None:
    """Delete all data: recreate the database and migrate it to head."""
    s = settings(ctx)
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


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


@db.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: var/backups/<db>-<UTC time>.dump, or ./ with DATABASE_URL).")
@click.pass_context
@friendly
def db_backup(ctx: click.Context, out: Path | None) -> None:
    """Write a complete backup of the database (pg_dump custom format)."""
    res = backup(settings(ctx), out)
    click.echo(f"backup written: {res.path} ({_size(res.bytes)}, {res.entries} entries, {res.seconds:.1f} s)")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly
def db_restore(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the database's contents with a backup (one transaction: all or nothing)."""
    s = settings(ctx)
    check_dump(file)
    if not yes and not click.confirm(f"This replaces every table in the database with {file}. Continue?"):
        raise UserError("restore cancelled")
    res = restore(s, file)
    click.echo(f"restored {res.path} into database {res.dbname} in {res.seconds:.1f} s")
