"""What every ``peta112`` command shares: one error mapping, the settings, a session, a transaction.

A command prints one readable line and exits non-zero on a problem the user can
fix; tracebacks are for bugs only.  The mapping from known failures to that one
line lives here once, so a new command gets it by stacking ``@friendly``.
Command modules import this module and nothing else of the CLI, which keeps the
package free of import circles: only app/cli/__init__.py knows every command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

from app.config import Settings

T = TypeVar("T")


class UserError(click.ClickException):
    """A failure explained in one line."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn known failures (no PostgreSQL, bad input, a refused write) into one line on stderr."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import DBAPIError, OperationalError

        from app.db import ClusterError
        from app.secret_key import SecretKeyError
        from app.services.errors import ServiceError
        from geodata.importers.problem import ImportProblem

        try:
            return fn(*args, **kwargs)
        except (ClusterError, SecretKeyError) as exc:
            raise UserError(str(exc)) from None
        except ServiceError as exc:
            raise UserError(f"{exc.field}: {exc.detail}" if exc.field else exc.detail) from None
        except ImportProblem as exc:
            raise UserError(f"{exc}; nothing imported") from None
        except OperationalError as exc:
            raise UserError(f"database unreachable: {_first_line(exc)}") from None
        except DBAPIError as exc:
            raise UserError(f"the database refused the change, nothing changed: {_first_line(exc)}") from None

    return wrapper


def _first_line(exc: Any) -> str:
    return str(exc.orig or exc).strip().splitlines()[0]


def progress(iterable: Iterable[T], length: int | None, label: str) -> Iterable[T]:
    """A progress bar on stderr, only on a terminal: logs and pipes get the result lines alone."""
    if not sys.stderr.isatty():
        return iterable
    return _bar(iterable, length, label)


def _bar(iterable: Iterable[T], length: int | None, label: str) -> Iterator[T]:
    with click.progressbar(iterable, length=length, label=f"{label:<16}", show_pos=True,
                           file=click.get_text_stream("stderr")) as bar:
        yield from bar


def settings(ctx: click.Context) -> Settings:
    """The settings read once by the root group (app/cli/__init__.py)."""
    return ctx.find_root().obj


#: ``--tmp-dir`` of the commands that read OSM extracts (city setup, import osm).
tmp_dir_option = click.option(
    "--tmp-dir", "tmp_dir_given", type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the OSM reader's temporary files (a few hundred MB for a province; removed "
         "afterwards, on an error too). Default: PETA112_TMPDIR, else the system's (TMPDIR or /tmp).")


def tmp_dir(ctx: click.Context, given: Path | None) -> Path | None:
    """The option, else PETA112_TMPDIR, else None (the system's temporary directory)."""
    return given or settings(ctx).tmp_dir


def redacted(url: str) -> str:
    """A database URL fit for the terminal: no password."""
    return make_url(url).render_as_string(hide_password=True)


def cli_engine(ctx: click.Context) -> Engine:
    """An engine on the configured database (as its owner) for one CLI command, disposed when it ends."""
    from app.db import ensure_database
    from app.db.engine import make_engine

    engine = make_engine(ensure_database(settings(ctx)))
    ctx.call_on_close(engine.dispose)
    return engine


def cli_session(ctx: click.Context) -> Session:
    """A session for one CLI command, as the system viewer; its engine is disposed when the command ends."""
    from app.db.engine import make_sessionmaker
    from app.incidents.viewer import SYSTEM_VIEWER

    return make_sessionmaker(cli_engine(ctx), viewer=SYSTEM_VIEWER)()


def in_transaction(ctx: click.Context, work: Callable[[Connection], T], commit: bool = True) -> T:
    """Run ``work(conn)`` in ONE transaction on the configured database: a failure changes nothing.

    ``commit=False`` rolls back even on success: a dry run (``city setup --check``) sees
    exactly what the real run would load.  Refuses a database without the peta112 schema
    with the command that fixes it, instead of a "relation does not exist" from deep inside.
    """
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    from app.db import ensure_database
    from app.db.engine import make_engine

    engine = make_engine(ensure_database(settings(ctx)), poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin() as trans:
            if conn.execute(text("SELECT to_regclass('road_edges')")).scalar() is None:
                raise UserError("the database has no peta112 schema; run: peta112 db migrate")
            result = work(conn)
            if not commit:
                trans.rollback()
            return result
    finally:
        engine.dispose()
