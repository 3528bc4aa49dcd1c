"""The map's layers, declared one TOML file each in ``layers/`` and loaded once.

The tile server, ``GET /api/v1/layers`` and the browser all read these same
definitions, so adding a layer is one file: no view, no JS and no SQL elsewhere
changes.  A layer file looks like::

    id = "roads"
    title = { id = "Jalan", en = "Roads" }
    geometry = "line"                 # point | line | polygon
    group = "basemap"                 # basemap | operational
    minzoom = 10
    maxzoom = 22
    render = "tiles"                  # tiles (vector tiles) | live (drawn from the JSON API)
                                      # | geojson (a GeoJSON endpoint) | heatmap ([lat, lon, weight] points)
                                      # | labels (vector tiles whose names are drawn, not their shapes)
    cache_seconds = 3600              # Cache-Control max-age of its tiles
    roles = ["dispatcher", "admin"]   # who may see it (default: every role; admin always)
    popup = ["name", "class"]         # feature properties shown on click
    [source]
    sql = "SELECT r.geom, r.highway AS class FROM road_edges r, bounds b WHERE r.geom && b.box"
    [style]                           # Leaflet path options; "{prop}" is read from the feature
    ...
    label = { field = "name", size = 11, fill = "#323f4b", halo = "#fff" }  # names drawn by the label layer

Analytic overlays (clusters, hotspots, a heatmap) are computed per request by the
analytics services, not cut into tiles, so ``render = "geojson"`` or ``"heatmap"``
layers name an endpoint instead of SQL: ``url = "/api/v1/analytics/..."`` and no
``[source]``.  The page adds its current filters to that URL.  Such a layer may
declare ``[[params]]`` (``name``, ``label``, ``default`` and ``min``/``max``/``step``
or ``choices``) that the legend offers as a form to the roles that may use
``params_endpoint`` (an endpoint of ``app/web/policy.py``): each value is sent as
the query parameter of that name (``window_days`` moves the window's start), so
BPBD tunes the clusters' distance, minimum calls, window and scope on the map.

``source.sql`` (or ``source.table`` + ``source.columns``) returns a ``geom`` column
in EPSG:4326 and the feature properties; it may use the ``bounds`` relation
(``box``: the tile's envelope in 4326, with a margin) and the ``:z`` parameter.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.config import PROJECT_ROOT
from app.domain.roles import ROLES

LAYERS_DIR = PROJECT_ROOT / "layers"
REQUIRED = ("id", "title", "geometry", "source", "style", "minzoom", "maxzoom")
GEOMETRIES = ("point", "line", "polygon")
GROUPS = ("basemap", "operational")
RENDERS = ("tiles", "live", "geojson", "heatmap", "labels")  # labels: tiles whose names the label layer draws
URL_RENDERS = ("geojson", "heatmap")  # drawn from an endpoint: ``url`` instead of ``[source]``
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Incidents are read through incident_facts (its open/overdue rules, its masking); a layer naming
# their tables would skip both.
INCIDENT_TABLES = re.compile(r"\b(incidents|incident_tasks|assignments|incident_events|incident_reports)\b", re.I)
COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*( AS [a-z_][a-z0-9_]*)?$")


class LayerError(ValueError):
    """A layer file is malformed; raised at load time so a bad file never reaches a request."""


@dataclass(frozen=True)
class Layer:
    id: str
    title: dict[str, str]
    geometry: str
    sql: str
    style: dict[str, Any]
    minzoom: int
    maxzoom: int
    group: str = "operational"
    render: str = "tiles"
    visible: bool = True
    cache_seconds: int = 60
    popup: tuple[str, ...] = ()
    roles: tuple[str, ...] = ROLES
    attribution: str = ""
    order: int = 100
    extra: dict[str, Any] = field(default_factory=dict)
    url: str = ""

    @property
    def tiled(self) -> bool:
        """True when the tile server can cut this layer (it has SQL)."""
        return bool(self.sql)

    @property
    def shared(self) -> bool:
        """The same for every reader: a basemap layer every role may see.

        Only such tiles may sit in a shared cache (``Cache-Control: public``); anything
        operational depends on who asks (row-level security, layer roles) and is private.
        """
        return self.group == "basemap" and set(ROLES) <= set(self.roles)

    def public(self) -> dict[str, Any]:
        """What the browser needs: everything but the SQL."""
        return {
            "id": self.id, "title": self.title, "geometry": self.geometry, "group": self.group,
            "render": self.render, "visible": self.visible, "minzoom": self.minzoom, "maxzoom": self.maxzoom,
            "style": self.style, "popup": list(self.popup), "roles": list(self.roles),
            "attribution": self.attribution, "order": self.order,
            "tiles": f"/tiles/{self.id}/{{z}}/{{x}}/{{y}}.pbf" if self.tiled else None,
            "url": self.url or None, **self.extra,
        }


def _sql_from_source(path: Path, source: Any) -> str:
    if not isinstance(source, dict):
        raise LayerError(f"{path.name}: [source] must be a table")
    if "sql" in source:
        sql = source["sql"]
        if not isinstance(sql, str) or not sql.strip():
            raise LayerError(f"{path.name}: source.sql must be a non-empty string")
    elif "table" in source:
        table, columns = source["table"], source.get("columns", [])
        if not isinstance(table, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
            raise LayerError(f"{path.name}: source.table must be a plain table name")
        if not all(isinstance(c, str) and COLUMN_RE.match(c) for c in columns):
            raise LayerError(f"{path.name}: source.columns must be column names (optionally 'col AS name')")
        cols = "".join(f", t.{c}" for c in columns)
        sql = f"SELECT t.geom{cols} FROM {table} t, bounds b WHERE t.geom && b.box"
    else:
        raise LayerError(f"{path.name}: [source] needs sql or table")
    if ";" in sql:
        raise LayerError(f"{path.name}: source.sql must be one statement without ';'")
    if INCIDENT_TABLES.search(sql):
        raise LayerError(f"{path.name}: read incidents from the read model incident_facts, "
                         "not from their tables (app/incidents/sql/facts.sql)")
    return sql.strip()


def load_layer(path: Path) -> Layer:
    """Parse and validate one layer file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LayerError(f"{path.name}: {exc}") from None
    remote = raw.get("render") in URL_RENDERS
    missing = [k for k in REQUIRED if k not in raw and not (remote and k == "source")]
    if missing:
        raise LayerError(f"{path.name}: missing {', '.join(missing)}")
    lid = raw["id"]
    if not isinstance(lid, str) or not ID_RE.match(lid) or path.stem != lid:
        raise LayerError(f"{path.name}: id must be lower_snake_case and equal the file name")
    title = raw["title"]
    if not isinstance(title, dict) or not {"id", "en"} <= title.keys():
        raise LayerError(f"{path.name}: title needs id (Bahasa Indonesia) and en")
    checks = [("geometry", GEOMETRIES), ("group", GROUPS), ("render", RENDERS)]
    for key, allowed in checks:
        if key in raw and raw[key] not in allowed:
            raise LayerError(f"{path.name}: {key} must be one of {', '.join(allowed)}")
    lo, hi = raw["minzoom"], raw["maxzoom"]
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= 24):
        raise LayerError(f"{path.name}: need 0 <= minzoom <= maxzoom <= 24")
    if not isinstance(raw["style"], dict):
        raise LayerError(f"{path.name}: [style] must be a table")
    url = raw.get("url", "")
    if remote and not (isinstance(url, str) and url.startswith("/") and not url.startswith("//")):
        raise LayerError(f"{path.name}: render = {raw['render']} needs url, a path on this server (\"/api/...\")")
    if not remote and "url" in raw:
        raise LayerError(f"{path.name}: url is only for render = {' | '.join(URL_RENDERS)}")
    sql = _sql_from_source(path, raw["source"]) if "source" in raw else ""
    known = {"id", "title", "geometry", "source", "style", "minzoom", "maxzoom", "group", "render", "visible",
             "cache_seconds", "popup", "roles", "attribution", "order", "url"}
    return Layer(
        id=lid, title=dict(title), geometry=raw["geometry"], sql=sql, url=url,
        style=raw["style"], minzoom=lo, maxzoom=hi, group=raw.get("group", "operational"),
        render=raw.get("render", "tiles"), visible=bool(raw.get("visible", True)),
        cache_seconds=int(raw.get("cache_seconds", 60)), popup=tuple(raw.get("popup", ())),
        roles=tuple(raw.get("roles", Layer.roles)), attribution=str(raw.get("attribution", "")),
        order=int(raw.get("order", 100)),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def load_registry(directory: Path = LAYERS_DIR) -> dict[str, Layer]:
    """Every ``*.toml`` in ``directory``, in draw order (basemap first, then ``order``)."""
    layers = [load_layer(p) for p in sorted(directory.glob("*.toml"))]
    if not layers:
        raise LayerError(f"no layer files in {directory}")
    layers.sort(key=lambda layer: (GROUPS.index(layer.group), layer.order, layer.id))
    return {layer.id: layer for layer in layers}


@lru_cache(maxsize=1)
def registry() -> dict[str, Layer]:
    """The process-wide registry; layer files change only with a deploy."""
    return load_registry()
