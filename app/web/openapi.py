"""``GET /openapi.json`` (OpenAPI 3.1) and ``GET /docs``, generated from the running app.

Paths come from Flask's ``url_map``, so a new route is in the document the moment
it exists (with its path parameters and a generic response); the registry below
adds what the URL map cannot know: a summary, query parameters, the request body
and the response schema (pydantic models in app/web/schemas.py).  Views are not
touched: documentation is keyed by endpoint name.  Another module may document
its own endpoints with :func:`register`.

Every operation answers errors as RFC 9457 problem details (``4XX``), except
Open311, whose clients expect GeoReport's error list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Any

from flask import Blueprint, Flask, Response, current_app, json, render_template_string
from pydantic import BaseModel
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from app.web import schemas as s
from app.web.analytics_limits import ENDPOINT_PREFIX as ANALYTICS_PREFIX
from app.web.policy import POLICY, PUBLIC

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
BIGINT_MAX = 2**63 - 1
HIDDEN_ENDPOINTS = frozenset({"static", "open311.unknown"})


def q(name: str, schema: dict[str, Any], description: str = "", required: bool = False) -> dict[str, Any]:
    """A query parameter."""
    p: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        p["description"] = description
    return p


def header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
            "description": description}


STR = {"type": "string"}
DATETIME = {"type": "string", "format": "date-time"}
CSV = {"type": "string", "description": "comma-separated list"}


def int_range(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def num_range(lo: float, hi: float) -> dict[str, Any]:
    return {"type": "number", "minimum": lo, "maximum": hi}


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def flag() -> dict[str, Any]:
    return enum("1", "0", "true", "false")


@dataclass(frozen=True)
class ListOf:
    """A JSON array of a model (GeoReport answers lists, never objects)."""

    model: type[BaseModel]


@dataclass
class Op:
    """What one endpoint's operation says beyond its URL rule."""

    summary: str
    tags: tuple[str, ...]
    response: type[BaseModel] | ListOf | dict[str, Any] | None = None
    status: int = 200
    media: tuple[str, ...] = ("application/json",)
    params: tuple[dict[str, Any], ...] = ()
    body: type[BaseModel] | None = None
    body_media: tuple[str, ...] = ("application/json",)
    errors: str = "problem"  # problem | open311 | none
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # more responses by status
    description: str | None = None
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # schema overrides


REGISTRY: dict[str, Op] = {}


def register(endpoint: str, op: Op) -> None:
    """Document an endpoint (by Flask endpoint name, e.g. ``api.list_incidents``)."""
    REGISTRY[endpoint] = op
    spec_for.cache_clear()


# -- the registry ------------------------------------------------------------------------------
T_INC, T_CAT, T_GEO, T_ROUTE, T_SYS, T_MAP = "incidents", "catalog", "geocoding", "routing", "system", "map"
T_311, T_FEAT, T_ANA, T_ACC = "open311", "features", "analytics", "accounts"
GEOREPORT = ("application/json", "text/xml")
LIMIT = q("limit", int_range(1, 1000), "page size")
OFFSET = q("offset", int_range(0, 10_000_000))
SINCE, UNTIL = q("since", DATETIME, "received at or after"), q("until", DATETIME, "received before")
NEAREST_PARAMS = (
    q("agency", STR, "agency code, e.g. DAMKAR"), q("k", int_range(1, 50), "how many (default 5)"),
    q("by", enum("time", "distance"), "drive time on the road network (default) or straight line"),
    q("unit_type", STR, "e.g. fire_engine, ambulance"),
)
LAT = q("lat", num_range(-90, 90), required=True)
LON = q("lon", num_range(-180, 180), required=True)
IDEMPOTENCY = header("Idempotency-Key", "a retry with the same key returns the first result instead of a duplicate")

