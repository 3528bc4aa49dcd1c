"""``peta112 db backup`` and ``peta112 db restore``: the way back after a lost server.

Registered on the existing ``db`` group so the commands sit next to ``db up``/``db migrate``;
the work is in app/db/backup.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import UserError, _settings, db, friendly
from app.db.backup import backup, check_dump, restore


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
    res = backup(_settings(ctx), out)
    click.echo(f"backup written: {res.path} ({_size(res.bytes)}, {res.entries} entries, {res.seconds:.1f} s)")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly
def db_restore(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the database's contents with a backup (one transaction: all or nothing)."""
    s = _settings(ctx)
    check_dump(file)
    if not yes and not click.confirm(f"This replaces every table in the database with {file}. Continue?"):
        raise UserError("restore cancelled")
    res = restore(s, file)
    click.echo(f"restored {res.path} into database {res.dbname} in {res.seconds:.1f} s")
