"""The routable road network shared by the OSM (PBF/XML) and OSMnx GraphML readers.

A :class:`Network` is three GeoDataFrames in EPSG:4326:

* ``nodes``: index = node id (the OSM node id), geometry Point;
* ``edges``: one row per segment between two nodes, pgRouting layout: ``source``,
  ``target``, ``cost`` (seconds source -> target), ``reverse_cost`` (seconds back,
  ``-1`` = not allowed, i.e. one-way), ``length_m`` (geodesic, WGS 84 ellipsoid),
  ``speed_kmh``, ``highway``, ``oneway``, ``name``, ``osm_id``, ``props`` (dict);
* ``stations``: emergency services found in the OSM data (may be empty).

:func:`load_network` writes it into ``road_nodes`` / ``road_edges`` / ``stations``
with COPY inside the caller's transaction.

Travel time
-----------
``cost = length_m / speed``.  The speed is the way's ``maxspeed`` when it has a
usable one (``maxspeed:forward`` / ``maxspeed:backward`` per direction; ``mph``
converted; a list as OSMnx writes it, e.g. ``['40', '60']``, is averaged; the
Indonesian implicit limits ``ID:urban`` 50, ``ID:rural`` 80, ``ID:motorway`` 100,
``ID:residential`` 30 after PP 79/2013), otherwise the default of its highway
class (:data:`DEFAULT_SPEED_KMH`).  The defaults are typical *driving* speeds in an
Indonesian city, below the legal limits, because that is what a responder
achieves in traffic; a city can tune them here.

================  ======  ================  ======
highway           km/h    highway           km/h
================  ======  ================  ======
motorway          80      motorway_link     50
trunk             60      trunk_link        40
primary           50      primary_link      40
secondary         40      secondary_link    35
tertiary          35      tertiary_link     30
unclassified      30      residential       25
road              25      service           15
living_street     10
================  ======  ================  ======
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from sqlalchemy import Connection, text

from geodata.bulk import copy_rows, ewkb
from geodata.importers.common import ImportProblem, Progress, no_progress
from geodata.importers.places import empty_places

DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 80, "motorway_link": 50,
    "trunk": 60, "trunk_link": 40,
    "primary": 50, "primary_link": 40,
    "secondary": 40, "secondary_link": 35,
    "tertiary": 35, "tertiary_link": 30,
    "unclassified": 30, "residential": 25, "road": 25,
    "service": 15, "living_street": 10,
}
#: Highway classes an ambulance or fire engine can drive on (PBF/XML input).
DRIVABLE = frozenset(DEFAULT_SPEED_KMH)
FALLBACK_SPEED_KMH = 25.0
IMPLICIT_MAXSPEED = {"id:urban": 50.0, "id:rural": 80.0, "id:motorway": 100.0, "id:residential": 30.0,
                     "id:living_street": 10.0}
GEOD = Geod(ellps="WGS84")

EDGE_COLUMNS = ["source", "target", "name", "highway", "oneway", "length_m", "speed_kmh",
                "cost", "reverse_cost", "osm_id", "props", "geometry"]
STATION_COLUMNS = ["agency_code", "kind", "name", "address", "osm_id", "props", "geometry"]


@dataclass
class Network:
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame = field(default_factory=lambda: empty_stations())
    #: Landmarks and addresses for the geocoder (geodata/importers/places.py); may be empty.
    places: gpd.GeoDataFrame = field(default_factory=lambda: empty_places())

    def summary(self) -> str:
        oneway = int((self.edges["reverse_cost"] < 0).sum()) if len(self.edges) else 0
        km = float(self.edges["length_m"].sum()) / 1000 if len(self.edges) else 0.0
        return (f"{len(self.nodes)} nodes, {len(self.edges)} edges ({oneway} one-way, {km:.1f} km), "
                f"{len(self.stations)} stations, {len(self.places)} landmarks and addresses")


def empty_stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in STATION_COLUMNS[:-1]}, geometry=[], crs=4326)


# -- tags -------------------------------------------------------------------------------
def first_value(value: Any) -> str | None:
    """OSMnx writes merged attributes as list-like strings ("['a', 'b']"): take the first."""
    values = list_values(value)
    return values[0] if values else None


def list_values(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    s = str(value).strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            parsed = ast.literal_eval(s)
            if isinstance(parsed, (list, tuple)):
                return [str(v) for v in parsed]
        except (ValueError, SyntaxError):
            pass
    return [v.strip() for v in s.split(";") if v.strip()] if s else []


_SPEED_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: Any) -> float | None:
    """km/h from an OSM maxspeed value (or an OSMnx list of them); None if unusable."""
    speeds = []
    for v in list_values(value):
        v = v.strip()
        if v.lower() in IMPLICIT_MAXSPEED:
            speeds.append(IMPLICIT_MAXSPEED[v.lower()])
            continue
        m = _SPEED_RE.match(v)
        if m:
            kmh = float(m.group(1).replace(",", "."))
            if (m.group(2) or "").lower() == "mph":
                kmh *= 1.609344
            if kmh > 0:
                speeds.append(kmh)
    return float(np.mean(speeds)) if speeds else None


def speed_for(highway: str | None, maxspeed: Any = None) -> float:
    """Travel speed (km/h) for a way: its usable maxspeed, else its class default."""
    s = parse_maxspeed(maxspeed)
    if s is not None:
        return s
    return float(DEFAULT_SPEED_KMH.get(highway or "", FALLBACK_SPEED_KMH))


def oneway_direction(tags: dict[str, str]) -> int:
    """1 = forward only, -1 = backward only, 0 = both ways.

    ``oneway=yes/true/1`` forward, ``-1/reverse`` backward, ``no/false/0`` both;
    ``reversible``/``alternating`` (time-dependent) count as both ways; without a
    ``oneway`` tag, roundabouts (``junction=roundabout/circular``) and motorways
    are one-way as OSM implies.
    """
    ow = (tags.get("oneway") or "").strip().lower()
    if ow in ("yes", "true", "1"):
        return 1
    if ow in ("-1", "reverse"):
        return -1
    if ow in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def is_drivable(tags: dict[str, str]) -> bool:
    """Drivable by an emergency vehicle: a road class in :data:`DRIVABLE`, not an area,
    not closed to motor vehicles.  ``access=private/destination`` stays in on purpose:
    ambulances do enter gated housing estates (perumahan); parking aisles and
    driveways are left out (dead ends that only add nodes)."""
    hw = tags.get("highway")
    if hw not in DRIVABLE or tags.get("area") == "yes":
        return False
    if hw == "service" and tags.get("service") in ("parking_aisle", "driveway", "drive-through"):
        return False
    if tags.get("emergency") in ("yes", "designated"):
        return True
    for key in ("motor_vehicle", "motorcar", "vehicle", "access"):
        v = tags.get(key)
        if v is not None:
            return v not in ("no", "agricultural", "forestry", "delivery", "bus", "psv")
    return True


# -- geometry ---------------------------------------------------------------------------
def geodesic_lengths(lines: Iterable[shapely.LineString]) -> np.ndarray:
    """Length in metres of each line on the WGS 84 ellipsoid (vectorised)."""
    arr = np.asarray(list(lines), dtype=object)
    if len(arr) == 0:
        return np.zeros(0)
    coords, idx = shapely.get_coordinates(arr, return_index=True)
    same = idx[1:] == idx[:-1]
    seg = np.zeros(len(coords) - 1)
    if same.any():
        a, b = np.nonzero(same)[0], np.nonzero(same)[0] + 1
        _, _, d = GEOD.inv(coords[a, 0], coords[a, 1], coords[b, 0], coords[b, 1])
        seg[a] = d
    seg = np.where(same, seg, 0.0)
    out = np.zeros(len(arr))
    np.add.at(out, idx[:-1], seg)
    return out


def edge_time(length_m: np.ndarray | float, speed_kmh: np.ndarray | float) -> np.ndarray | float:
    return np.asarray(length_m) / (np.asarray(speed_kmh) / 3.6)


def make_edges(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not records:
        return gpd.GeoDataFrame({c: [] for c in EDGE_COLUMNS[:-1]}, geometry=[], crs=4326)
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=4326)
    return gdf[EDGE_COLUMNS + [c for c in gdf.columns if c not in EDGE_COLUMNS]]


def largest_component(net: Network) -> Network:
    """Keep only the largest strongly connected part: islands of a clipped extract and
    one-way traps at its edge (where a unit could drive in and not out, or an incident
    could not be reached) go; app.routing.graph.strong_components decides, as routing does."""
    from app.routing.graph import strong_components

    if len(net.edges) == 0:
        return net
    c = strong_components(net.edges["source"].to_numpy(), net.edges["target"].to_numpy(),
                          net.edges["cost"].to_numpy(), net.edges["reverse_cost"].to_numpy())
    keep_nodes = c.node_ids[c.labels == c.largest]
    return Network(net.nodes.loc[net.nodes.index.isin(keep_nodes)], net.edges[c.edge_in_largest],
                   net.stations, net.places)


# -- loading ----------------------------------------------------------------------------
def _opt(value: Any) -> Any:
    """None for pandas' missing values (pandas 3 stores None in a str column as NaN)."""
    if value is None or (not isinstance(value, (dict, list)) and pd.isna(value)):
        return None
    return value


