"""Road network and emergency stations from OpenStreetMap: ``.osm.pbf``, ``.osm`` XML
(also ``.osm.gz``/``.osm.bz2``/``.o5m``/``.opl``) and OSMnx ``.graphml``.

Why pyosmium for PBF/XML: it is libosmium (C++) underneath, reads every OSM format
in one streaming pass with a node-location index, so a way arrives with the ids
*and* coordinates of its nodes.  The node ids are what a routable network needs
(two ways meet where they share a node id, not where lines happen to cross, so
bridges and flyovers stay unconnected); GDAL's OSM driver gives lines without
node ids, and pyrosm/OSMnx add large dependency stacks or need the internet.
pyosmium also assembles multipolygon areas (a hospital mapped as a building
relation) for the station centroids.

The network: only drivable highway classes (:func:`geodata.importers.network.is_drivable`);
ways are split into edges at every node shared with another drivable way (or
repeated within the way) and at way ends; one-way rules, speeds and travel
times are documented in :mod:`geodata.importers.network`.  A one-way edge is
stored in its legal direction: ``cost`` >= 0 and ``reverse_cost`` = -1.  Ways
cut by the extract boundary (nodes without a location) are kept up to the cut.

Stations (from nodes, and from closed ways / multipolygons as the centroid):

==============================================  ========  ================
OSM tag                                         agency    kind
==============================================  ========  ================
amenity=fire_station                            DAMKAR    fire_station
amenity=police                                  POLRI     police_post
amenity=hospital                                DINKES    hospital
amenity=clinic (name contains "puskesmas")      DINKES    puskesmas
amenity=clinic (otherwise)                      DINKES    clinic
amenity=ambulance_station, emergency=ambulance_station   DINKES  ambulance_post
==============================================  ========  ================

Data imported from OpenStreetMap is (c) OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geodata.importers.common import ImportProblem, Progress, check_file, no_progress
from geodata.importers.network import (
    STATION_COLUMNS,
    Network,
    edge_time,
    empty_stations,
    geodesic_lengths,
    is_drivable,
    make_edges,
    oneway_direction,
    speed_for,
)
from geodata.importers.places import PLACE_COLUMNS, address_row, empty_places, landmark_row

OSMIUM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".o5m", ".opl", ".xml")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz", ".graphml.xml")
#: Keys of the objects read besides roads: stations, landmarks, addresses.
PLACE_KEYS = ("amenity", "emergency", "shop", "railway", "man_made", "landuse", "place", "office",
              "public_transport", "leisure", "tourism", "addr:housenumber")
_ORIGIN = shapely.Point(0, 0)
KEPT_WAY_TAGS = ("highway", "name", "ref", "oneway", "junction", "maxspeed", "maxspeed:forward",
                 "maxspeed:backward", "lanes", "surface", "bridge", "tunnel", "access")


def station_kind(tags: dict[str, str]) -> tuple[str, str] | None:
    """(agency_code, kind) of an OSM object, or None if it is not an emergency station."""
    amenity = tags.get("amenity")
    if amenity == "fire_station":
        return "DAMKAR", "fire_station"
    if amenity == "police":
        return "POLRI", "police_post"
    if amenity == "hospital":
        return "DINKES", "hospital"
    if amenity == "clinic":
        name = (tags.get("name") or "").lower()
        return "DINKES", "puskesmas" if "puskesmas" in name else "clinic"
    if amenity == "ambulance_station" or tags.get("emergency") == "ambulance_station":
        return "DINKES", "ambulance_post"
    return None


def _address(tags: dict[str, str]) -> str | None:
    if tags.get("addr:full"):
        return tags["addr:full"]
    street = " ".join(v for v in (tags.get("addr:street"), tags.get("addr:housenumber")) if v)
    parts = [v for v in (street, tags.get("addr:city")) if v]
    return ", ".join(parts) or None


def _station_row(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> dict[str, Any]:
    agency, kind = station_kind(tags)  # type: ignore[misc]
    name = tags.get("name") or tags.get("name:id") or f"{kind.replace('_', ' ')} (osm {osm_type} {osm_id})"
    return {"agency_code": agency, "kind": kind, "name": name, "address": _address(tags),
            "osm_id": osm_id, "props": {"osm_type": osm_type, "source": "osm", "tags": tags},
            "geometry": point}


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    for s in (*GRAPHML_SUFFIXES, *OSMIUM_SUFFIXES):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def read_osm(path: str | Path, progress: Progress = no_progress) -> Network:
    """Read an OSM PBF/XML file or an OSMnx GraphML file into a :class:`Network`."""
    p = check_file(path)
    suffix = suffix_of(p)
    if suffix in GRAPHML_SUFFIXES:
        from geodata.importers.graphml import read_graphml

        return read_graphml(p, progress)
    if suffix not in OSMIUM_SUFFIXES:
        raise ImportProblem(f"{p}: unsupported format {suffix or '(no extension)'}; "
                            "expected .osm.pbf, .osm (XML) or OSMnx .graphml")
    return _read_osmium(p, progress)


def _read_osmium(p: Path, progress: Progress) -> Network:
    import osmium

    ways: list[tuple[int, dict[str, str], list[int], list[tuple[float, float] | None]]] = []
    stations: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    wkb = osmium.geom.WKBFactory()
    keys = osmium.filter.KeyFilter("highway", *PLACE_KEYS)
    fp = (osmium.FileProcessor(str(p))
          .with_locations()
          .with_areas(osmium.filter.KeyFilter(*PLACE_KEYS))
          .with_filter(keys))

    def found(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> None:
        if station_kind(tags):
            stations.append(_station_row(tags, osm_type, osm_id, point))
        for row in (landmark_row(tags, osm_type, osm_id, point), address_row(tags, osm_type, osm_id, point)):
            if row is not None:
                places.append(row)

    try:
        for obj in progress(fp, None, "reading OSM"):
            if obj.is_way():
                tags = {t.k: t.v for t in obj.tags}
                if not is_drivable(tags):
                    continue
                refs, locs = [], []
                for n in obj.nodes:
                    refs.append(n.ref)
                    loc = n.location
                    locs.append((loc.lon, loc.lat) if loc.valid() else None)
                ways.append((obj.id, {k: tags[k] for k in KEPT_WAY_TAGS if k in tags}, refs, locs))
                if tags.get("bridge:name") and len([xy for xy in locs if xy]) >= 2:  # a named bridge
                    line = shapely.LineString([xy for xy in locs if xy])
                    row = landmark_row(tags, "way", obj.id, line.interpolate(0.5, normalized=True))
                    places.extend([row] if row else [])
            elif obj.is_node():
                if obj.location.valid():
                    found({t.k: t.v for t in obj.tags}, "node", obj.id,
                          shapely.Point(obj.location.lon, obj.location.lat))
            elif obj.is_area():
                tags = {t.k: t.v for t in obj.tags}
                if not (station_kind(tags) or landmark_row(tags, "", 0, _ORIGIN)
                        or address_row(tags, "", 0, _ORIGIN)):
                    continue
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                except RuntimeError:
                    continue  # broken multipolygon: skip the object, keep importing
                osm_type = "way" if obj.from_way() else "relation"
                found(tags, osm_type, obj.orig_id(), geom.representative_point() if not station_kind(tags)
                      else geom.centroid)
    except RuntimeError as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportProblem(f"{p}: not a valid OSM file ({msg})") from None
    if not ways:
        raise ImportProblem(f"{p}: contains no drivable roads")
    return build_network(ways, stations, places)


def build_network(ways: list[tuple[int, dict[str, str], list[int], list[tuple[float, float] | None]]],
                  stations: list[dict[str, Any]], places: list[dict[str, Any]] | None = None) -> Network:
    """Split ways at shared nodes into pgRouting edges (see module docstring)."""
    use: Counter[int] = Counter()
    ends: set[int] = set()
    for _, _, refs, locs in ways:
        run: list[int] = []
        for ref, loc in zip(refs, locs, strict=True):
            if loc is None:
                if run:
                    ends.update((run[0], run[-1]))
                run = []
                continue
            use[ref] += 1
            run.append(ref)
        if run:
            ends.update((run[0], run[-1]))
    node_xy: dict[int, tuple[float, float]] = {}
    records: list[dict[str, Any]] = []
    for way_id, tags, refs, locs in ways:
        direction = oneway_direction(tags)
        hw = tags["highway"]
        fwd = speed_for(hw, tags.get("maxspeed:forward") or tags.get("maxspeed"))
        bwd = speed_for(hw, tags.get("maxspeed:backward") or tags.get("maxspeed"))
        seg: list[tuple[int, tuple[float, float]]] = []
        for ref, loc in [*zip(refs, locs, strict=True), (None, None)]:
            if loc is None:  # cut (missing node) or end of way
                if len(seg) >= 2:
                    records.append(_segment(way_id, tags, seg, direction, fwd, bwd))
                seg = []
                continue
            seg.append((ref, loc))
            node_xy[ref] = loc
            if len(seg) >= 2 and (use[ref] > 1 or ref in ends):
                records.append(_segment(way_id, tags, seg, direction, fwd, bwd))
                seg = [(ref, loc)]
    if records:  # every line built in one vectorised call (one LineString at a time was most of the time)
        counts = np.fromiter((len(r["_coords"]) for r in records), dtype=np.int64, count=len(records))
        coords = np.array([xy for r in records for xy in r.pop("_coords")], dtype=np.float64)
        for r, g in zip(records, shapely.linestrings(coords, indices=np.repeat(np.arange(len(records)), counts)),
                        strict=True):
            r["geometry"] = g
    edges = make_edges(records)
    if len(edges):
        lengths = geodesic_lengths(edges.geometry)
        edges["length_m"] = lengths
        fwd_s = edges.pop("_fwd").to_numpy(dtype=float)
        bwd_s = edges.pop("_bwd").to_numpy(dtype=float)
        d = edges.pop("_dir").to_numpy()
        edges["speed_kmh"] = np.where(d == -1, bwd_s, fwd_s)
        forward_time = edge_time(lengths, np.where(d == -1, bwd_s, fwd_s))
        backward_time = edge_time(lengths, bwd_s)
        edges["cost"] = forward_time
        edges["reverse_cost"] = np.where(d == 0, backward_time, -1.0)
        edges["oneway"] = d != 0
    used = sorted(set(edges["source"]).union(edges["target"])) if len(edges) else []
    nodes = gpd.GeoDataFrame(index=np.array(used, dtype=np.int64),
                             geometry=shapely.points(np.array([node_xy[n] for n in used], dtype=np.float64)
                                                     .reshape(-1, 2)), crs=4326)
    nodes.index.name = "id"
    st = (gpd.GeoDataFrame(stations, geometry="geometry", crs=4326)[STATION_COLUMNS]
          if stations else empty_stations())
    pl = (gpd.GeoDataFrame(places, geometry="geometry", crs=4326)[PLACE_COLUMNS] if places else empty_places())
    return Network(nodes, edges, st, pl)


def _segment(way_id: int, tags: dict[str, str], seg: list[tuple[int, tuple[float, float]]],
             direction: int, fwd: float, bwd: float) -> dict[str, Any]:
    if direction == -1:  # store one-way edges in their legal direction
        seg = seg[::-1]
    props = {k: v for k, v in tags.items() if k not in ("highway", "name")}
    return {"source": seg[0][0], "target": seg[-1][0], "name": tags.get("name"),
            "highway": tags["highway"], "oneway": direction != 0, "length_m": 0.0,
            "speed_kmh": fwd, "cost": 0.0, "reverse_cost": 0.0, "osm_id": way_id, "props": props,
            "_coords": [xy for _, xy in seg], "_dir": direction, "_fwd": fwd, "_bwd": bwd}
