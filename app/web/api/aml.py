"""``POST /api/v1/aml``: a caller's handset position (Advanced Mobile Location) from the gateway.

The AML SMS arrives as ``text/plain`` (the SMS text, the sender in ``?from=``) or as a form
with ``text`` and ``from`` (what SMS gateways post); the HTTPS form as JSON or form fields
with the ELS/AML names.  The gateway authenticates with a telephony key; a call-taker may
paste an SMS by hand.  Parsing is strict (app/calls/aml.py); the newest fix of a number is
the caller's position, shown with its radius on the call-taker's map.
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.calls import aml, queries
from app.db import get_session
from app.services.errors import InvalidInput
from app.web import integrations
from app.web.api import bp
from app.web.auth import current_user


def _fix() -> aml.Fix:
    mimetype = request.mimetype
    if mimetype == "text/plain":
        return aml.parse_sms(request.get_data(as_text=True), request.args.get("from"))
    if mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object", "body")
        return aml.parse_https(body, request.args.get("from"))
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.form.to_dict()
        if "text" in form:
            return aml.parse_sms(form["text"], form.get("from") or request.args.get("from"))
        return aml.parse_https(form, form.get("from") or request.args.get("from"))
    raise InvalidInput("send the AML SMS as text/plain, or the HTTPS form as JSON or form fields", "Content-Type")


@bp.post("/aml")
def aml_location():
    """One AML location (SMS text or HTTPS form) of a caller's handset."""
    sender = integrations.authenticate(current_app.extensions["peta112.settings"].telephony_keys, "aml")
    stored = aml.store(get_session(), _fix(), sender)
    if current_user() is not None and stored["call_id"] is not None:  # a desk user sees where it landed
        stored["call"] = queries.get_call(get_session(), stored["call_id"])
    return jsonify(stored), 201