def load_network(conn: Connection, network: Network, replace: bool = False,
                 progress: Progress = no_progress, clear_osm_stations: bool = True) -> dict[str, int]:
    """Write ``network`` into road_nodes / road_edges / stations (caller's transaction).

    ``replace=True`` first deletes the whole road network and the stations that came
    from OSM (``props.source = osm``), have no units and are not in ``network`` again
    (unless ``clear_osm_stations`` is false: city setup decides which stations go); other
    stations stay, so the same extract twice changes nothing.  DELETE (not TRUNCATE)
    so the running app keeps routing on the old network until the import commits.
    Appending keeps existing rows: nodes are OSM node ids, so a neighbouring
    extract joins at shared nodes; a node id already present at another position
    (e.g. a demo network) is an error; an edge already present is skipped, so
    loading the same extract twice changes nothing the second time.
    """
    conn.execute(text("LOCK TABLE road_nodes, road_edges IN SHARE ROW EXCLUSIVE MODE"))
    if replace:
        conn.execute(text("DELETE FROM road_edges"))
        conn.execute(text("DELETE FROM road_nodes"))
    if replace and clear_osm_stations:  # those the new extract holds again stay (same id)
        keys = [(int(o), (_opt(p) or {}).get("osm_type"))
                for o, p in zip(network.stations["osm_id"], network.stations["props"], strict=True)
                if _opt(o) is not None]
        conn.execute(text(
            "DELETE FROM stations WHERE props->>'source' = 'osm' "
            "AND NOT EXISTS (SELECT 1 FROM units u WHERE u.station_id = stations.id) "
            "AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:ids AS bigint[]), CAST(:types AS text[])) k(id, t) "
            "                WHERE k.id = stations.osm_id AND k.t IS NOT DISTINCT FROM stations.props->>'osm_type')"),
            {"ids": [k[0] for k in keys], "types": [k[1] for k in keys]})
    nodes, edges = network.nodes, network.edges
    # Nodes go through a staging table so that appending can skip shared nodes.
    conn.execute(text("CREATE TEMP TABLE _imp_nodes (id bigint, geom geometry(Point, 4326)) ON COMMIT DROP"))
    node_rows = ((int(i), ewkb(g)) for i, g in zip(nodes.index, nodes.geometry, strict=True))
    copy_rows(conn, "_imp_nodes", ["id", "geom"],
              progress(node_rows, len(nodes), "road nodes"))
    clash = conn.execute(text(
        "SELECT n.id FROM _imp_nodes i JOIN road_nodes n USING (id) "
        "WHERE ST_DistanceSphere(n.geom, i.geom) > 1 LIMIT 1")).scalar()
    if clash is not None:
        raise ImportProblem(f"road node {clash} already exists at another position "
                            "(another network is loaded); use --replace")
    n_nodes = conn.execute(text(
        "INSERT INTO road_nodes (id, geom) SELECT id, geom FROM _imp_nodes "
        "ON CONFLICT (id) DO NOTHING")).rowcount
    conn.execute(text("DROP TABLE _imp_nodes"))
    first = int(conn.execute(text("SELECT COALESCE(max(id), 0) + 1 FROM road_edges")).scalar())
    cols = ["id", *EDGE_COLUMNS[:-1], "geom"]
    rec = edges[EDGE_COLUMNS[:-1]].to_dict("records")
    edge_rows = (
        [first + k, int(r["source"]), int(r["target"]), _opt(r["name"]), r["highway"], bool(r["oneway"]),
         float(r["length_m"]), float(r["speed_kmh"]), float(r["cost"]), float(r["reverse_cost"]),
         None if _opt(r["osm_id"]) is None else int(r["osm_id"]),
         json.dumps(_opt(r["props"]) or {}, ensure_ascii=False), ewkb(g)]
        for k, (r, g) in enumerate(zip(rec, edges.geometry, strict=True))
    )
    if replace:
        n_edges = copy_rows(conn, "road_edges", cols, progress(edge_rows, len(edges), "road edges"))
    else:  # appending: an edge already there (same nodes, OSM way and line) is not loaded twice
        conn.execute(text("CREATE TEMP TABLE _imp_edges (LIKE road_edges) ON COMMIT DROP"))
        copy_rows(conn, "_imp_edges", cols, progress(edge_rows, len(edges), "road edges"))
        n_edges = conn.execute(text(
            "INSERT INTO road_edges SELECT i.* FROM _imp_edges i WHERE NOT EXISTS ("
            " SELECT 1 FROM road_edges e WHERE e.source = i.source AND e.target = i.target"
            " AND e.osm_id IS NOT DISTINCT FROM i.osm_id AND ST_Equals(e.geom, i.geom))")).rowcount
        conn.execute(text("DROP TABLE _imp_edges"))
    n_stations = load_stations(conn, network.stations, progress)
    return {"nodes": n_nodes, "edges": n_edges, "stations": n_stations}


