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

from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.importers.common import ImportProblem, Progress, check_file, no_progress
from geodata.importers.network import (
    GEOD,
    STATION_COLUMNS,
    Network,
    edge_time,
    empty_stations,
    is_drivable,
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
    """Two streaming passes, memory bounded by the roads and the places, not by the file.

    Pass 1 (ways and relations, plus the few tagged nodes that libosmium's KeyFilter lets
    through): drivable ways' node ids go into flat arrays and an ``osmium.IdTracker``
    (C++), so do closed ways and multipolygon relations tagged as a place or station
    (their member ways and nodes are added by ``complete_backward_references``).
    Pass 2: the tracker's id filter runs *before* the node-location index, so only the
    locations of tracked nodes are kept (an extract's untagged building corners never
    reach the index or Python); area assembly runs on them.  The edge table is then built
    with numpy in one go (:func:`build_network_arrays`).
    """
    import osmium

    way_ids: list[int] = []
    way_tags: list[dict[str, str]] = []
    counts: list[int] = []
    refs = array("q")
    bridges: list[tuple[int, dict[str, str]]] = []  # (index in way_ids, tags) of named bridges
    stations: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    tracker = osmium.IdTracker()
    tracked_relations = False

    def found(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> None:
        if station_kind(tags):
            stations.append(_station_row(tags, osm_type, osm_id, point))
        for row in (landmark_row(tags, osm_type, osm_id, point), address_row(tags, osm_type, osm_id, point)):
            if row is not None:
                places.append(row)

    def wanted_place(tags: dict[str, str]) -> bool:
        return bool(station_kind(tags) or landmark_row(tags, "", 0, _ORIGIN) or address_row(tags, "", 0, _ORIGIN))

    try:
        pass1 = (osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION)
                 .with_filter(osmium.filter.KeyFilter("highway", *PLACE_KEYS)))
        for obj in progress(pass1, None, "reading OSM roads"):
            if obj.is_way():
                tags = {t.k: t.v for t in obj.tags}
                if is_drivable(tags):
                    nodes = [n.ref for n in obj.nodes]
                    refs.extend(nodes)
                    counts.append(len(nodes))
                    way_ids.append(obj.id)
                    way_tags.append({k: tags[k] for k in KEPT_WAY_TAGS if k in tags})
                    tracker.add_references(obj)
                    if tags.get("bridge:name"):
                        bridges.append((len(way_ids) - 1, tags))
                elif obj.is_closed() and any(k in tags for k in PLACE_KEYS) and wanted_place(tags):
                    tracker.add_way(obj.id)
                    tracker.add_references(obj)
            elif obj.is_node():
                if obj.location.valid():
                    found({t.k: t.v for t in obj.tags}, "node", obj.id,
                          shapely.Point(obj.location.lon, obj.location.lat))
            elif obj.is_relation():
                tags = {t.k: t.v for t in obj.tags}
                if tags.get("type") in ("multipolygon", "boundary") and wanted_place(tags):
                    tracker.add_relation(obj.id)
                    tracked_relations = True
        if not way_ids:
            raise ImportProblem(f"{p}: contains no drivable roads")
        if tracked_relations:
            tracker.complete_backward_references(str(p), relation_depth=1)  # 0 adds no member ways (pyosmium 4.3)

        node_ids = array("q")
        lons = array("d")
        lats = array("d")
        wkb = osmium.geom.WKBFactory()
        areas = osmium.area.AreaManager()
        # the handlers are C++ objects the iterators only point to: each is kept in a local
        tracked, place_keys = tracker.id_filter(), osmium.filter.KeyFilter(*PLACE_KEYS)
        with osmium.io.Reader(str(p), osmium.osm.RELATION) as rd:
            osmium.apply(rd, tracked, place_keys, areas.first_pass_handler())
        store = osmium.index.create_map("flex_mem")
        locations = osmium.NodeLocationsForWays(store)
        locations.ignore_errors()
        area_keys, only_nodes = osmium.filter.KeyFilter(*PLACE_KEYS), osmium.filter.EntityFilter(osmium.osm.NODE)
        buffered = osmium.BufferIterator(area_keys)
        second = areas.second_pass_to_buffer(buffered)
        with osmium.io.Reader(str(p)) as reader:
            it = osmium.OsmFileIterator(reader, tracked, locations, second, only_nodes)
            for obj in progress(_with_buffer(it, buffered), None, "reading OSM node locations"):
                if obj.is_node():
                    loc = obj.location
                    if loc.valid():
                        node_ids.append(obj.id)
                        lons.append(loc.lon)
                        lats.append(loc.lat)
                elif obj.is_area():
                    tags = {t.k: t.v for t in obj.tags}
                    if not wanted_place(tags):
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
    net = build_network_arrays(np.asarray(way_ids, dtype=np.int64), way_tags, np.asarray(counts, dtype=np.int64),
                               np.frombuffer(refs, dtype=np.int64), np.frombuffer(node_ids, dtype=np.int64),
                               np.frombuffer(lons, dtype=np.float64), np.frombuffer(lats, dtype=np.float64),
                               stations, places, bridges)
    return net


def _with_buffer(it: Iterable[Any], buffered: Any) -> Iterator[Any]:
    for obj in it:
        yield obj
        if buffered:
            yield from buffered
    if buffered:
        yield from buffered


def build_network(ways: list[tuple[int, dict[str, str], list[int], list[tuple[float, float] | None]]],
                  stations: list[dict[str, Any]], places: list[dict[str, Any]] | None = None) -> Network:
    """Split ways given as (id, tags, node ids, locations or None) into pgRouting edges
    (see module docstring); the array form is :func:`build_network_arrays`."""
    flat = [(ref, loc) for _, _, refs, locs in ways for ref, loc in zip(refs, locs, strict=True)]
    known = {ref: loc for ref, loc in flat if loc is not None}
    ids = np.array(sorted(known), dtype=np.int64)
    xy = np.array([known[i] for i in ids], dtype=np.float64).reshape(-1, 2)
    # a node without a location in one way has none anywhere (it is outside the extract)
    refs = np.array([ref if loc is not None else -1 for ref, loc in flat], dtype=np.int64)
    return build_network_arrays(np.array([w[0] for w in ways], dtype=np.int64), [dict(w[1]) for w in ways],
                                np.array([len(w[2]) for w in ways], dtype=np.int64), refs, ids, xy[:, 0], xy[:, 1],
                                stations, places or [], [])


def build_network_arrays(way_ids: np.ndarray, way_tags: list[dict[str, str]], counts: np.ndarray,
                         refs: np.ndarray, node_ids: np.ndarray, lons: np.ndarray, lats: np.ndarray,
                         stations: list[dict[str, Any]], places: list[dict[str, Any]],
                         bridges: list[tuple[int, dict[str, str]]]) -> Network:
    """Ways as flat arrays (``refs``: every way's node ids in order, ``counts`` per way) and
    node locations (``node_ids``, ``lons``, ``lats``) -> edges split at every node used more
    than once or ending a run of located nodes; all in numpy, one row per edge at the end."""
    order = np.argsort(node_ids, kind="stable")
    sorted_ids = node_ids[order]
    pos = np.searchsorted(sorted_ids, refs)
    pos_c = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    valid = (pos < len(sorted_ids)) & (sorted_ids[pos_c] == refs) if len(sorted_ids) else np.zeros(len(refs), bool)
    loc_index = order[pos_c]
    x = lons[loc_index] if len(sorted_ids) else np.zeros(len(refs))
    y = lats[loc_index] if len(sorted_ids) else np.zeros(len(refs))
    n = len(refs)
    way_of = np.repeat(np.arange(len(counts)), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else np.zeros(0, np.int64)
    first = np.zeros(n, bool)
    first[starts[counts > 0]] = True
    last = np.zeros(n, bool)
    last[(starts + counts - 1)[counts > 0]] = True
    prev_valid = np.concatenate(([False], valid[:-1])) & ~first
    next_valid = np.concatenate((valid[1:], [False])) & ~last
    run_start = valid & ~prev_valid
    run_end = valid & ~next_valid
    run_id = np.cumsum(run_start) - 1
    vrefs = refs[valid]
    uniq, inv, use = np.unique(vrefs, return_inverse=True, return_counts=True)
    is_end = np.zeros(len(uniq), bool)
    is_end[inv[(run_start | run_end)[valid]]] = True
    split = np.zeros(n, bool)
    split[valid] = (use[inv] > 1) | is_end[inv]
    s = np.flatnonzero(split)
    pair = run_id[s[:-1]] == run_id[s[1:]]
    a, b = s[:-1][pair], s[1:][pair]  # every edge: positions a..b of one run
    ew = way_of[a]
    dirs = np.array([oneway_direction(t) for t in way_tags], dtype=np.int8)
    fwd_w = np.array([speed_for(t["highway"], t.get("maxspeed:forward") or t.get("maxspeed")) for t in way_tags],
                     dtype=np.float64)
    bwd_w = np.array([speed_for(t["highway"], t.get("maxspeed:backward") or t.get("maxspeed")) for t in way_tags],
                     dtype=np.float64)
    d = dirs[ew] if len(ew) else np.zeros(0, np.int8)
    back = d == -1  # one-way edges are stored in their legal direction
    length = b - a + 1
    total = int(length.sum())
    edge_of = np.repeat(np.arange(len(a)), length)
    offset = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    at = np.where(np.repeat(back, length), np.repeat(b, length) - offset, np.repeat(a, length) + offset)
    cx, cy = x[at], y[at]
    seg = edge_of[1:] == edge_of[:-1]
    lengths = np.zeros(len(a))
    if seg.any():
        i = np.flatnonzero(seg)
        _, _, dist = GEOD.inv(cx[i], cy[i], cx[i + 1], cy[i + 1])
        np.add.at(lengths, edge_of[i], dist)
    source = np.where(back, refs[b], refs[a])
    target = np.where(back, refs[a], refs[b])
    fwd_s, bwd_s = fwd_w[ew], bwd_w[ew]
    speed = np.where(back, bwd_s, fwd_s)
    props_w = [{k: v for k, v in t.items() if k not in ("highway", "name")} for t in way_tags]
    names_w = np.array([t.get("name") for t in way_tags] + [None], dtype=object)[:-1]
    hw_w = np.array([t["highway"] for t in way_tags] + [None], dtype=object)[:-1]
    props_arr = np.empty(len(props_w), dtype=object)
    props_arr[:] = props_w
    geometry = (shapely.linestrings(np.column_stack((cx, cy)), indices=edge_of) if len(a)
                else np.array([], dtype=object))
    edges = gpd.GeoDataFrame({
        "source": source.astype(np.int64), "target": target.astype(np.int64),
        "name": names_w[ew], "highway": hw_w[ew], "oneway": d != 0, "length_m": lengths,
        "speed_kmh": speed, "cost": edge_time(lengths, speed),
        "reverse_cost": np.where(d == 0, edge_time(lengths, bwd_s), -1.0),
        "osm_id": way_ids[ew].astype(np.int64), "props": props_arr[ew]}, geometry=geometry, crs=4326)
    ends_ids = np.concatenate((source, target))
    used = np.unique(ends_ids)
    used_loc = order[np.searchsorted(sorted_ids, used)] if len(used) else np.zeros(0, np.int64)
    nodes = gpd.GeoDataFrame(index=pd.Index(used, dtype=np.int64, name="id"),
                             geometry=shapely.points(lons[used_loc], lats[used_loc]), crs=4326)
    for w, tags in bridges:  # a named bridge is a landmark at the middle of its located nodes
        sel = valid & (way_of == w)
        if sel.sum() >= 2:
            line = shapely.LineString(np.column_stack((x[sel], y[sel])))
            row = landmark_row(tags, "way", int(way_ids[w]), line.interpolate(0.5, normalized=True))
            places.extend([row] if row else [])
    st = (gpd.GeoDataFrame(stations, geometry="geometry", crs=4326)[STATION_COLUMNS]
          if stations else empty_stations())
    pl = (gpd.GeoDataFrame(places, geometry="geometry", crs=4326)[PLACE_COLUMNS] if places else empty_places())
    return Network(nodes, edges, st, pl)