_DEFAULTS: dict[str, Op] = {
    "health.healthz": Op("Up or down, nothing else (no credentials needed)", (T_SYS,), s.Health,
                         extra={"503": {"description": "database unreachable", "model": s.Health}}),
    "health.details": Op("Database reachable, versions, schema revision, row counts (admins)", (T_SYS,),
                         s.HealthDetails,
                         extra={"503": {"description": "database unreachable", "model": s.HealthDetails}}),
    "api.create_incident": Op(
        "Log a 112 call", (T_INC,), s.Incident, status=201, body=s.IncidentIn, params=(IDEMPOTENCY,),
        description="Geolocates (lat/lon or a free-text address), forwards to the responsible agencies, flags "
                    "duplicates and repeat prank callers, and recommends the nearest units. 201 when created; "
                    "200 with `Idempotent-Replayed: true` when the Idempotency-Key was seen before.",
        extra={"200": {"description": "replay of an earlier request with the same Idempotency-Key",
                       "model": s.Incident}}),
    "api.list_incidents": Op(
        "Incidents, filtered and paginated (newest first)", (T_INC,), s.IncidentPage,
        params=(q("bbox", STR, "minlon,minlat,maxlon,maxlat"), q("category", CSV), q("status", CSV),
                q("agency", STR), q("kelurahan", STR, "code, name or id"), SINCE, UNTIL,
                q("open", flag(), "only open incidents"), LIMIT, OFFSET)),
    "api.get_incident": Op("One incident with tasks, assignments and its audit trail", (T_INC,), s.Incident),
    "api.patch_incident": Op("Change an incident's status (illegal moves are 409)", (T_INC,), s.Incident,
                             body=s.StatusChange),
    "api.patch_task": Op("Change an agency's task on an incident", (T_INC,), s.Incident, body=s.TaskChange),
    "api.assign": Op("Send a unit, or a whole response plan at once (all or none); two dispatchers racing: "
                     "one 201, the other 409", (T_INC,), s.Incident, status=201, body=s.AssignmentIn),
    "api.add_note": Op("Add a note to an incident's timeline (audited; 404 if the reader cannot see it)", (T_INC,),
                       s.Incident, status=201, body=s.NoteIn),
    "api.incident_plan": Op("The category's response plan, each slot filled by an assigned unit or the fastest "
                            "free unit of that kind, and others nearby", (T_ROUTE,), s.Plan),
    "api.release": Op("Release a unit from an incident", (T_INC,), s.Incident),
    "api.triage_queue": Op("Every open incident by priority, overdue first, then waiting time; counts per state",
                           (T_INC,), s.Queue, params=(q("limit", int_range(1, 100_000), "rows (default 200)"),)),
    "api.nearby_open": Op(
        "Open calls near a point, of categories describing the same event (duplicates before save)", (T_INC,),
        s.NearbyOpen,
        params=(LAT, LON, q("category", STR, "the call's category: related ones are included; absent: any"),
                q("radius_m", num_range(1, 5000), "default 500"), q("limit", int_range(1, 20), "default 10"))),
    "api.merge_report": Op(
        "Keep a further caller on an open incident instead of logging a duplicate", (T_INC,), s.Incident,
        status=201, body=s.ReportIn, params=(IDEMPOTENCY,),
        description="The incident's report_count grows by one and its trail gets a report_merged event (no caller "
                    "data in it). 409 when the incident is no longer open; 200 with `Idempotent-Replayed: true` "
                    "for a retry with the same Idempotency-Key.",
        extra={"200": {"description": "replay of an earlier request with the same Idempotency-Key",
                       "model": s.Incident}}),
    "api.audit_reads": Op(
        "Read audit: who read callers' data in bulk, per user and newest rows", (T_INC,), s.ReadAudit,
        params=(q("user", {"type": "string", "maxLength": 100}, "one username"), q("since", DATETIME, "at or after"),
                q("until", DATETIME, "before"), q("limit", int_range(1, 1000), "rows (default 100)"))),
    "api.units": Op("Unit status board", (T_INC,), s.Units, params=(q("agency", STR), q("status", STR))),
    "api.unit_position": Op("AVL position update of a unit", (T_INC,), s.Unit, body=s.PositionIn),
    "api.incident_nearest": Op("Nearest responders to an incident", (T_ROUTE,), s.IncidentNearest,
                               params=NEAREST_PARAMS),
    "api.incident_eta": Op("When will help arrive: ETA per assigned unit", (T_ROUTE,), s.Eta),
    "api.get_nearest": Op("Nearest responders to a point by drive time", (T_ROUTE,), s.Nearest,
                          params=(LAT, LON, *NEAREST_PARAMS, q("include_busy", flag()))),
    "api.list_categories": Op("The 112 incident categories with routing rules", (T_CAT,), s.Categories),
    "api.list_agencies": Op("The agencies (OPD)", (T_CAT,), s.Agencies),
    "api.forward": Op("Fuzzy place search (geocoding)", (T_GEO,), s.Geocode,
                      params=(q("q", {"type": "string", "minLength": 1, "maxLength": 200}, required=True),)),
    "api.reverse": Op("Reverse geocoding: street, kelurahan, kecamatan", (T_GEO,), s.Reverse, params=(LAT, LON)),
    "tiles.tile": Op("Mapbox Vector Tile of a map layer", (T_MAP,), {"type": "string", "format": "binary"},
                     media=("application/vnd.mapbox-vector-tile",),
                     extra={"304": {"description": "not modified (ETag)"}},
                     path_params={"z": int_range(0, 24), "x": int_range(0, 2**24 - 1), "y": int_range(0, 2**24 - 1)}),
    "stream.events": Op("Server-Sent Events: incident and unit changes", (T_MAP,), {"type": "string"},
                        media=("text/event-stream",)),
    "map.index": Op("Redirect to the map", (T_MAP,), None, status=302),
    "map.page": Op("The dispatcher map (HTML)", (T_MAP,), {"type": "string"}, media=("text/html",)),
    "map.layers": Op("Layer definitions, city extent, attribution and the lifecycle rules", (T_MAP,), s.Layers),
    "alerts.flood_alert": Op("A current flood state's CAP alert as a readable page (HTML)", (T_MAP,),
                             {"type": "string"}, media=("text/html",)),
    "alerts.cluster_alert": Op(
        "A cluster's CAP alert as a readable page (HTML); the same query parameters as the cluster API",
        (T_ANA,), {"type": "string"}, media=("text/html",),
        params=(SINCE, UNTIL, q("category", CSV), q("eps_m", num_range(10, 5000)),
                q("min_points", int_range(2, 10_000)), q("hull", enum("convex", "concave")),
                q("within", enum("kelurahan", "city")))),
    # Open311 GeoReport v2
    "open311.discovery": Op("GeoReport v2 discovery", (T_311,), s.Open311Discovery, errors="open311", media=GEOREPORT),
    "open311.services": Op("Service list: the public categories, or every reportable one with an api_key", (T_311,),
                           ListOf(s.Open311Service), errors="open311", media=GEOREPORT,
                           params=(q("api_key", STR, "a client's key: list every category it may file"),)),
    "open311.service_definition": Op("Service definition (no extra attributes)", (T_311,),
                                     s.Open311ServiceDefinition, errors="open311", media=GEOREPORT,
                                     params=(q("api_key", STR, "a client's key: any category it may file"),)),
    "open311.list_requests": Op(
        "Service requests: public categories, last 90 days, location to a ~110 m cell, no caller data", (T_311,),
        ListOf(s.Open311Request), errors="open311", media=GEOREPORT,
        params=(q("service_request_id", CSV, "ids; other filters are then ignored"), q("service_code", CSV),
                q("start_date", DATETIME), q("end_date", DATETIME, "at most 90 days after start_date"),
                q("status", enum("open", "closed", "open,closed")), q("jurisdiction_id", STR, "ignored"))),
    "open311.get_request": Op("One service request", (T_311,),
                              ListOf(s.Open311Request),
                              errors="open311", media=GEOREPORT),
    "open311.create_request": Op(
        "Report a problem (creates an incident, source open311)", (T_311,),
        ListOf(s.Open311Created), status=201, errors="open311", media=GEOREPORT,
        body=s.Open311RequestIn, body_media=("application/x-www-form-urlencoded", "application/json"),
        params=(IDEMPOTENCY,),
        extra={"200": {"description": "replay of an earlier request with the same Idempotency-Key",
                       "model": ListOf(s.Open311Created)}}),
    # OGC API - Features style
    "features.conformance": Op("OGC API conformance classes", (T_FEAT,), s.Conformance),
    "features.list_collections": Op("Feature collections: one per map layer", (T_FEAT,), s.Collections),
    "features.get_collection": Op("One feature collection", (T_FEAT,), s.CollectionInfo),
    "features.get_items": Op(
        "Features of a collection as GeoJSON", (T_FEAT,), s.FeatureCollection, media=("application/geo+json",),
        params=(q("bbox", STR, "minlon,minlat,maxlon,maxlat (CRS84)"),
                q("datetime", STR, "RFC 3339 instant or interval a/b, ../b, a/.. (collections with a time)"),
                q("limit", int_range(1, 1000), "default 100; above 1000 the maximum is used"), OFFSET)),
    # sign-in and accounts
    "auth.login_page": Op("Sign-in page (HTML)", (T_ACC,), {"type": "string"}, media=("text/html",)),
    "auth.login": Op(
        "Sign in", (T_ACC,), s.LoginOut, body=s.LoginIn,
        body_media=("application/json", "application/x-www-form-urlencoded"),
        description="JSON: answers the user and the session's CSRF token; a form post redirects to `next`. "
                    "Sets a new session cookie (HttpOnly, SameSite=Lax). 401 wrong username or password; "
                    "429 when the account is locked after failures or the address made too many failed "
                    "attempts (Retry-After); 403 when posted from another site.",
        extra={"302": {"description": "form sign-in: redirect to next"}}),
    "auth.logout": Op("Sign out: the session ends on the server", (T_ACC,), s.SignedOut,
                      extra={"302": {"description": "form sign-out: redirect to /login"}}),
    "auth.me": Op("Who am I, and this session's CSRF token", (T_ACC,), s.Me),
    "accounts.create_token": Op(
        "Make an API token acting as you", (T_ACC,), s.TokenCreated, status=201, body=s.TokenIn,
        description="Made with a token, the new token expires no later than that token and is revoked with it."),
    "accounts.list_tokens": Op("Your API tokens (admins: everyone's)", (T_ACC,), s.Tokens,
                               params=(q("user", {"type": "string", "maxLength": 64}, "admins: one user's"),)),
    "accounts.revoke_token": Op("Revoke a token and every token made with it", (T_ACC,), s.Revoked),
    "accounts.change_password": Op("Change your own password; ends all your sessions and tokens", (T_ACC,),
                                   s.PasswordChanged, body=s.PasswordChange),
    "accounts.list_users": Op("Accounts and their state", (T_ACC,), s.Accounts),
    "accounts.patch_user": Op(
        "Disable or enable an account, set its password or role", (T_ACC,), s.AccountChanged, body=s.AccountPatch,
        description="Disabling or a new password ends every session and revokes every token of the user at once."),
    "openapi.spec": Op("This document (OpenAPI 3.1)", (T_SYS,), {"type": "object"}),
    "openapi.docs": Op("Human-readable API reference (HTML)", (T_SYS,), {"type": "string"}, media=("text/html",)),
}


