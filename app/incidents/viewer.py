"""Who is reading: the one description of a reader that every query of incidents takes.

Visibility is decided in the database (row-level security on ``incidents`` and
its child tables, and the ``incident_facts`` view that masks callers' data), so
no surface can forget it.  The database learns who is reading from two
transaction-local settings, ``peta112.viewer_role`` and ``peta112.viewer_agency``,
set by :func:`app.incidents.facts.apply_viewer`; the web app sets them for the
signed-in user at the start of every transaction, the CLI as ``system``.

The role sets below are rendered into the SQL of the read model, so this file is
the one place that says who sees which rows and who sees callers' name and phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.roles import PERSONAL_DATA_ROLES, ROLES

ANONYMOUS = "anonymous"
# Trusted processes: the CLI, importers, scheduled jobs and notebooks run by the city's staff.
SYSTEM = "system"
# A machine client that may file requests (Open311 POST with an API key) but reads nothing personal.
INTEGRATION = "integration"
DB_ROLES = (*ROLES, ANONYMOUS, SYSTEM, INTEGRATION)

# Every incident (row) is visible to these; the agency roles see only incidents with a task of theirs.
ALL_ROWS = frozenset({"call_taker", "dispatcher", "admin", "official", "bpbd", SYSTEM, INTEGRATION})
AGENCY_ROWS = frozenset({"agency"})
# Callers' name and phone: only the people who talk to callers.
PERSONAL = frozenset(PERSONAL_DATA_ROLES | {SYSTEM})
# Who may create incidents (a call, an import, an Open311 request).
CREATORS = frozenset({"call_taker", "dispatcher", "admin", SYSTEM, INTEGRATION})
# Anonymous readers see only the public projection (``incident_public``) for this long.
PUBLIC_WINDOW_DAYS = 90

assert ALL_ROWS.isdisjoint(AGENCY_ROWS) and ALL_ROWS | AGENCY_ROWS | {ANONYMOUS} == set(DB_ROLES)


@dataclass(frozen=True)
class Viewer:
    role: str
    agency: str | None = None
    username: str = ANONYMOUS

    def __post_init__(self) -> None:
        if self.role not in DB_ROLES:
            raise ValueError(f"unknown viewer role {self.role!r}")

    @property
    def personal_data(self) -> bool:
        """May this reader see callers' name and phone?"""
        return self.role in PERSONAL

    @property
    def scoped_agency(self) -> str | None:
        """The agency whose incidents alone this reader sees, or None when it sees all (or none)."""
        return self.agency if self.role in AGENCY_ROWS else None

    @property
    def sees_rows(self) -> bool:
        return self.role in ALL_ROWS or self.role in AGENCY_ROWS


ANONYMOUS_VIEWER = Viewer(ANONYMOUS)
SYSTEM_VIEWER = Viewer(SYSTEM, username=SYSTEM)


def for_user(user: object | None) -> Viewer:
    """The viewer of a signed-in user (anything with role, agency_code, username), or anonymous."""
    if user is None:
        return ANONYMOUS_VIEWER
    return Viewer(user.role, getattr(user, "agency_code", None), getattr(user, "username", ANONYMOUS))
