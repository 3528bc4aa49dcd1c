"""Request and response shapes of the HTTP API, as pydantic models, for the OpenAPI document.

The views build plain dicts (services return them); these models only *describe*
those dicts so that ``GET /openapi.json`` is generated from code and a contract
test (schemathesis) can check every response against it.  Objects allow extra
properties: adding a field to a response is not a breaking change, removing or
retyping one is, and the contract test catches that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.incidents.lifecycle import INCIDENT_STATUSES


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors ----------------------------------------------------------------------------------
class FieldError(Model):
    field: str
    detail: str


class Problem(Model):
    """RFC 9457 problem details (``application/problem+json``), for every 4xx and 5xx."""

    type: str = Field(description="URI of the problem type; about:blank for plain HTTP errors")
    title: str
    status: int
    detail: str | None = None
    field: str | None = Field(None, description="the offending input field, for bad input")
    errors: list[FieldError] | None = None
    instance: str | None = None


# -- catalog -----------------------------------------------------------------------------------
class PlanLine(Model):
    agency: str
    unit_type: str | None = None
    count: int


class CategoryAgency(Model):
    agency: str
    role: Literal["primary", "support"]
    task_target_s: int | None = Field(None, description="The agency's own target for its task, forwarded to on "
                                                         "scene (the catalog's task_target); null: its standard "
                                                         "or the category's target")


class Category(Model):
    code: str
    name_id: str
    name_en: str
    priority: int = Field(ge=1, le=5)
    target_response_s: int
    is_emergency: bool
    response_plan: list[PlanLine]
    color: str
    agencies: list[CategoryAgency]
    retired_at: datetime | None = Field(None, description="Set when the city's catalog dropped the category: "
                                                          "old incidents keep it, intake refuses it")


class Categories(Model):
    categories: list[Category]


class Agency(Model):
    code: str
    name: str
    name_en: str
    kind: str
    phone: str | None
    color: str
    unit_types: list[str] = []
    retired_at: datetime | None = None


class Agencies(Model):
    agencies: list[Agency]


# -- incidents -------------------------------------------------------------------------------
IncidentStatus = Literal[INCIDENT_STATUSES]  # type: ignore[valid-type]
TaskStatus = Literal["forwarded", "acknowledged", "en_route", "on_scene", "resolved", "rejected"]
Source = Literal["phone", "sms", "whatsapp", "app", "web", "radio", "open311", "import", "demo"]


class LocationIn(Model):
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500)


class CallerIn(Model):
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=32, description="digits, optionally starting with +")


class IncidentIn(Model):
    """A call to log: a category and a place (lat+lon, or an address to geocode)."""

    category: str = Field(description="an incident category code, see GET /api/v1/categories")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500, description="free text; geocoded when lat/lon are absent")
    location: LocationIn | None = None
    caller_name: str | None = Field(None, max_length=200)
    caller_phone: str | None = Field(None, max_length=32)
    caller: CallerIn | None = None
    description: str | None = Field(None, max_length=2000)
    source: Source | None = "phone"
    idempotency_key: str | None = Field(None, max_length=200, description="same as the Idempotency-Key header")


class StatusChange(Model):
    status: IncidentStatus
    note: str | None = Field(None, max_length=1000)


class TaskChange(Model):
    status: TaskStatus
    reason: str | None = Field(None, max_length=500, description="required when rejecting")


class AssignmentIn(Model):
    """One unit, or a whole response plan at once (all assigned in one transaction, or none)."""

    unit_id: int | None = Field(None, description="one unit")
    unit_ids: list[int] | None = Field(None, min_length=1, max_length=20,
                                       description="several units: all assigned, or none (409 naming unit_ids)")


class NoteIn(Model):
    text: str = Field(min_length=1, max_length=1000, description="a note on the incident's timeline (audited)")


class PositionIn(Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AreaRef(Model):
    id: int
    code: str
    name: str


class Caller(Model):
    name: str | None
    phone: str | None


class Task(Model):
    id: int
    agency: str
    agency_name: str
    status: TaskStatus
    forwarded_at: datetime
    acknowledged_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    resolved_at: datetime | None = None
    rejected_at: datetime | None = None
    reject_reason: str | None = None


class Assignment(Model):
    id: int
    unit_id: int
    callsign: str
    unit_type: str
    agency: str
    unit_status: str
    eta_s: float | None
    assigned_at: datetime
    released_at: datetime | None
    actor: str | None


class Event(Model):
    id: int
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    data: dict[str, Any]


class Report(Model):
    """A further caller about the same event, merged into the incident (``incident_reports``)."""

    id: int
    received_at: datetime
    actor: str
    source: str
    caller: Caller
    description: str | None
    address: str | None
    lat: float | None
    lon: float | None


class ReportIn(Model):
    """A further caller to keep on an open incident: who rang, what they said, where (default: the incident)."""

    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500)
    location: LocationIn | None = None
    caller_name: str | None = Field(None, max_length=200)
    caller_phone: str | None = Field(None, max_length=32)
    caller: CallerIn | None = None
    description: str | None = Field(None, max_length=2000)
    source: Source | None = "phone"


class Incident(Model):
    id: int
    category: str
    category_name: str
    category_name_en: str
    status: IncidentStatus
    priority: int
    source: str
    address: str | None
    description: str | None
    is_prank: bool
    duplicate_of: int | None
    received_at: datetime
    verified_at: datetime | None
    dispatched_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    target_response_s: int
    due_at: datetime | None = Field(description="when the category's target response time runs out")
    is_open: bool = Field(description="still being worked on (app/incidents/lifecycle.py)")
    is_overdue: bool = Field(description="open, nobody on scene yet, and past due_at")
    report_count: int | None = Field(None, description="callers about this event: the first plus merged reports")
    lat: float | None
    lon: float | None
    caller: Caller
    kelurahan: AreaRef | None
    kecamatan: AreaRef | None
    tasks: list[Task]
    assignments: list[Assignment]
    events: list[Event] | None = Field(None, description="detail only: the audit trail")
    reports: list[Report] | None = Field(None, description="detail only: further callers merged into it")
    report: Report | None = Field(None, description="merge only: the report just added")
    prank_history: dict[str, Any] | None = Field(None, description="intake only: earlier calls from this phone")
    recommended: dict[str, Any] | None = Field(None, description="intake only: nearest units for the plan")


class IncidentPage(Model):
    total: int
    limit: int
    offset: int
    items: list[Incident]
    next: str | None = None


class QueueItem(Model):
    id: int
    category: str
    category_name: str
    category_name_en: str
    status: IncidentStatus
    priority: int
    address: str | None
    received_at: datetime
    target_response_s: int
    due_at: datetime | None
    is_open: bool
    is_overdue: bool
    report_count: int
    waiting_s: float
    lat: float | None
    lon: float | None
    kelurahan: str | None
    overdue: bool = Field(description="the same as is_overdue (its older name)")
    tasks: list[Task]
    assignments: list[Assignment]


class QueueCount(Model):
    open: int
    overdue: int


class QueueCounts(Model):
    open: int = Field(description="every open call the reader may see, not only this page")
    overdue: int
    by_status: dict[str, QueueCount]
    by_priority: dict[str, QueueCount] = Field(description="keyed by priority, \"1\" most urgent")


class Queue(Model):
    items: list[QueueItem] = Field(description="priority, then overdue first, then the longest waiting")
    total: int = Field(description="open calls the reader may see (the page may hold fewer)")
    counts: QueueCounts


class NearbyItem(Model):
    id: int
    category: str
    category_name: str
    category_name_en: str
    status: IncidentStatus
    priority: int
    address: str | None
    received_at: datetime
    due_at: datetime | None
    is_overdue: bool
    report_count: int
    kelurahan: str | None
    lat: float | None
    lon: float | None
    distance_m: float
    caller: Caller


class NearbyOpen(Model):
    lat: float
    lon: float
    radius_m: float
    categories: list[str] | None = Field(description="the category and those describing the same event; null: any")
    items: list[NearbyItem]


class Unit(Model):
    id: int
    callsign: str
    unit_type: str
    agency: str
    status: str
    status_since: datetime = Field(description="when the unit entered its current status")
    station_id: int | None
    station_name: str | None
    current_incident_id: int | None
    position_at: datetime | None
    lat: float | None
    lon: float | None


class Units(Model):
    units: list[Unit]


class LineString(Model):
    type: Literal["LineString"]
    coordinates: list[list[float]]


class Candidate(Model):
    kind: str
    agency: str
    eta_s: float | None = None
    distance_m: float | None = None
    route: LineString | None = None


class Unreached(Model):
    kind: str
    agency: str
    reason: Literal["unreachable", "no_road", "outside_component"]
    detail: str
    unit_id: int | None = None
    station_id: int | None = None


class Nearest(Model):
    query: dict[str, Any]
    method: str
    candidates: list[Candidate]
    unreached: list[Unreached] = Field(
        default_factory=list,
        description="drive time only: candidates that cannot reach the point by road, and why "
                    "(no road near them, a start outside the main road network, or no road path)")


class IncidentNearest(Nearest):
    incident_id: int


class PlanAssigned(Model):
    assignment_id: int
    unit_id: int
    callsign: str
    unit_type: str
    agency: str


class PlanSlot(Model):
    agency: str
    unit_type: str | None = Field(description="the kind of unit; null: any unit of the agency (or its office)")
    count: int
    filled: int = Field(description="assigned plus proposed")
    assigned: list[PlanAssigned] = Field(description="the incident's units already filling this line")
    candidates: list[Candidate] = Field(description="the fastest free units for the rest of the line")


class Plan(Model):
    incident_id: int
    category: str
    method: str = Field(description="drive_time, straight_line, or unavailable")
    reason: str | None = None
    plan: list[PlanSlot]
    others: list[Candidate] = Field(description="other free units nearby, of any kind, after the plan's")


class EtaUnit(Model):
    assignment_id: int
    unit_id: int
    callsign: str
    eta_s: float | None
    method: str
    arrives_at: datetime | None


class Eta(Model):
    incident_id: int
    status: IncidentStatus
    first_eta_s: float | None
    units: list[EtaUnit]


class NearStreet(Model):
    relation: str | None = Field(description="the caller's word: dekat, depan, samping, belakang, ...")
    street_distance_m: float | None = Field(description="metres from the landmark to the named street "
                                                        "(null: no such street found)")


class GeocodeHit(Model):
    id: int
    kind: str
    name: str
    precision: Literal["address", "street", "landmark", "kelurahan", "kecamatan"] = Field(
        description="what the point stands for: a house, a whole street (a point on it), a landmark, "
                    "or only an area (a point inside it); ask the caller again when it is an area")
    kelurahan: str | None = None
    kecamatan: str | None = None
    score: float
    lat: float
    lon: float
    near: NearStreet | None = Field(None, description="\"<street> dekat <landmark>\": the landmark, "
                                                      "and how far it is from that street")


class Geocode(Model):
    query: str
    normalized: str
    results: list[GeocodeHit]


class Reverse(Model):
    lat: float
    lon: float
    street: dict[str, Any] | None = Field(None, description="nearest named street within max_distance_m")
    landmark: dict[str, Any] | None = Field(None, description="nearest landmark within 100 m")
    kelurahan: AreaRef | None = None
    kecamatan: AreaRef | None = None
    near: bool = Field(description="false: no named street or landmark near the point")
    max_distance_m: float


class Health(Model):
    status: Literal["ok", "down"]


class HealthDetails(Model):
    status: Literal["ok", "down"]
    database: dict[str, Any]


class Lifecycle(Model):
    """The lifecycle rules the map page reads instead of keeping its own copy."""

    statuses: list[IncidentStatus]
    open: list[IncidentStatus]
    awaiting: list[IncidentStatus] = Field(description="open and nobody on scene yet: may become overdue")
    transitions: dict[str, list[IncidentStatus]] = Field(description="status -> the statuses it may move to")


class Layers(Model):
    layers: list[dict[str, Any]]
    bounds: list[float] | None
    lifecycle: Lifecycle | None = None


# -- the read audit ----------------------------------------------------------------------------
class ReadAuditUser(Model):
    username: str
    role: str
    requests: int
    incidents: int
    personal_data_requests: int
    personal_data_incidents: int
    first_at: datetime
    last_at: datetime


class ReadAuditRow(Model):
    id: int
    at: datetime
    username: str
    role: str
    surface: str
    filter: dict[str, Any]
    count: int
    personal_data: bool


class ReadAudit(Model):
    user: str | None
    since: datetime | None
    until: datetime | None
    limit: int
    users: list[ReadAuditUser]
    items: list[ReadAuditRow]


# -- accounts ---------------------------------------------------------------------------------
Role = Literal["call_taker", "dispatcher", "agency", "bpbd", "official", "admin"]


class Input(BaseModel):
    """A request body whose unknown fields are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")


