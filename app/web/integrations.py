"""Machine callers that are not users: the PBX, the AML gateway, chat platforms.

They authenticate with a shared secret configured on the server (``PETA112_TELEPHONY_KEYS``)
and then act as the ``integration`` viewer: they may file contacts and locations and read
nothing personal back.  A signed-in desk user may send the same requests (a soft-phone in
the console, a call-taker pasting an AML SMS) and acts as themself.
"""

from __future__ import annotations

import hmac

from flask import request

from app.db import use_viewer
from app.domain.roles import PERSONAL_DATA_ROLES
from app.incidents.viewer import INTEGRATION, Viewer
from app.web.auth import current_user
from app.web.problems import Problem


def key_index(keys: tuple[str, ...], given: str) -> int:
    """The index of the matching key, compared in constant time against every key; -1 for none."""
    match = -1
    for i, key in enumerate(keys):
        if hmac.compare_digest(key.encode(), given.encode("utf-8", "replace")):
            match = i
    return match


def authenticate(keys: tuple[str, ...], name: str) -> str:
    """Who sends this request (a desk user or ``name:keyN``); switches the request to that viewer.

    401 with no credential, 403 for a user who is not at the desk or a key that is not configured.
    """
    user = current_user()
    if user is not None:
        if user.role not in PERSONAL_DATA_ROLES:
            raise Problem(403, "Forbidden", f"role {user.role} may not send {name} events")
        return user.username
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not given:
        raise Problem(401, "Unauthorized", f"send the {name} key as 'Authorization: Bearer ...'",
                      field="Authorization")
    index = key_index(keys, given)
    if index < 0:
        raise Problem(403, "Forbidden", f"not a configured {name} key", field="Authorization")
    username = f"{name}:key{index + 1}"
    use_viewer(Viewer(INTEGRATION, username=username))
    return username