def _choices(module: str, attr: str) -> dict[str, Any]:
    """An enum from another module's constant, or a plain string if it is not there (yet)."""
    try:
        values = getattr(__import__(module, fromlist=[attr]), attr)
        return enum(*values)
    except (ImportError, AttributeError):
        return STR


def _analytics_defaults() -> dict[str, Op]:
    win = (SINCE, UNTIL, q("category", CSV))
    cluster = (*win, q("eps_m", num_range(10, 5000)), q("min_points", int_range(2, 10_000)),
               q("hull", _choices("app.services.analytics.clusters", "HULLS")),
               q("within", _choices("app.services.analytics.clusters", "WITHIN")))
    obj = {"type": "object"}
    return {
        "api.analytics_clusters": Op(
            "Incident clusters (DBSCAN)", (T_ANA,), obj, media=("application/json", "application/geo+json", "text/csv"),
            params=(*cluster, q("format", enum("json", "geojson", "csv")), q("per", enum("cluster", "incident")),
                    q("noise", flag()))),
        "api.analytics_cluster_cap": Op("A cluster as a CAP 1.2 alert", (T_ANA,), {"type": "string"},
                                        media=("application/cap+xml",), params=cluster),
        "api.analytics_hotspots": Op(
            "Hot spots (Getis-Ord Gi*)", (T_ANA,), obj,
            params=(*win, q("unit", _choices("app.services.analytics.hotspots", "UNITS")),
                    q("hex_m", num_range(50, 5000)), q("permutations", int_range(0, 99_999)),
                    q("seed", int_range(0, 2**32 - 1)),
                    q("null", _choices("app.services.analytics.hotspots", "NULLS")))),
        "api.analytics_agency_performance": Op(
            "Agency response performance", (T_ANA,), obj,
            params=(*win, q("kecamatan", STR), q("group", _choices("app.services.analytics.performance", "GROUPS")),
                    q("rank_by", _choices("app.services.analytics.performance", "RANK_BY")),
                    q("fast_closure_s", num_range(0, 3600)))),
        "api.analytics_trends": Op("Incident trends", (T_ANA,), obj, params=win),
        "api.analytics_weekly_report": Op(
            "The weekly report as one self-contained HTML page (as `peta112 report weekly`)", (T_ANA,),
            {"type": "string"}, media=("text/html",),
            params=(q("until", {"type": "string", "format": "date"}, "last day of the week (local), default today"),
                    q("category", CSV), q("lang", enum("id", "en")), q("download", flag()))),
    }


