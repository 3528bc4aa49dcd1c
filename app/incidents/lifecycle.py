"""The life of a 112 call: its statuses, which changes it may make, and what "open" means.

This file is the one home of the status lists.  The database read model
(``app/incidents/sql/facts.sql``, installed by migrations through
:func:`app.incidents.facts.install`) is rendered from the constants below, and a
test checks that the installed functions still agree with them, so "open",
"awaiting arrival" and "not counted" cannot drift between Python and SQL.

Dispatch centres audit these transitions, so they are one explicit table rather
than checks scattered through views: a status only moves forward along the
chain (skipping steps is allowed, e.g. an operator verifying and dispatching
at once), ``closed`` needs ``resolved`` first, and ``cancelled``/``prank`` end
an incident from any open state.
"""

from __future__ import annotations

INCIDENT_CHAIN = ("received", "verified", "dispatched", "en_route", "on_scene", "resolved", "closed")
INCIDENT_ENDINGS = ("cancelled", "prank")
INCIDENT_STATUSES = INCIDENT_CHAIN + INCIDENT_ENDINGS
INCIDENT_TERMINAL = frozenset({"closed", "cancelled", "prank"})
INCIDENT_OPEN = frozenset(INCIDENT_CHAIN[:-2])  # received .. on_scene
# Open and nobody on scene yet: the calls that can become overdue against their category's target.
INCIDENT_AWAITING = frozenset(INCIDENT_CHAIN[:INCIDENT_CHAIN.index("on_scene")])
# Nobody sent yet: assigning the first unit moves such an incident to "dispatched".
INCIDENT_UNDISPATCHED = frozenset(INCIDENT_CHAIN[:INCIDENT_CHAIN.index("dispatched")])
# Statuses of calls that are not real events: they count in call volume, never in analytics.
INCIDENT_NOT_COUNTED = frozenset({"cancelled", "prank"})
# The category of a call recorded as a prank from the start.
PRANK_CATEGORY = "prank"
# The status that ends a call found to be a prank (with the category and the flag: a "prank call").
PRANK_STATUS = "prank"
assert PRANK_STATUS in INCIDENT_NOT_COUNTED
# Column stamped when an incident enters a status.
INCIDENT_TIMESTAMP = {
    "verified": "verified_at",
    "dispatched": "dispatched_at",
    "en_route": "en_route_at",
    "on_scene": "on_scene_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
    "cancelled": "cancelled_at",
    "prank": "cancelled_at",
}

TASK_CHAIN = ("forwarded", "acknowledged", "en_route", "on_scene", "resolved")
TASK_STATUSES = TASK_CHAIN + ("rejected",)
TASK_TIMESTAMP = {
    "acknowledged": "acknowledged_at",
    "en_route": "en_route_at",
    "on_scene": "on_scene_at",
    "resolved": "resolved_at",
    "rejected": "rejected_at",
}

UNIT_STATUS_FOR_INCIDENT = {"dispatched": "dispatched", "en_route": "en_route", "on_scene": "on_scene"}


class IllegalTransition(ValueError):
    def __init__(self, kind: str, current: str, wanted: str):
        super().__init__(f"{kind} cannot go from '{current}' to '{wanted}'")
        self.current = current
        self.wanted = wanted


def check_incident_transition(current: str, wanted: str) -> None:
    if wanted not in INCIDENT_STATUSES:
        raise ValueError(f"unknown status '{wanted}'")
    if current in INCIDENT_TERMINAL or current == wanted:
        raise IllegalTransition("incident", current, wanted)
    if wanted in INCIDENT_ENDINGS:
        if current == "resolved":
            raise IllegalTransition("incident", current, wanted)
        return
    if wanted == "closed" and current != "resolved":
        raise IllegalTransition("incident", current, wanted)
    if INCIDENT_CHAIN.index(wanted) <= INCIDENT_CHAIN.index(current):
        raise IllegalTransition("incident", current, wanted)


def next_statuses(current: str) -> list[str]:
    """The statuses an incident in ``current`` may move to, in lifecycle order."""
    out = []
    for wanted in INCIDENT_STATUSES:
        try:
            check_incident_transition(current, wanted)
        except ValueError:  # IllegalTransition is a ValueError too
            continue
        out.append(wanted)
    return out


def rules() -> dict[str, object]:
    """The lifecycle as data, for screens that must not keep their own copy (the map page)."""
    return {
        "statuses": list(INCIDENT_STATUSES),
        "open": [s for s in INCIDENT_STATUSES if s in INCIDENT_OPEN],
        "awaiting": [s for s in INCIDENT_STATUSES if s in INCIDENT_AWAITING],
        "transitions": {s: next_statuses(s) for s in INCIDENT_STATUSES},
        "task_statuses": list(TASK_STATUSES),
        "task_transitions": {s: next_task_statuses(s) for s in TASK_STATUSES},
    }


def check_task_transition(current: str, wanted: str) -> None:
    if wanted not in TASK_STATUSES:
        raise ValueError(f"unknown task status '{wanted}'")
    if current in ("resolved", "rejected") or current == wanted:
        raise IllegalTransition("task", current, wanted)
    if wanted == "rejected":
        if current not in ("forwarded", "acknowledged"):
            raise IllegalTransition("task", current, wanted)
        return
    if TASK_CHAIN.index(wanted) <= TASK_CHAIN.index(current):
        raise IllegalTransition("task", current, wanted)


def next_task_statuses(current: str) -> list[str]:
    """The statuses an agency's task in ``current`` may move to, in lifecycle order."""
    out = []
    for wanted in TASK_STATUSES:
        try:
            check_task_transition(current, wanted)
        except ValueError:
            continue
        out.append(wanted)
    return out
