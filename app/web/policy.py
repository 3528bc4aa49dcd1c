"""Which roles may call each endpoint: one table, checked before every request.

Deny by default: an endpoint that is not listed here is refused for everyone,
so a new view cannot go live unprotected (tests/integration/test_auth.py checks
that every route in the app is listed, and exercises each role on each one).
"""

from __future__ import annotations

from app.domain.roles import ROLES

PUBLIC = "public"
ALL = frozenset(ROLES)
DESK = frozenset({"call_taker", "dispatcher", "admin"})
OPS = DESK | {"agency", "bpbd"}
ANALYSTS = frozenset({"dispatcher", "bpbd", "official", "admin"})
SUPERVISORS = frozenset({"dispatcher", "admin"})  # the call centre's shift leads

POLICY: dict[str, frozenset[str] | str] = {
    # no login: health, the login page, static files, the API description, public alerts, Open311
    "health.healthz": PUBLIC,  # up or down only; details below
    "health.details": frozenset({"admin"}),
    "static": PUBLIC,
    "auth.login_page": PUBLIC,
    "auth.login": PUBLIC,
    "map.index": PUBLIC,
    "openapi.spec": PUBLIC,
    "openapi.docs": PUBLIC,
    "features.conformance": PUBLIC,
    "api.cap_feed": PUBLIC,
    "api.cap_flood_alert": PUBLIC,
    "alerts.flood_alert": PUBLIC,  # the same alert as a page to read
    "open311.discovery": PUBLIC,
    "open311.services": PUBLIC,
    "open311.service_definition": PUBLIC,
    "open311.list_requests": PUBLIC,
    "open311.get_request": PUBLIC,
    "open311.create_request": PUBLIC,  # Open311 authenticates POST with its own api_key
    "open311.unknown": PUBLIC,
    "api.call_events": PUBLIC,  # the PBX's own key (app/web/integrations.py), or a desk user
    "api.aml_location": PUBLIC,  # the AML gateway's telephony key, or a desk user pasting an SMS
    "api.channel_telegram": PUBLIC,  # Telegram's secret_token header (app/web/api/channels.py)
    "api.channel_whatsapp": PUBLIC,  # signed with the WhatsApp app secret
    "api.channel_whatsapp_verify": PUBLIC,  # the subscription handshake, with the verify token
    "api.channel_sms": PUBLIC,  # the SMS gateway's telephony key
    "api.public_report": PUBLIC,  # the /lapor form: public categories only, rate limited
    "api.public_report_status": PUBLIC,  # a reporter's own report, by its secret token
    "lapor.page": PUBLIC,
    # every signed-in user
    "auth.logout": ALL,
    "auth.me": ALL,
    "accounts.create_token": ALL,
    "accounts.list_tokens": ALL,  # their own; an admin everyone's
    "accounts.revoke_token": ALL,  # their own; an admin anyone's
    "accounts.change_password": ALL,
    "map.page": ALL,
    "map.layers": ALL,
    "dashboard.page": ALL,
    "stream.events": ALL,
    "tiles.tile": ALL,  # and the layer's own roles (layers/*.toml)
    "features.list_collections": ALL,
    "features.get_collection": ALL,
    "features.get_items": ALL,
    "api.list_categories": ALL,
    "api.list_agencies": ALL,
    "api.units": ALL,
    "api.list_incidents": ALL,  # agency users: only their agency's incidents; personal data masked
    "api.get_incident": ALL,
    "api.triage_queue": ALL,
    "api.nearby_open": ALL,  # open calls near a point: the reader's own rows, callers masked as in the list
    "api.add_note": ALL,  # anyone who may see the incident (row-level security decides): 404 otherwise
    "api.flood_states_list": ALL,
    "api.flood_state_history": ALL,
    # the call desk
    "api.create_incident": DESK,
    "api.patch_incident": DESK,
    "api.merge_report": DESK,  # a further caller kept on an existing incident
    "api.assign": frozenset({"dispatcher", "admin"}),
    "api.release": frozenset({"dispatcher", "admin"}),
    # calls: every contact with the centre, with callers' numbers
    "api.list_calls": DESK,
    "api.create_call": DESK,
    "api.get_call": DESK,
    "api.patch_call": DESK,
    "api.prank_numbers": DESK,
    "api.list_conversations": DESK,
    "api.get_conversation": DESK,
    "api.convert_conversation": DESK,
    "api.close_conversation": DESK,
    "api.reply_conversation": DESK,
    "api.conversation_photo": DESK,  # uploads are never public and never an agency's
    "api.prank_blocklist": DESK,
    "api.prank_review": SUPERVISORS,  # a listing is a supervisor's reviewed, audited decision
    # operations: the desk and the agencies in the field
    "api.patch_task": frozenset({"agency", "bpbd", "dispatcher", "admin"}),  # agency/bpbd: own agency only
    "api.unit_position": frozenset({"agency", "bpbd", "dispatcher", "admin"}),  # agency/bpbd: own units only
    "api.get_nearest": OPS,
    "api.incident_nearest": OPS,
    "api.incident_eta": OPS,
    "api.incident_plan": OPS,
    "api.forward": OPS,
    "api.reverse": OPS,
    # analytics
    "api.analytics_agency_performance": ANALYSTS,
    "api.analytics_cluster_cap": ANALYSTS,
    "api.analytics_clusters": ANALYSTS,
    "alerts.cluster_alert": ANALYSTS,
    "api.analytics_coverage": ANALYSTS,
    "api.analytics_density": ANALYSTS,
    "api.analytics_hotspots": ANALYSTS,
    "api.analytics_trends": ANALYSTS,
    "api.analytics_weekly_report": ANALYSTS,
    "api.analytics_staffing": ANALYSTS,
    "api.analytics_pranks": ANALYSTS,
    "api.analytics_operators": SUPERVISORS,  # per person: the shift leads, not the city at large
    "api.monthly_report": ANALYSTS,
    # accounts
    "accounts.list_users": frozenset({"admin"}),
    "accounts.patch_user": frozenset({"admin"}),
    # the read audit: who read callers' data in bulk
    "api.audit_reads": frozenset({"official", "admin"}),
    # BPBD's flood states
    "api.flood_state_set": frozenset({"bpbd", "admin"}),
    "api.flood_state_clear": frozenset({"bpbd", "admin"}),
}

# Agency-bound roles act only on their own agency's tasks and units.
AGENCY_BOUND = frozenset({"agency", "bpbd"})
# Roles that see only incidents their agency has a task in.
AGENCY_SCOPED_READS = frozenset({"agency"})


def actions(role: str) -> list[str]:
    """The endpoints a signed-in role may use: what a page shows buttons for (never a copy in JS)."""
    return sorted(e for e, rule in POLICY.items() if rule != PUBLIC and role in rule)


def allowed(endpoint: str | None, role: str | None) -> bool | None:
    """True/False for a listed endpoint, None for an unlisted one (refused)."""
    rule = POLICY.get(endpoint or "")
    if rule is None:
        return None
    return rule == PUBLIC or (role is not None and role in rule)
