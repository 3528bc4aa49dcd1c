"""Who may do what: the roles of a 112 centre and which of them see callers' personal data.

A call-taker logs calls, a dispatcher sends units, an agency (OPD) officer works
only its own agency's tasks, BPBD manages flood states and disaster analytics,
an official (mayor's office) reads analytics without personal data, an admin
manages users.  Every HTTP endpoint is listed in app/web/policy.py against
these roles; an endpoint missing there is refused (a test checks none is).
"""

from __future__ import annotations

ROLES = ("call_taker", "dispatcher", "agency", "bpbd", "official", "admin")

# Caller name and phone are visible only to the people who talk to callers.
PERSONAL_DATA_ROLES = frozenset({"call_taker", "dispatcher", "admin"})

MASK = "***"


def sees_personal_data(role: str | None) -> bool:
    return role in PERSONAL_DATA_ROLES


def mask_caller(incident: dict) -> dict:
    """Replace the caller's name and phone (in place) for roles that may not see them."""
    caller = incident.get("caller")
    if isinstance(caller, dict):
        incident["caller"] = {k: (MASK if v else v) for k, v in caller.items()}
    for key in ("caller_name", "caller_phone"):
        if incident.get(key):
            incident[key] = MASK
    if isinstance(incident.get("prank_history"), dict):
        incident["prank_history"] = {"suspect": incident["prank_history"].get("suspect")}
    return incident