for _k, _v in {**_DEFAULTS, **_analytics_defaults()}.items():
    REGISTRY.setdefault(_k, _v)


# -- building the document ---------------------------------------------------------------------
_ARG_RE = re.compile(r"<(?:[^<>]*:)?(\w+)>")


def openapi_path(rule: Rule) -> str:
    """``/incidents/<int:incident_id>`` -> ``/incidents/{incident_id}``."""
    return _ARG_RE.sub(r"{\1}", rule.rule)


def _path_param(rule: Rule, name: str, override: dict[str, Any] | None) -> dict[str, Any]:
    conv = rule._converters.get(name)  # noqa: SLF001 - werkzeug keeps converters only here
    if override is not None:
        schema = override
    elif isinstance(conv, IntegerConverter):
        schema = int_range(0, BIGINT_MAX)
    elif isinstance(conv, AnyConverter):
        schema = enum(*sorted(conv.items))
    elif isinstance(conv, PathConverter):
        schema = STR
    else:
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/.]+$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


class _Schemas:
    """Collects pydantic models into components.schemas and hands out $refs."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel] | ListOf | dict[str, Any] | None) -> dict[str, Any] | None:
        if model is None or isinstance(model, dict):
            return model
        if isinstance(model, ListOf):
            return {"type": "array", "items": self.ref(model.model)}
        if model.__name__ not in self.components:
            schema = model.model_json_schema(ref_template=REF)
            for name, sub in schema.pop("$defs", {}).items():
                self.components.setdefault(name, sub)
            self.components[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}


def _content(schema: dict[str, Any] | None, media: tuple[str, ...]) -> dict[str, Any]:
    """The schema describes the JSON representation; XML (Open311) follows the spec's element names."""
    return {m: ({"schema": schema} if schema is not None and ("json" in m or len(media) == 1) else {})
            for m in media}


