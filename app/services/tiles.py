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
# may select any columns without naming them twice; ST_AsMVT turns its keys into tags.  The
# jsonb is built from the layer's own columns, named (``{props}``), not as ``to_jsonb(src) - 'geom'``:
# that rendered every feature's geometry as GeoJSON only to throw it away (half a roads tile's time).
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
           {props} AS props
    FROM src, bounds
) mvt
WHERE mvt.geom IS NOT NULL
"""

# The layer's columns, asked once: its query on an empty box, no rows.
_COLUMNS_SQL = """
WITH bounds AS (SELECT ST_TileEnvelope(0, 0, 0) AS tile, ST_MakeEnvelope(0, 0, 0, 0, 4326) AS box),
src AS (
{layer_sql}
)
SELECT * FROM src LIMIT 0
"""
_columns: dict[str, tuple[str, ...]] = {}


def layer_columns(session: Session, layer_sql: str) -> tuple[str, ...]:
    """The property columns of a layer's query (all but ``geom``), from the database, once per process."""
    cols = _columns.get(layer_sql)
    if cols is None:
        keys = session.execute(text(_COLUMNS_SQL.format(layer_sql=layer_sql)), {"z": 0, "x": 0, "y": 0}).keys()
        cols = _columns[layer_sql] = tuple(k for k in keys if k != "geom")
    return cols


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=64)
def tile_statement(layer_sql: str, columns: tuple[str, ...]) -> TextClause:
    """The full tile query for one layer's source SQL and its property columns (compiled once per layer)."""
    pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', src.{_quoted(c)}" for c in columns)
    props = f"jsonb_build_object({pairs})" if columns else "'{{}}'::jsonb"
    return text(_TILE_SQL.format(layer_sql=layer_sql, margin=BUFFER / EXTENT, extent=EXTENT, buffer=BUFFER,
                                 props=props))


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
    statement = tile_statement(layer.sql, layer_columns(session, layer.sql))
    data = session.execute(statement, {"z": z, "x": x, "y": y, "layer_name": layer.id}).scalar()
    return bytes(data) if data else b""
