"""Install who may see calls and caller locations, with the same role sets as incidents.

The rules live in ``sql/calls.sql``; the role lists are written in from
:mod:`app.incidents.viewer` by :func:`app.incidents.facts.render`, so "who sees callers'
data" is still said once.  A later change to the rules is a migration calling
:func:`install` again.
"""

from __future__ import annotations

from sqlalchemy import Connection

from app.db import sqlfiles
from app.incidents import facts

PACKAGE, FILE = "app.calls", "sql/calls.sql"


def install(conn: Connection) -> None:
    """Create or replace the policies, grants and the ``call_facts`` view."""
    sqlfiles.script(conn, facts.render("install", package=PACKAGE, file=FILE))


def uninstall(conn: Connection) -> None:
    sqlfiles.script(conn, facts.render("uninstall", package=PACKAGE, file=FILE))


def install_channels(conn: Connection) -> None:
    """Row-level security of conversations, their messages and the outbox; the reporters' trigger and view."""
    sqlfiles.script(conn, facts.render("install", package=PACKAGE, file="sql/channels.sql"))


def uninstall_channels(conn: Connection) -> None:
    sqlfiles.script(conn, facts.render("uninstall", package=PACKAGE, file="sql/channels.sql"))


def install_pranks(conn: Connection) -> None:
    """Row-level security of ``prank_reviews`` (numbers: the desk only)."""
    sqlfiles.script(conn, facts.render("install", package=PACKAGE, file="sql/pranks.sql"))


def uninstall_pranks(conn: Connection) -> None:
    sqlfiles.script(conn, facts.render("uninstall", package=PACKAGE, file="sql/pranks.sql"))
