"""Open311 GeoReport v2 on top of our categories and incidents.

City apps, aggregators (e.g. a provincial LAPOR! bridge) and SeeClickFix-style
clients already speak GeoReport v2, so instead of asking each of them to learn
our API we map it: a *service* is an incident category, a *service request* is
an incident, and a new request goes through :func:`app.services.dispatch.intake`
like any 112 call (same validation, forwarding, duplicate check and audit).

Only the public side of an incident leaves here: never the caller's name or
phone (GeoReport responses are typically published), nor our internal notes.
The web layer (``app/web/open311.py``) renders these plain structures as JSON
or XML and turns errors into GeoReport's ``[{code, description}]`` list.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.incidents.lifecycle import INCIDENT_OPEN, INCIDENT_STATUSES
from app.incidents.viewer import INTEGRATION, Viewer
from app.services import dispatch
from app.services.errors import InvalidInput, NotFound, ServiceError

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-25T00:00:00+00:00"  # bump when the mapping below changes
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
# Categories that are not something a citizen can report through an app.
NOT_REPORTABLE = frozenset({"prank"})
EMERGENCY_NOTICE = "Untuk keadaan darurat yang mengancam jiwa, segera telepon 112."

# Our lifecycle status, in the words a citizen reads in status_notes.
STATUS_NOTES = {
    "received": "Laporan diterima Call Center 112 dan diteruskan ke instansi terkait.",
    "verified": "Laporan telah diverifikasi petugas.",
    "dispatched": "Petugas/unit telah ditugaskan.",
    "en_route": "Petugas dalam perjalanan ke lokasi.",
    "on_scene": "Petugas telah tiba di lokasi.",
    "resolved": "Penanganan selesai.",
    "closed": "Laporan ditutup.",
    "cancelled": "Laporan dibatalkan.",
    "prank": "Laporan dinyatakan tidak valid.",
}
assert set(STATUS_NOTES) == set(INCIDENT_STATUSES)

# Search words for clients that filter the service list (Bahasa Indonesia and everyday terms).
KEYWORDS = {
    "kebakaran": "kebakaran,api,terbakar,asap,damkar",
    "banjir": "banjir,genangan,air,bpbd",
    "rob": "rob,banjir rob,air laut,pasang",
    "tanah_longsor": "longsor,tanah longsor,bpbd",
    "kecelakaan": "kecelakaan,tabrakan,laka lantas,lalu lintas",
    "ambulans": "ambulans,ambulan,sakit,darurat medis,psc 119",
    "mobil_jenazah": "mobil jenazah,jenazah,meninggal",
    "pohon_tumbang": "pohon tumbang,pohon roboh,dahan",
    "pju_mati": "lampu jalan,pju,penerangan jalan",
    "kriminal": "kriminal,pencurian,begal,kerusuhan,tawuran,polisi",
    "narkoba": "narkoba,narkotika,bnn",
    "sarang_tawon": "tawon,lebah,sarang tawon,ular",
    "gepeng": "gelandangan,pengemis,pengamen,anak jalanan",
    "perjudian": "judi,perjudian,miras,minuman keras",
    "gangguan_ketertiban": "ketertiban,prostitusi,satpol pp",
    "lingkungan": "lingkungan,sampah,limbah,bau,polusi",
    "permintaan_darah": "darah,donor,pmi",
    "info_kesehatan": "informasi kesehatan,puskesmas,rumah sakit",
}


class Forbidden(ServiceError):
    """A missing or unknown api_key (GeoReport answers 403)."""

    status = 403
    title = "Forbidden"


# -- services ------------------------------------------------------------------------------
SERVICES_SQL = text("""
    SELECT c.code, c.name_id, c.name_en, c.priority, c.target_response_s, c.is_emergency,
           COALESCE(array_agg(a.name ORDER BY ca.role, ca.agency_code)
                    FILTER (WHERE ca.agency_code IS NOT NULL), '{}') AS agency_names
    FROM incident_categories c
    LEFT JOIN category_agencies ca ON ca.category_code = c.code
    LEFT JOIN agencies a ON a.code = ca.agency_code
    WHERE NOT (c.code = ANY(:hidden))
    GROUP BY c.code
    ORDER BY c.priority, c.code