class UserOut(Model):
    id: int
    username: str
    role: Role
    agency: str | None
    display_name: str | None
    demo: bool = Field(description="a demo login with a published password (shown as AKUN DEMO)")


class Me(Model):
    user: UserOut
    personal_data: bool = Field(description="whether callers' names and phones are shown to this role")
    csrf_token: str | None = Field(description="send as X-CSRF-Token with unsafe requests of this session")
    auth: Literal["session", "token"] | None
    actions: list[str] = Field(description="the endpoints this role may use (app/web/policy.py): which buttons to show")
    acts_for_agency: str | None = Field(description="agency-bound roles: the agency whose tasks and units they act on")


class LoginIn(Model):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1024)
    next: str | None = Field(None, max_length=2000, description="form sign-in: where to go afterwards")


class LoginOut(Model):
    user: UserOut
    csrf_token: str


class SignedOut(Model):
    signed_out: bool


class Account(Model):
    id: int
    username: str
    role: Role
    agency: str | None
    display_name: str | None
    active: bool
    demo: bool
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime | None
    failed_logins: int
    locked_until: datetime | None = Field(description="set while sign-in is locked after failures")


class Accounts(Model):
    users: list[Account]


class AccountPatch(Input):
    active: bool | None = Field(None, description="false ends every session and token of the user")
    password: str | None = Field(None, min_length=12, max_length=256,
                                 description="a new password; ends every session and token of the user")
    role: Role | None = None
    agency: str | None = Field(None, max_length=20, description="agency code, for role agency (and bpbd)")


