"""Named SQL statements kept in package ``.sql`` files, read through one loader.

Hand-written PostGIS (routing, the incident read model, visibility) lives in
``.sql`` files next to the package that owns it, so the queries that decide
correctness and speed can be read and EXPLAINed as SQL.  A file holds blocks
headed ``-- name: <statement>``; :func:`statement` returns one as a
SQLAlchemy ``text`` clause and :func:`raw` as plain text (for DDL and for
statements that are formatted before use).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from sqlalchemy import TextClause, text

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