def _error_responses(kind: str, reg: _Schemas) -> dict[str, Any]:
    if kind == "open311":
        errs = {"type": "array", "items": reg.ref(s.Open311Error)}
        return {"4XX": {"description": "GeoReport error list: 400 bad input, 403 bad api_key, 404 unknown",
                        "content": {"application/json": {"schema": errs}, "text/xml": {}}}}
    if kind == "none":
        return {}
    return {"4XX": {"description": "problem details (RFC 9457): 400/422 bad input naming the field, "
                                   "401 not signed in, 403 role not allowed or CSRF, 404, 405, "
                                   "409 conflicting state, 413 too large, 429 rate limited "
                                   "or too many analytics requests at once",
                    "content": {"application/problem+json": {"schema": reg.ref(s.Problem)}}}}


def _generic(app: Flask, endpoint: str) -> Op:
    """An undocumented endpoint still appears, with its docstring's first line."""
    doc = (app.view_functions[endpoint].__doc__ or endpoint).strip().splitlines()[0]
    return Op(doc, (endpoint.split(".")[0],), {}, media=("*/*",))


def _operation(app: Flask, rule: Rule, method: str, reg: _Schemas) -> dict[str, Any]:
    op = REGISTRY.get(rule.endpoint) or _generic(app, rule.endpoint)
    media = op.media if op.status != 302 else ()
    responses: dict[str, Any] = {str(op.status): {"description": op.summary,
                                                  **({"content": _content(reg.ref(op.response), media)}
                                                     if media else {})}}
    for status, extra in op.extra.items():
        model = extra.get("model")
        responses[status] = {"description": extra["description"],
                             **({"content": _content(reg.ref(model), op.media)} if model is not None else {})}
    responses.update(_error_responses(op.errors, reg))
    if rule.endpoint.startswith(ANALYTICS_PREFIX):
        responses["503"] = {"description": "stopped by the analytics statement timeout (PETA112_ANALYTICS_TIMEOUT_S), "
                                           "or the database is unreachable; see Retry-After",
                            "content": {"application/problem+json": {"schema": reg.ref(s.Problem)}}}
    params = [_path_param(rule, a, op.path_params.get(a)) for a in _ARG_RE.findall(rule.rule)]
    params += list(op.params)
    out: dict[str, Any] = {"operationId": rule.endpoint.replace(".", "_") + ("" if method == "get" else f"_{method}"),
                           "summary": op.summary, "tags": list(op.tags)}
    if op.description:
        out["description"] = op.description
    if params:
        out["parameters"] = params
    if op.body is not None and method in ("post", "put", "patch"):
        out["requestBody"] = {"required": True, "content": _content(reg.ref(op.body), op.body_media)}
    out["responses"] = responses
    rule_roles = POLICY.get(rule.endpoint)
    if rule_roles == PUBLIC:
        out["security"] = []
    else:
        out["security"] = [{"bearerAuth": []}, {"session": []}]
        if rule_roles:
            out["x-roles"] = sorted(rule_roles)
    return out


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``: every route but static files and Open311's catch-all."""
    reg = _Schemas()
    reg.ref(s.Problem)
    paths: dict[str, dict[str, Any]] = {}
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    for rule in rules:
        if rule.endpoint in HIDDEN_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(app, rule, method.lower(), reg)
    try:
        version = metadata.version("peta112")
    except metadata.PackageNotFoundError:
        version = "0.0.0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "peta112 API",
            "version": version,
            "description": "GIS situational awareness for Indonesian Call Center 112: incidents, dispatch, "
                           "nearest responders by drive time, map layers, Open311 GeoReport v2 and "
                           "OGC API Features style collections. Errors are RFC 9457 problem details "
                           "(Open311: GeoReport error lists).",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": app.extensions["peta112.settings"].public_url}],
        "tags": [{"name": t} for t in (T_INC, T_ROUTE, T_CAT, T_GEO, T_FEAT, T_311, T_ANA, T_MAP, T_ACC, T_SYS)],
        "paths": paths,
        "components": {"schemas": reg.components, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "API token from `peta112 token create` or POST /api/v1/tokens"},
            "session": {"type": "apiKey", "in": "cookie", "name": "peta112_session",
                        "description": "browser session from POST /login (named __Host-peta112 when served over "
                                       "HTTPS); unsafe methods also need X-CSRF-Token"},
        }},
        "security": [{"bearerAuth": []}, {"session": []}],
    }


