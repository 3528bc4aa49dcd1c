"""Open311 GeoReport v2 at /open311/v2: JSON and XML, errors as GeoReport error lists.

The mapping lives in app/services/open311.py; this module only parses the
request, picks the representation from the URL's ``.json``/``.xml`` suffix (as
the spec does) and answers errors in the shape GeoReport clients expect
(``[{"code": 400, "description": "..."}]`` / ``<errors><error>...``) instead of
our problem details, because those clients cannot read anything else.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from app.db import get_session, use_viewer
from app.services import open311
from app.services.errors import InvalidInput, NotFound, ServiceError
from app.services.xmltext import xml_text
from app.web import links
from app.web.problems import Problem

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = "any(json,xml)"
# Endpoints anyone may read without signing in: rate limited per client (PETA112_RATE_LIMIT_PUBLIC).
PUBLIC_READS = ("open311.discovery", "open311.services", "open311.service_definition", "open311.list_requests",
                "open311.get_request")
XML_MEDIA_TYPE = "text/xml"
# The element name of a list's items, by the list's own element name.
XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
            "formats": "format", "attributes": "attribute", "values": "value"}


# -- rendering -------------------------------------------------------------------------------
def _xml_value(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(ET.SubElement(parent, k), v)
    elif isinstance(value, list):
        item = XML_ITEM.get(parent.tag, "item")
        for v in value:
            _xml_value(ET.SubElement(parent, item), v)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = xml_text(str(value))


def to_xml(root: str, data: Any) -> bytes:
    """GeoReport XML: ``<root>`` holding the list's items (or the object's fields)."""
    el = ET.Element(root)
    _xml_value(el, data)
    return ET.tostring(el, encoding="utf-8", xml_declaration=True)


def render(data: Any, fmt: str, xml_root: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(xml_root, data), status=status, mimetype=XML_MEDIA_TYPE)
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in ("json", "xml"):
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def error_response(status: int, description: str) -> Response:
    """GeoReport's error list, in the request's format, with the HTTP status."""
    return render([{"code": status, "description": description}], _format(), "errors", status)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    # Our 422 (bad input) is GeoReport's 400.
    status = 400 if exc.status == 422 else exc.status
    prefix = f"{exc.field}: " if exc.field and not exc.detail.startswith(exc.field) else ""
    return error_response(status, prefix + exc.detail)


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    resp = error_response(400 if exc.status == 422 else exc.status, exc.detail or exc.title)
    if "retry_after" in exc.extra:  # the rate limit (app/web/auth.py): say when to come back
        resp.headers["Retry-After"] = str(exc.extra["retry_after"])
    return resp


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    return error_response(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error in Open311")
    return error_response(500, "The server failed; the error has been logged.")


# -- endpoints -------------------------------------------------------------------------------
@bp.get(f"/discovery.<{FORMATS}:fmt>")
def discovery(fmt: str) -> Response:
    return render(open311.discovery(links.absolute(bp.url_prefix or "")), fmt, "discovery")


def _public_only() -> bool:
    """The public sees the public services; a client sending a valid api_key, every reportable one."""
    keys = current_app.extensions["peta112.settings"].open311_keys
    return not open311.has_valid_key(keys, request.args.get("api_key"))


@bp.get(f"/services.<{FORMATS}:fmt>")
def services(fmt: str) -> Response:
    return render(open311.services(get_session(), _public_only()), fmt, "services")


@bp.get(f"/services/<service_code>.<{FORMATS}:fmt>")
def service_definition(service_code: str, fmt: str) -> Response:
    return render(open311.service_definition(get_session(), service_code, _public_only()), fmt,
                  "service_definition")


@bp.get(f"/requests.<{FORMATS}:fmt>")
def list_requests(fmt: str) -> Response:
    q = open311.request_query(request.args.to_dict())
    return render(open311.list_requests(get_session(), q), fmt, "service_requests")


@bp.get(f"/requests/<request_id>.<{FORMATS}:fmt>")
def get_request(request_id: str, fmt: str) -> Response:
    return render([open311.get_request(get_session(), request_id)], fmt, "service_requests")


@bp.post(f"/requests.<{FORMATS}:fmt>")
def create_request(fmt: str) -> Response:
    """Form-encoded as the spec says, or a JSON object; ``Idempotency-Key`` makes retries safe."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object", "body")
        params: dict[str, Any] = {**request.args.to_dict(), **body}
    else:
        params = {**request.args.to_dict(), **request.form.to_dict()}
    keys = current_app.extensions["peta112.settings"].open311_keys
    use_viewer(open311.integration_viewer(keys, params))  # anonymous may not insert; a keyed client may
    item, created = open311.create_request(get_session(), params, keys,
                                           idempotency_key=request.headers.get("Idempotency-Key"))
    resp = render([item], fmt, "service_requests", 201 if created else 200)
    if open311.is_published(get_session(), item["service_request_id"]):  # else GET answers 404
        resp.headers["Location"] = f"{bp.url_prefix}/requests/{item['service_request_id']}.{fmt}"
    return resp


@bp.route("/<path:anything>", methods=["GET", "POST"])
def unknown(anything: str) -> Response:
    """Anything else under /open311/v2 is a GeoReport 404, not our problem+json."""
    raise NotFound(f"no Open311 resource '{anything[:80]}'")
