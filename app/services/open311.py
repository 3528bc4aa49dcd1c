"""Open311 GeoReport v2 on top of our categories and incidents.

City apps, aggregators (e.g. a provincial LAPOR! bridge) and SeeClickFix-style
clients already speak GeoReport v2, so instead of asking each of them to learn
our API we map it: a *service* is an incident category, a *service request* is
an incident, and a new request goes through :func:`app.services.dispatch.intake`
like any 112 call (same validation, forwarding, duplicate check and audit).

GeoReport responses are published (city apps show them on public maps), so a
request is read only from ``incident_public``, the projection anonymous readers
get (app/incidents/sql/facts.sql), never from ``incidents``: only categories the
city marked public (street lights, fallen trees, floods, ...; never crime, drugs,
medical calls, fire or pranks), only counted calls of the last 90 days, the
location at the centre of a ~110 m cell, the kelurahan and kecamatan instead of
the house address, no caller data, and a description only where the category
allows it.  A lookup by id obeys the same rule: anything else is the same 404 as
a missing id.  The service list shows the public categories to the public and
every reportable one to a client with an api_key, which files requests as the
``integration`` viewer.  The SQL is in ``sql/open311.sql``.

The web layer (``app/web/open311.py``) renders these plain structures as JSON
or XML and turns errors into GeoReport's ``[{code, description}]`` list.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.incidents.lifecycle import INCIDENT_STATUSES
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
NOT_PUBLISHED_NOTICE = "Laporan ini ditangani petugas dan tidak ditampilkan untuk umum."
SQL = ("app.services", "sql/open311.sql")

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
    notices = [n for n, applies in ((EMERGENCY_NOTICE, r["is_emergency"]),
                                    (NOT_PUBLISHED_NOTICE, not r["is_public"])) if applies]
    return {
        "service_code": r["code"],
        "service_name": r["name_id"],
        "description": " ".join([f"{r['name_id']} ({r['name_en']}). Diteruskan ke: {agencies}. "
                                 f"Target penanganan: {_duration_id(r['target_response_s'])}.", *notices]),
        "metadata": False,
        "type": "realtime",
        "keywords": words,
        "group": "Kedaruratan" if r["is_emergency"] else "Pengaduan non-darurat",
    }


def services(session: Session, public_only: bool = True) -> list[dict[str, Any]]:
    """GET services: one service per category a citizen may file.

    The public sees only the public categories (the ones it can also read back); a client
    with an api_key (a city app, LAPOR!) sees every reportable category, emergencies
    with the notice to call 112.
    """
    rows = session.execute(sqlfiles.statement(*SQL, "services"),
                           {"hidden": list(NOT_REPORTABLE), "public_only": public_only}).mappings()
    return [_service(r) for r in rows]


def service_definition(session: Session, code: str, public_only: bool = True) -> dict[str, Any]:
    """GET services/<code>: our services take no extra attributes (``metadata`` is false)."""
    if code not in {s["service_code"] for s in services(session, public_only)}:
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
def _w3c(v: datetime | None) -> str | None:
    return v.astimezone(UTC).isoformat(timespec="seconds") if v is not None else None


def _request(r: Any) -> dict[str, Any]:
    """One row of incident_public as a GeoReport service request (address = the area, lat/long = cell centre)."""
    return {
        "service_request_id": str(r["id"]),
        "status": "open" if r["is_open"] else "closed",
        "status_notes": STATUS_NOTES.get(r["status"], r["status"]),
        "service_name": r["service_name"],
        "service_code": r["category"],
        "description": r["description"],
        "agency_responsible": r["agencies"],
        "service_notice": EMERGENCY_NOTICE if r["is_emergency"] else None,
        "requested_datetime": _w3c(r["received_at"]),
        "updated_datetime": _w3c(r["updated_at"]),
        "expected_datetime": _w3c(r["expected_at"]),
        "address": r["area"],
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
    newest first.  Whatever the filter, only what ``incident_public`` shows (the public window).
    """
    params: dict[str, Any] = {"limit": MAX_RESULTS, "ids": None, "start": None, "end": None, "codes": None,
                              "want_open": None}
    if q.ids:
        ids = []
        for raw in q.ids[:MAX_RESULTS]:
            if not raw.isdigit() or len(raw) > 18:
                raise InvalidInput(f"service_request_id '{raw[:30]}' is not a valid id", "service_request_id")
            ids.append(int(raw))
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
        params.update(start=start, end=end, codes=q.service_codes)
        if q.statuses and len(set(q.statuses)) == 1:
            params["want_open"] = q.statuses[0] == "open"
    return [_request(r) for r in session.execute(sqlfiles.statement(*SQL, "requests"), params).mappings()]


def get_request(session: Session, request_id: str) -> dict[str, Any]:
    """GET requests/<id>: one request (the web layer wraps it in a one-element list)."""
    if not request_id.isdigit() or len(request_id) > 18:
        raise NotFound(f"service request '{request_id[:30]}' not found", "service_request_id")
    params = {"ids": [int(request_id)], "start": None, "end": None, "codes": None, "want_open": None, "limit": 1}
    row = session.execute(sqlfiles.statement(*SQL, "requests"), params).mappings().first()
    if row is None:  # missing, not public, not counted or too old: one answer, so ids reveal nothing
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


def has_valid_key(keys: tuple[str, ...], given: str | None) -> bool:
    """Does a GET carry a valid api_key (the client may then see every reportable service)?"""
    try:
        check_api_key(keys, given)
    except Forbidden:
        return False
    return True


def is_published(session: Session, request_id: str) -> bool:
    """Would GET requests/<id> show this request (is it in incident_public)?"""
    return bool(session.execute(sqlfiles.statement(*SQL, "is_public"), {"id": int(request_id)}).scalar())


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
    is_emergency = session.execute(sqlfiles.statement(*SQL, "is_emergency"),
                                   {"code": incident["category"]}).scalar_one()
    rid = str(incident["id"])
    notices = [n for n, applies in ((EMERGENCY_NOTICE, is_emergency),
                                    (NOT_PUBLISHED_NOTICE, not is_published(session, rid))) if applies]
    item = {"service_request_id": rid, "service_notice": " ".join(notices) or None, "account_id": None}
    return item, created