@lru_cache(maxsize=8)
def spec_for(app: Flask) -> str:
    """The document as JSON text, built once per app (routes do not change after start)."""
    return json.dumps(build_spec(app))


@bp.get("/openapi.json")
def spec() -> Response:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response(spec_for(app), mimetype="application/json")


DOCS_HTML = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ spec.info.title }} {{ spec.info.version }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem;color:#1f2933}
h2{border-bottom:2px solid #d7301f;padding-bottom:.2rem;margin-top:2rem;text-transform:capitalize}
details{border:1px solid #d9dee3;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer} code{font-size:.9em}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.get{color:#1b7f3b}.post{color:#1f5fbf}.patch{color:#a35a00}.delete{color:#b3261e}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #e4e7eb;padding:.2rem .5rem;text-align:left}
pre{background:#f5f7fa;padding:.5rem;overflow:auto;max-height:22rem}
</style></head><body>
<h1>{{ spec.info.title }} <small>{{ spec.info.version }}</small></h1>
<p>{{ spec.info.description }}</p>
<p>Machine-readable: <a href="{{ url_for('openapi.spec') }}">/openapi.json</a> (OpenAPI {{ spec.openapi }}).</p>
{% for tag in tags %}<h2 id="{{ tag }}">{{ tag }}</h2>
{% for path, method, op in ops if op.tags[0] == tag %}<details><summary><span class="m {{ method }}">{{
 method|upper }}</span> <code>{{ path }}</code> &mdash; {{ op.summary }}</summary>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>
{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code>{% if p.required %} *{% endif %}</td>
<td>{{ p["in"] }}</td><td><code>{{ p.schema|tojson }}</code></td><td>{{ p.description or "" }}</td></tr>
{% endfor %}</table>{% endif %}
{% if op.requestBody %}<p>Body: {% for m, c in op.requestBody.content.items() %}<code>{{ m }}</code> {{
 ((c.get("schema") or {}).get("$ref") or "")|replace("#/components/schemas/", "") }} {% endfor %}</p>{% endif %}
<p>Responses: {% for code, r in op.responses.items() %}<code>{{ code }}</code> {{ r.description }}{% if r.content
 %} ({{ r.content.keys()|join(", ") }}){% endif %}; {% endfor %}</p>
</details>{% endfor %}{% endfor %}
<h2 id="schemas">schemas</h2>
{% for name, sch in spec.components.schemas.items() %}<details><summary><code>{{ name }}</code></summary>
<pre>{{ sch|tojson(indent=2) }}</pre></details>{% endfor %}
</body></html>
"""


@bp.get("/docs")
def docs() -> str:
    """Rendered on the server from the same document: no CDN, no JavaScript."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    spec_doc = json.loads(spec_for(app))
    ops = [(path, method, op) for path, item in spec_doc["paths"].items() for method, op in item.items()]
    tags = [t["name"] for t in spec_doc["tags"]]
    tags += sorted({op["tags"][0] for _, _, op in ops} - set(tags))
    return render_template_string(DOCS_HTML, spec=spec_doc, ops=ops, tags=tags)
