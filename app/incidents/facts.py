"""Install the incident read model and visibility in the database, and tell a session who reads.

``incident_facts`` is the one view every reader of incidents selects from (lists,
tiles, OGC collections, the live stream, analytics, reports); ``incident_public`` is
the projection anonymous readers get.  Both, and the row-level-security policies
under them, are rendered from ``sql/facts.sql`` with the lists of
:mod:`app.incidents.lifecycle` and :mod:`app.incidents.viewer`.

``incident_reports`` (further callers merged into an incident, migration 0014) is
under the same rules; its policies and masking view are installed only once the
table exists, and ``incident_facts.report_count`` reads 1 before then, so earlier
migrations can render this file as it is now.

Migrations call :func:`install`; a later change to the rules or the view is a new
migration calling it again (``CREATE OR REPLACE``/``DROP ... CREATE``), and
``tests/integration/test_incident_facts.py`` fails if the database disagrees with
the Python lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.db.engine import APP_ROLE  # noqa: F401  (the role the SQL grants to; tests name it here)
from app.incidents import lifecycle, viewer
from app.incidents.viewer import Viewer

PACKAGE, FILE = "app.incidents", "sql/facts.sql"


def _array(values: Iterable[str]) -> str:
    items = sorted(values)
    for v in items:
        if not v.replace("_", "").isalnum():
            raise ValueError(f"not a plain code: {v!r}")
    return "ARRAY[" + ", ".join(f"'{v}'" for v in items) + "]::text[]"


REPORT_COUNT = "CAST(1 + (SELECT count(*) FROM incident_reports r WHERE r.incident_id = i.id) AS integer)"


def render(name: str, reports: bool = True, package: str = PACKAGE, file: str = FILE) -> str:
    """A block of facts.sql (or another package's rules file) with the Python lists written in
    (``reports``: incident_reports exists)."""
    tokens = {
        "@report_count@": REPORT_COUNT if reports else "1",
        "@open@": _array(lifecycle.INCIDENT_OPEN),
        "@awaiting@": _array(lifecycle.INCIDENT_AWAITING),
        "@not_counted@": _array(lifecycle.INCIDENT_NOT_COUNTED),
        "@prank_category@": f"'{lifecycle.PRANK_CATEGORY}'",
        "@prank_status@": f"'{lifecycle.PRANK_STATUS}'",
        "@all_rows_roles@": _array(viewer.ALL_ROWS),
        "@agency_roles@": _array(viewer.AGENCY_ROWS),
        "@personal_roles@": _array(viewer.PERSONAL),
        "@creator_roles@": _array(viewer.CREATORS),
        "@public_window_days@": str(int(viewer.PUBLIC_WINDOW_DAYS)),
        "@integration@": f"'{viewer.INTEGRATION}'",
    }
    sql = sqlfiles.raw(package, file, name)
    for token, value in tokens.items():
        sql = sql.replace(token, value)
    return sql


def has_reports(conn: Connection) -> bool:
    """Does this database have incident_reports yet (migration 0014)?"""
    return conn.exec_driver_sql("SELECT to_regclass('incident_reports') IS NOT NULL").scalar_one()


def install(conn: Connection, with_role: bool = True) -> None:
    """Create or replace the app role's grants, the rules, the policies and the views."""
    reports = has_reports(conn)
    if with_role:
        sqlfiles.script(conn, render("app_role"))
    sqlfiles.script(conn, render("install", reports))
    if reports:
        sqlfiles.script(conn, render("install_reports"))


def uninstall_reports(conn: Connection) -> None:
    """Remove the policies and view of incident_reports (before the table or the rules go)."""
    if has_reports(conn):
        sqlfiles.script(conn, render("uninstall_reports"))


def uninstall(conn: Connection, with_role: bool = True) -> None:
    uninstall_reports(conn)
    sqlfiles.script(conn, render("uninstall"))
    if with_role:
        sqlfiles.script(conn, render("revoke_app_role"))


def apply_viewer(target: Session | Connection, who: Viewer) -> None:
    """Tell the current transaction who is reading (until it commits or rolls back)."""
    # On the driver: this runs at the start of every transaction of every request.
    sqlfiles.dbapi(target).execute(sqlfiles.driver(PACKAGE, FILE, "set_viewer"),
                                   {"role": who.role, "agency": who.agency or ""})


def installed_rules(target: Session | Connection) -> dict[str, Any]:
    row = target.execute(sqlfiles.statement(PACKAGE, FILE, "rules")).mappings().one()
    return {k: frozenset(v) for k, v in row.items()}
