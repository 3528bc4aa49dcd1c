"""GET /tiles/<layer>/<z>/<x>/<y>.pbf: vector tiles for every layer in ``layers/``.

Basemap tiles every role sees are kept per process until the next import
(app/services/tile_cache.py); the rest are rendered per request.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from app.db import get_session
from app.layers import registry
from app.live import live_version
from app.services import tiles
from app.services.tile_cache import TileCache, etag_of
from app.web import caching
from app.web.problems import Problem

bp = Blueprint("tiles", __name__)


def _coord(raw: str, name: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise Problem(422, "Unprocessable Content", f"{name} must be a non-negative integer", field=name)
    return int(raw)


@bp.get("/tiles/<layer_id>/<z>/<x>/<y>.pbf")
def tile(layer_id: str, z: str, x: str, y: str) -> Response:
    layer = registry().get(layer_id)
    if layer is None:
        raise Problem(404, "Not Found", f"no map layer '{layer_id[:40]}'", field="layer")
    if not layer.tiled:  # an analytic overlay: the page draws it from its url, not from tiles
        raise Problem(404, "Not Found", f"map layer '{layer.id}' is not served as tiles; see {layer.url}",
                      field="layer")
    zi, xi, yi = _coord(z, "z"), _coord(x, "x"), _coord(y, "y")
    if not tiles.valid_tile(zi, xi, yi):
        field = "z" if not 0 <= zi <= tiles.MAX_ZOOM else ("x" if xi >= 2**zi else "y")
        raise Problem(422, "Unprocessable Content",
                      f"no tile {zi}/{xi}/{yi}: z must be 0..{tiles.MAX_ZOOM} and x, y below 2^z", field=field)
    if layer.shared:  # the same for every reader until the next import: from memory
        cache: TileCache = current_app.extensions["peta112.tiles"]
        data, etag = cache.get_or_render((layer.id, zi, xi, yi),
                                         lambda: tiles.render_tile(get_session(), layer, zi, xi, yi))
    else:  # operational: depends on the reader and the minute, computed per request
        data = tiles.render_tile(get_session(), layer, zi, xi, yi)
        etag = etag_of(data)
    resp = Response(data, mimetype=tiles.MEDIA_TYPE)
    # Basemap tiles change with an import, operational ones within seconds: the layer decides how
    # long.  Only a basemap every role sees may be kept by a shared cache; the rest depend on who
    # asks (row-level security, layer roles), so a proxy must not hand one reader's tile to another.
    age = f"max-age={layer.cache_seconds}" if layer.cache_seconds > 0 else "no-cache"
    if layer.shared:
        resp.headers["Cache-Control"] = f"public, {age}"
    else:
        resp.headers["Cache-Control"] = f"private, {age}"
        resp.vary.update(caching.VARY)
    resp.set_etag(etag)  # strong: from the bytes, so every process gives the same tile the same tag
    return resp.make_conditional(request)


def init_app(app: Flask) -> None:
    app.extensions["peta112.tiles"] = TileCache(lambda: live_version(app, "basemap"))