class AccountChanged(Model):
    user: Account
    sessions_ended: int | None = None
    tokens_revoked: int | None = None


class PasswordChange(Input):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=12, max_length=256)


class PasswordChanged(Model):
    changed: bool
    sessions_ended: int
    tokens_revoked: int


class TokenIn(Model):
    name: str | None = Field(None, max_length=100, description="what the token is for")
    days: int = Field(365, ge=1, le=3650, description="capped at the expiry of the token making the request")


class TokenCreated(Model):
    token: str = Field(description="shown once; only its SHA-256 is stored")
    id: int
    name: str
    prefix: str
    expires_at: datetime | None
    parent_id: int | None = Field(description="the token that made this one; revoking it revokes this one")


class TokenInfo(Model):
    id: int
    name: str
    prefix: str
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    parent_id: int | None
    active: bool


class Tokens(Model):
    tokens: list[TokenInfo]


class Revoked(Model):
    revoked: int = Field(description="tokens revoked: the one named and every token made with it")


# -- Open311 GeoReport v2 ------------------------------------------------------------------
class Open311Error(Model):
    code: int
    description: str


class Open311Service(Model):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Open311ServiceDefinition(Model):
    service_code: str
    attributes: list[dict[str, Any]]


class Open311Endpoint(Model):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Open311Discovery(Model):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Request(Model):
    """A service request: an incident's public side (never the caller's name or phone)."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime | None
    expected_datetime: datetime | None
    address: str | None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(Model):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class Open311RequestIn(Model):
    """POST requests: form-encoded (as the spec says) or JSON."""

    api_key: str = Field(description="issued by the city's 112 operator (PETA112_OPEN311_KEYS)")
    service_code: str
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    address_string: str | None = None
    email: str | None = Field(None, description="accepted, not stored yet")
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = Field(None, description="accepted, not stored yet")


# -- features (OGC API - Features style) --------------------------------------------------
class Link(Model):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class SpatialExtent(Model):
    bbox: list[list[float]]
    crs: str | None = None


class TemporalExtent(Model):
    interval: list[list[datetime | None]]
    trs: str | None = None


class Extent(Model):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class CollectionInfo(Model):
    id: str
    title: str
    description: str | None = None
    itemType: Literal["feature"] = "feature"  # noqa: N815 - the OGC name
    extent: Extent | None = None
    crs: list[str] | None = None
    links: list[Link]


class Collections(Model):
    links: list[Link]
    collections: list[CollectionInfo]


class Conformance(Model):
    conformsTo: list[str]  # noqa: N815 - the OGC name


class Geometry(Model):
    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"]


class Feature(Model):
    type: Literal["Feature"]
    id: int | str | None = None
    geometry: Geometry | None
    properties: dict[str, Any] | None


class FeatureCollection(Model):
    """RFC 7946 GeoJSON with OGC API Features paging members."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: int  # noqa: N815 - the OGC name
    numberReturned: int  # noqa: N815 - the OGC name
    timeStamp: datetime  # noqa: N815 - the OGC name
    links: list[Link]