""")


def _duration_id(seconds: int) -> str:
    """A target time as people say it: '8 menit', '2 jam', '3 hari'."""
    if seconds % 86400 == 0:
        return f"{seconds // 86400} hari"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} jam"
    return f"{round(seconds / 60)} menit"


def _service(r: Any) -> dict[str, Any]:
    agencies = ", ".join(r["agency_names"]) or "-"
    words = KEYWORDS.get(r["code"]) or ",".join(w.lower() for w in r["name_id"].replace("/", " ").split())
    return {
        "service_code": r["code"],
        "service_name": r["name_id"],
        "description": (f"{r['name_id']} ({r['name_en']}). Diteruskan ke: {agencies}. "
                        f"Target penanganan: {_duration_id(r['target_response_s'])}."),
        "metadata": False,
        "type": "realtime",
        "keywords": words,
        "group": "Kedaruratan" if r["is_emergency"] else "Pengaduan non-darurat",
    }


def services(session: Session) -> list[dict[str, Any]]:
    """GET services: one service per reportable incident category."""
    return [_service(r) for r in session.execute(SERVICES_SQL, {"hidden": list(NOT_REPORTABLE)}).mappings()]


def service_definition(session: Session, code: str) -> dict[str, Any]:
    """GET services/<code>: our services take no extra attributes (``metadata`` is false)."""
    if code not in {s["service_code"] for s in services(session)}:
        raise NotFound(f"service_code '{code[:50]}' not found", "service_code")
    return {"service_code": code, "attributes": []}


def discovery(base_url: str) -> dict[str, Any]:
    """GET discovery: where the endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": "Call Center 112 (darurat: telepon 112)",
        "key_service": "API key diberikan oleh pengelola Call Center 112 kota.",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url.rstrip("/"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


# -- requests --------------------------------------------------------------------------------
REQUEST_SELECT = """
    SELECT i.id, i.category_code, c.name_id AS service_name, c.is_emergency, i.status, i.description,
           i.address, i.received_at, i.updated_at,
           i.received_at + make_interval(secs => c.target_response_s) AS expected_at,
           ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon,
           (SELECT string_agg(a.name, '; ' ORDER BY t.id)
              FROM incident_tasks t JOIN agencies a ON a.code = t.agency_code
             WHERE t.incident_id = i.id AND t.status <> 'rejected') AS agencies
    FROM incidents i JOIN incident_categories c ON c.code = i.category_code
"""


def _w3c(v: datetime | None) -> str | None:
    return v.astimezone(UTC).isoformat(timespec="seconds") if v is not None else None


def _request(r: Any) -> dict[str, Any]:
    """One incident as a GeoReport service request: public fields only, no caller data."""
    return {
        "service_request_id": str(r["id"]),
        "status": "open" if r["status"] in INCIDENT_OPEN else "closed",
        "status_notes": STATUS_NOTES.get(r["status"], r["status"]),
        "service_name": r["service_name"],
        "service_code": r["category_code"],
        "description": r["description"],
        "agency_responsible": r["agencies"],
        "service_notice": EMERGENCY_NOTICE if r["is_emergency"] else None,
        "requested_datetime": _w3c(r["received_at"]),
        "updated_datetime": _w3c(r["updated_at"]),
        "expected_datetime": _w3c(r["expected_at"]),
        "address": r["address"],
        "address_id": None,
        "zipcode": None,
        "lat": r["lat"],
        "long": r["lon"],
        "media_url": None,
    }


def parse_w3c(value: str | None, field: str) -> datetime | None:
    """A W3C/ISO 8601 date or date-time; a value without an offset is taken as UTC."""
    if value is None or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} must be a W3C date-time such as 2026-11-25T08:00:00+07:00", field) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _csv(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


@dataclass
class RequestQuery:
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def request_query(args: dict[str, str]) -> RequestQuery:
    """Validate GET requests parameters (400 naming the parameter on bad input)."""
    statuses = _csv(args.get("status"))
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise InvalidInput("status must be open, closed or both (comma-separated)", "status")
    return RequestQuery(ids=_csv(args.get("service_request_id")) or None,
                        service_codes=_csv(args.get("service_code")) or None,
                        start=parse_w3c(args.get("start_date"), "start_date"),
                        end=parse_w3c(args.get("end_date"), "end_date"),
                        statuses=statuses or None)


def list_requests(session: Session, q: RequestQuery, now: datetime | None = None) -> list[dict[str, Any]]:
    """GET requests: by id list (other filters ignored, as the spec says) or by code/date/status.

    Without dates the last 90 days; a range may span at most 90 days; at most 1000 results,
    newest first.
    """
    params: dict[str, Any] = {"limit": MAX_RESULTS}
    if q.ids:
        ids = []
        for raw in q.ids[:MAX_RESULTS]:
            if not raw.isdigit() or len(raw) > 18:
                raise InvalidInput(f"service_request_id '{raw[:30]}' is not a valid id", "service_request_id")
            ids.append(int(raw))
        where = "i.id = ANY(:ids)"
        params["ids"] = ids
    else:
        now = now or datetime.now(UTC)
        start, end = q.start, q.end
        if start is None and end is None:
            start, end = now - DEFAULT_WINDOW, None
        elif start is None:
            start = end - DEFAULT_WINDOW  # type: ignore[operator]
        elif end is None:
            end = start + DEFAULT_WINDOW
        if end is not None and end < start:
            raise InvalidInput("end_date must not be before start_date", "end_date")
        if end is not None and end - start > DEFAULT_WINDOW:
            raise InvalidInput("start_date to end_date may span at most 90 days", "end_date")
        conds = ["i.received_at >= :start"]
        params["start"] = start
        if end is not None:
            conds.append("i.received_at <= :end")
            params["end"] = end
        if q.service_codes:
            conds.append("i.category_code = ANY(:codes)")
            params["codes"] = q.service_codes
        if q.statuses and len(set(q.statuses)) == 1:
            conds.append("(i.status = ANY(:open)) = :want_open")
            params.update(open=list(INCIDENT_OPEN), want_open=q.statuses[0] == "open")
        where = " AND ".join(conds)
    rows = session.execute(text(f"{REQUEST_SELECT} WHERE {where} ORDER BY i.received_at DESC, i.id DESC "
                                "LIMIT :limit"), params).mappings()
    return [_request(r) for r in rows]