def load_stations(conn: Connection, stations: gpd.GeoDataFrame, progress: Progress = no_progress,
                  skip_known_osm: bool = True) -> int:
    """COPY station rows (columns of :data:`STATION_COLUMNS`) into ``stations``; with
    ``skip_known_osm`` an OSM object already loaded (same osm type and id) is skipped."""
    from geodata.importers.common import reserve_ids

    if len(stations) == 0:
        return 0
    if skip_known_osm and stations["osm_id"].notna().any():
        have = {(r[0], r[1]) for r in conn.execute(text(
            "SELECT osm_id, props->>'osm_type' FROM stations WHERE osm_id IS NOT NULL"))}
        keep = [not (_opt(o) is not None and (int(o), (_opt(p) or {}).get("osm_type")) in have)
                for o, p in zip(stations["osm_id"], stations["props"], strict=True)]
        stations = stations[keep]
        if len(stations) == 0:
            return 0
    ids = reserve_ids(conn, "stations", len(stations))
    rec = stations[STATION_COLUMNS[:-1]].to_dict("records")
    rows = (
        [sid, r["agency_code"], r["kind"], r["name"], _opt(r["address"]),
         None if _opt(r["osm_id"]) is None else int(r["osm_id"]),
         json.dumps(_opt(r["props"]) or {}, ensure_ascii=False), ewkb(g)]
        for sid, r, g in zip(ids, rec, stations.geometry, strict=True)
    )
    return copy_rows(conn, "stations", ["id", *STATION_COLUMNS[:-1], "geom"],
                     progress(rows, len(stations), "stations"))
