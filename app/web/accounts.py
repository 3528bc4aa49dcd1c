"""Accounts over HTTP: admins manage users; everyone manages their own tokens and password.

The same services as ``peta112 user ...`` / ``peta112 token ...`` (app/services/accounts.py,
app/services/tokens.py), so a city without shell access to the server can still
disable a leaver or revoke a lost device's token.  Roles are in app/web/policy.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.db import get_session
from app.domain.roles import ROLES
from app.services import accounts, passwords, tokens
from app.web.auth import current_session, current_token, current_user
from app.web.problems import Problem

bp = Blueprint("accounts", __name__)

USER_FIELDS = {"active": bool, "password": str, "role": str, "agency": (str, type(None))}


def _json(obj: Any) -> Any:
    """Timestamps as ISO 8601 (Flask would write RFC 822 dates)."""
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json(v) for v in obj]
    return obj.isoformat() if isinstance(obj, datetime) else obj


def _body(allowed: dict[str, Any]) -> dict[str, Any]:
    """The JSON object body, with only the ``allowed`` fields, each of its type (else 422 naming it)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(422, "Unprocessable Content", "the body must be a JSON object", field="body")
    for key, value in body.items():
        if key not in allowed:
            raise Problem(422, "Unprocessable Content", f"unknown field {key!r}", field=str(key)[:100])
        kind = allowed[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise Problem(422, "Unprocessable Content", f"{key} has the wrong type", field=key)
    return body


def _me():
    user = current_user()
    assert user is not None  # the policy lets no anonymous request in
    return user


@bp.post("/api/v1/tokens")
def create_token():
    """A signed-in user makes an API token for a device or integration acting as them.

    Made with a token, the new token expires no later than that token and is revoked with it.
    """
    user = _me()
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise Problem(422, "Unprocessable Content", "the body must be a JSON object", field="body")
    name = str(body.get("name") or "api")[:100]
    if not passwords.encodable(name) or any(ord(c) < 32 for c in name):
        raise Problem(422, "Unprocessable Content", "name must be plain text", field="name")
    days = body.get("days", 365)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise Problem(422, "Unprocessable Content", "days must be an integer from 1 to 3650", field="days")
    token, info = tokens.create(get_session(), user.username, name, days, parent=current_token(),
                                actor=user.username)
    return jsonify({"token": token, **_json(info)}), 201


@bp.get("/api/v1/tokens")
def list_tokens():
    """Your tokens; an admin sees everyone's (or one user's with ``?user=``)."""
    user = _me()
    db = get_session()
    if user.role == "admin":
        name = request.args.get("user")
        owner = accounts.get(db, name)["id"] if name else None
    else:
        owner = user.id
    return jsonify({"tokens": _json(tokens.list_tokens(db, owner))})


@bp.delete("/api/v1/tokens/<int:token_id>")
def revoke_token(token_id: int):
    """Revoke one of your tokens (an admin: anyone's), and every token made with it."""
    user = _me()
    owner = None if user.role == "admin" else user.id
    n = tokens.revoke(get_session(), token_id, owner_id=owner, actor=user.username)
    if not n:
        raise Problem(404, "Not Found", f"no active token {token_id} of yours", field="token_id")
    return jsonify({"revoked": n})


@bp.get("/api/v1/users")
def list_users():
    """Every account with its state (admins)."""
    return jsonify({"users": _json(accounts.list_users(get_session()))})


@bp.patch("/api/v1/users/<username>")
def patch_user(username: str):
    """Disable or enable an account, set its password or role (admins).

    Disabling or a new password ends every session and token of the user at once.
    """
    admin = _me()
    body = _body(USER_FIELDS)
    db = get_session()
    accounts.get(db, username)  # 404 before anything changes
    if "password" in body:
        passwords.check_policy(body["password"], username)  # refuse before the role changes
    ended: dict[str, int] = {}
    if "role" in body:
        if body["role"] not in ROLES:
            raise Problem(422, "Unprocessable Content", f"role must be one of {', '.join(ROLES)}", field="role")
        accounts.set_role(db, username, body["role"], body.get("agency"), actor=admin.username)
    if "password" in body:
        ended = accounts.set_password(db, username, body["password"], actor=admin.username)
    if "active" in body:
        ended = accounts.set_active(db, username, body["active"], actor=admin.username) or ended
    return jsonify({"user": _json(accounts.get(db, username)), **ended})


@bp.post("/api/v1/me/password")
def change_password():
    """Change your own password (the current one is required); signs you out everywhere."""
    user = _me()
    body = _body({"old_password": str, "new_password": str})
    for key in ("old_password", "new_password"):
        if key not in body:
            raise Problem(422, "Unprocessable Content", f"{key} is required", field=key)
    ended = accounts.change_own_password(get_session(), user, body["old_password"], body["new_password"],
                                         ip=request.remote_addr)
    if current_session() is not None:
        g.cookie_action = "clear"
    return jsonify({"changed": True, **ended})
