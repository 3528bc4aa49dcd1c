"""Mapbox Vector Tiles straight from PostGIS: the one place tile SQL is assembled.

Each layer file supplies a query returning ``geom`` (EPSG:4326) plus properties,
filtered against the ``bounds`` relation; this module wraps it so that PostGIS
clips, quantises and encodes the tile (``ST_AsMVTGeom``/``ST_AsMVT``) and Python
only moves bytes.  Keeping the wrapper here means every layer gets the same
envelope, buffer and encoding, and a new layer never writes MVT SQL itself.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from app.layers import Layer

EXTENT = 4096  # MVT grid units per tile side (the spec's default)
BUFFER = 64  # grid units drawn beyond the edge, so lines and circles don't clip at seams
MAX_ZOOM = 24
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

# ``bounds.tile``: the tile in Web Mercator; ``bounds.box``: it plus the buffer, in 4326, for the
# layer's index-friendly ``geom && b.box``.  Properties travel as one jsonb column so a layer
# may select any columns without naming them twice; ST_AsMVT turns its keys into tags.
_TILE_SQL = """
WITH bounds AS (
    SELECT e.tile, ST_Transform(ST_Expand(e.tile, (ST_XMax(e.tile) - ST_XMin(e.tile)) * {margin}), 4326) AS box
    FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS tile) e
), src AS (
{layer_sql}
)
SELECT ST_AsMVT(mvt, :layer_name, {extent}, 'geom')
FROM (
    SELECT ST_AsMVTGeom(ST_Transform(src.geom, 3857), bounds.tile, {extent}, {buffer}, true) AS geom,
           to_jsonb(src) - 'geom' AS props
    FROM src, bounds
) mvt
WHERE mvt.geom IS NOT NULL
"""


@lru_cache(maxsize=64)
def tile_statement(layer_sql: str) -> TextClause:
    """The full tile query for one layer's source SQL (compiled once per layer)."""
    return text(_TILE_SQL.format(layer_sql=layer_sql, margin=BUFFER / EXTENT, extent=EXTENT, buffer=BUFFER))


def valid_tile(z: int, x: int, y: int) -> bool:
    """True when z/x/y names a tile that exists in the Web Mercator pyramid."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def render_tile(session: Session, layer: Layer, z: int, x: int, y: int) -> bytes:
    """The encoded tile; empty bytes (a valid MVT with no layers) when nothing is there.

    Outside the layer's zoom range the answer is empty rather than an error, so a
    client that asks anyway (over-zooming, a stale layer list) just draws nothing.
    """
    if not layer.minzoom <= z <= layer.maxzoom:
        return b""
    data = session.execute(tile_statement(layer.sql), {"z": z, "x": x, "y": y, "layer_name": layer.id}).scalar()
    return bytes(data) if data else b""
