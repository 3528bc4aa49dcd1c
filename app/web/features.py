"""Map layers as an OGC API - Features style endpoint under /api/v1.

``GET /api/v1/collections``, ``/collections/<id>`` and ``/collections/<id>/items``
let GIS desktops and other dashboards load our layers as GeoJSON with paging
(``limit``/``offset`` and next/prev links), a bbox and a time filter, instead of
scraping vector tiles.  SQL and parameter parsing live in app/services/features.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, request

from app.db import get_session
from app.services import features as feat
from app.web import links
from app.web.problems import Problem

bp = Blueprint("features", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"
ITEMS_PARAMS = frozenset({"bbox", "datetime", "limit", "offset", "f"})
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


def _json(data: Any, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(data), mimetype=mimetype)


def _bad(exc: feat.FeatureQueryError) -> Problem:
    return Problem(400, "Bad Request", exc.detail, field=exc.field)


def _collection(cid: str) -> feat.Collection:
    c = feat.collections().get(cid)
    if c is None:
        raise Problem(404, "Not Found", f"no collection '{cid[:40]}'", field="collectionId")
    return c


def _root() -> str:
    return links.absolute(bp.url_prefix or "")


def _describe(c: feat.Collection) -> dict[str, Any]:
    base = f"{_root()}/collections/{c.id}"
    out: dict[str, Any] = {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "crs": [feat.CRS84], "storageCrs": feat.CRS84,
    }
    ext = feat.extent(get_session(), c)
    if ext is not None:
        out["extent"] = ext
    out["links"] = [
        {"href": base, "rel": "self", "type": "application/json", "title": c.title},
        {"href": f"{base}/items", "rel": "items", "type": GEOJSON, "title": f"{c.title} (GeoJSON)"},
        {"href": links.absolute(f"/tiles/{c.id}/{{z}}/{{x}}/{{y}}.pbf"), "rel": "related",
         "type": "application/vnd.mapbox-vector-tile", "title": f"{c.title} (vector tiles)", "templated": True},
    ]
    return out


@bp.get("/conformance")
def conformance() -> Response:
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/collections")
def list_collections() -> Response:
    return _json({
        "links": [{"href": f"{_root()}/collections", "rel": "self", "type": "application/json",
                   "title": "Koleksi data"}],
        "collections": [_describe(c) for c in feat.collections().values()],
    })


@bp.get("/collections/<collection_id>")
def get_collection(collection_id: str) -> Response:
    return _json(_describe(_collection(collection_id)))


def _page_link(rel: str, offset: int, limit: int, title: str) -> dict[str, Any]:
    return {"href": links.this_page(offset=offset, limit=limit), "rel": rel, "type": GEOJSON, "title": title}


@bp.get("/collections/<collection_id>/items")
def get_items(collection_id: str) -> Response:
    c = _collection(collection_id)
    unknown = sorted(set(request.args) - ITEMS_PARAMS)
    if unknown:
        raise Problem(400, "Bad Request", f"unknown query parameter '{unknown[0][:40]}'", field=unknown[0][:40])
    if request.args.get("f", "json") not in ("json", "geojson"):
        raise Problem(400, "Bad Request", "f must be json", field="f")
    try:
        bbox = feat.parse_bbox(request.args.get("bbox"))
        tf = feat.parse_datetime(request.args.get("datetime"))
        limit = feat.parse_int(request.args.get("limit"), "limit", feat.DEFAULT_LIMIT, 1, feat.MAX_LIMIT, clamp=True)
        offset = feat.parse_int(request.args.get("offset"), "offset", 0, 0, feat.MAX_OFFSET)
    except feat.FeatureQueryError as exc:
        raise _bad(exc) from None
    page = feat.items(get_session(), c, bbox, tf, limit, offset)
    page_links = [{"href": links.this_page(), "rel": "self", "type": GEOJSON, "title": "Halaman ini"},
                  {"href": f"{_root()}/collections/{c.id}", "rel": "collection", "type": "application/json",
                   "title": c.title}]
    if offset + page["numberReturned"] < page["numberMatched"]:
        page_links.append(_page_link("next", offset + limit, limit, "Halaman berikutnya"))
    if offset > 0:
        page_links.append(_page_link("prev", max(0, offset - limit), limit, "Halaman sebelumnya"))
    body = {"type": "FeatureCollection", "features": page["features"],
            "numberMatched": page["numberMatched"], "numberReturned": page["numberReturned"],
            "timeStamp": feat.now_iso(), "links": page_links}
    return _json(body, GEOJSON)