def get_request(session: Session, request_id: str) -> dict[str, Any]:
    """GET requests/<id>: one request (the web layer wraps it in a one-element list)."""
    if not request_id.isdigit() or len(request_id) > 18:
        raise NotFound(f"service request '{request_id[:30]}' not found", "service_request_id")
    row = session.execute(text(REQUEST_SELECT + " WHERE i.id = :id"), {"id": int(request_id)}).mappings().first()
    if row is None:
        raise NotFound(f"service request {request_id} not found", "service_request_id")
    return _request(row)


# -- creating a request ----------------------------------------------------------------------
# Our intake's field names, as a GeoReport client knows them (for error messages).
FIELD_NAMES = {"category": "service_code", "lon": "long", "location": "lat", "caller_phone": "phone",
               "caller_name": "first_name", "address": "address_string", "idempotency_key": "Idempotency-Key"}


def integration_viewer(keys: tuple[str, ...], params: dict[str, Any]) -> Viewer:
    """Who files a request: the keyed integration (not the anonymous visitor carrying it).

    Only such a viewer may create incidents under row-level security (app/incidents/viewer.py).
    """
    return Viewer(INTEGRATION, username=f"open311:key{check_api_key(keys, _param(params, 'api_key')) + 1}")


def check_api_key(keys: tuple[str, ...], given: str | None) -> int:
    """The index of the matching key (compared in constant time); 403 when none matches."""
    if not given:
        raise Forbidden("api_key is required", "api_key")
    match = -1
    for i, key in enumerate(keys):
        if hmac.compare_digest(key.encode(), given.encode()):
            match = i
    if match < 0:
        raise Forbidden("api_key is not valid", "api_key")
    return match


def _param(params: dict[str, Any], name: str) -> Any:
    v = params.get(name)
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def create_request(session: Session, params: dict[str, Any], keys: tuple[str, ...],
                   idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
    """POST requests: a citizen's report becomes an incident (source ``open311``).

    Returns (GeoReport response item, created).  ``first_name``/``last_name``/``phone``
    become the caller fields (kept for the dispatcher, never returned here); ``email``,
    ``device_id``, ``account_id`` and ``media_url`` have no column yet and are dropped.
    """
    key_index = check_api_key(keys, _param(params, "api_key"))
    code = _param(params, "service_code")
    if not isinstance(code, str):
        raise InvalidInput("service_code is required", "service_code")
    if code in NOT_REPORTABLE:
        raise InvalidInput(f"service_code '{code[:50]}' not found", "service_code")
    lat, lon, address = _param(params, "lat"), _param(params, "long"), _param(params, "address_string")
    if lat is None and lon is None and address is None:
        raise InvalidInput("a location is required: lat and long, or address_string", "lat")
    names = [n for n in (_param(params, "first_name"), _param(params, "last_name")) if isinstance(n, str)]
    req = dispatch.Intake(
        category=code, lat=lat, lon=lon, address=address, caller_name=" ".join(names) or None,
        caller_phone=_param(params, "phone"), description=_param(params, "description"), source="open311",
        idempotency_key=idempotency_key, actor=f"open311:key{key_index + 1}",
    )
    try:
        incident, created = dispatch.intake(session, req)
    except InvalidInput as exc:
        field = FIELD_NAMES.get(exc.field or "", exc.field)
        detail = exc.detail
        if exc.field in FIELD_NAMES and exc.field and exc.field in detail:
            detail = detail.replace(exc.field, field or exc.field, 1)
        raise InvalidInput(detail, field) from None
    is_emergency = session.execute(text("SELECT is_emergency FROM incident_categories WHERE code = :c"),
                                   {"c": incident["category"]}).scalar_one()
    item = {"service_request_id": str(incident["id"]),
            "service_notice": EMERGENCY_NOTICE if is_emergency else None,
            "account_id": None}
    return item, created
