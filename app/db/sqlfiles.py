"""Named SQL statements kept in package ``.sql`` files, read through one loader.

Hand-written PostGIS (routing, the incident read model, visibility) lives in
``.sql`` files next to the package that owns it, so the queries that decide
correctness and speed can be read and EXPLAINed as SQL.  A file holds blocks
headed ``-- name: <statement>``; :func:`statement` returns one as a
SQLAlchemy ``text`` clause and :func:`raw` as plain text (for DDL and for
statements that are formatted before use).

A hot path (call intake, telling a transaction who reads) runs its statements with
:func:`row`: the same named block, on the session's own psycopg connection and in its
transaction, without SQLAlchemy's per-statement work (compiling, result metadata), which
cost more CPU than the statements themselves.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.orm import Session

_NAME = re.compile(r"^-- name: (\w+)\s*$", flags=re.M)


@lru_cache(maxsize=32)
def statements(package: str, filename: str) -> dict[str, str]:
    """Every named block of ``package/filename`` (e.g. ``("app.incidents", "sql/facts.sql")``)."""
    source = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    parts = _NAME.split(source)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def raw(package: str, filename: str, name: str) -> str:
    """One named block as text; a missing name is a programming error (KeyError names it)."""
    try:
        return statements(package, filename)[name]
    except KeyError:
        raise KeyError(f"no statement '{name}' in {package}/{filename}") from None


def statement(package: str, filename: str, name: str) -> TextClause:
    """One named block as a ``text`` clause with ``:param`` binds."""
    return text(raw(package, filename, name))


@lru_cache(maxsize=128)
def to_driver(sql: str) -> str:
    """SQL in the ``:param`` style, in the driver's placeholder style (``%(name)s``, literal ``%`` doubled).

    Whole-line comments and indentation go: psycopg caches its parsing of a query only up to
    4 KB of text, and intake's statement is just over that with them.
    """
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    compiled = str(text(sql).compile(dialect=dialect()))
    return "\n".join(line.strip() for line in compiled.splitlines() if not line.lstrip().startswith("--"))


def driver(package: str, filename: str, name: str) -> str:
    """One named block in the driver's placeholder style (:func:`to_driver`)."""
    return to_driver(raw(package, filename, name))


def dbapi(target: Session | Connection) -> Any:
    """The psycopg connection under a session (its transaction begun, so the reader is told) or a connection."""
    conn = target.connection() if isinstance(target, Session) else target
    return conn.connection.dbapi_connection


def row(target: Session | Connection, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The first row (a dict) of ``sql`` (``:param`` style) run on the driver in ``target``'s transaction."""
    from psycopg.rows import dict_row

    with dbapi(target).cursor(row_factory=dict_row) as cur:
        return cur.execute(to_driver(sql), params).fetchone()


def rows(target: Session | Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row (dicts) of ``sql`` (``:param`` style: a named block, or one assembled from blocks)
    run on the driver in ``target``'s transaction."""
    from psycopg.rows import dict_row

    with dbapi(target).cursor(row_factory=dict_row) as cur:
        return cur.execute(to_driver(sql), params).fetchall()


def script(target: Session | Connection, sql: str) -> None:
    """Run a multi-statement script with no parameters (DDL, rules) straight on the driver, so that
    '%' (``format('%I')``) and ':' in it are not read as placeholders."""
    with dbapi(target).cursor() as cur:
        cur.execute(sql)
