"""Road network and emergency stations from OpenStreetMap: ``.osm.pbf``, ``.osm`` XML
(also ``.osm.gz``/``.osm.bz2``/``.o5m``/``.opl``) and OSMnx ``.graphml``.

Why pyosmium for PBF/XML: it is libosmium (C++) underneath and reads every OSM
format streaming, with the node ids of each way.  The node ids are what a routable
network needs (two ways meet where they share a node id, not where lines happen to
cross, so bridges and flyovers stay unconnected); GDAL's OSM driver gives lines
without node ids, and pyrosm/OSMnx add large dependency stacks or need the internet.
pyosmium also assembles multipolygon areas (a hospital mapped as a building
relation) for the station centroids.

Scale (issue 17.6; :func:`_read_osmium`): two passes over the file, libosmium doing
the per-node work (id tracking, the location index, writing node lists and locations
as OPL text that numpy/pandas parse in bulk) and numpy splitting the ways into edges;
memory grows with the drivable roads' nodes, the edges and the places, not with the
file's untagged nodes.  tests/bench/test_osm_read_bench.py compares it with pyrosm.

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

import csv
import io
import tempfile
from array import array
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


def read_osm(path: str | Path, progress: Progress = no_progress, tmp_dir: Path | None = None) -> Network:
    """Read an OSM PBF/XML file or an OSMnx GraphML file into a :class:`Network`.

    ``tmp_dir``: where the reader's scratch files go (a few hundred MB of OPL text for a
    province); None: the system's temporary directory.  They are removed however the read ends.
    """
    p = check_file(path)
    suffix = suffix_of(p)
    if suffix in GRAPHML_SUFFIXES:
        from geodata.importers.graphml import read_graphml

        return read_graphml(p, progress)
    if suffix not in OSMIUM_SUFFIXES:
        raise ImportProblem(f"{p}: unsupported format {suffix or '(no extension)'}; "
                            "expected .osm.pbf, .osm (XML) or OSMnx .graphml")
    return _read_osmium(p, progress, tmp_dir)


def _read_osmium(p: Path, progress: Progress, tmp_dir: Path | None = None) -> Network:
    """Two streaming passes; memory grows with the drivable roads' nodes and the places,
    not with the file (an extract's untagged nodes, mostly building corners, are never kept).

    Pass 1 (libosmium's KeyFilter lets only objects with a road or place key reach Python):
    each drivable way's tags are read in Python, its node list is written by libosmium to a
    temporary OPL file (text, ``Nn1,n2,...``) and parsed back in bulk by numpy, because
    pyosmium hands node references out one Python object at a time (most of the old time).
    Closed ways and multipolygon relations tagged as a place or station go into an
    ``osmium.IdTracker`` (``complete_backward_references`` adds their member ways and
    nodes), and so do the roads' node ids.  Pass 2: the tracker's id filter runs *before*
    the node-location index, so only tracked nodes are indexed; libosmium writes the
    roads' node locations to a second OPL file (parsed by pandas) and assembles the areas.
    The edge table is then built with numpy in one go (:func:`build_network_arrays`).
    """
    import osmium

    way_ids: list[int] = []
    way_tags: list[dict[str, str]] = []
    bridges: list[tuple[int, dict[str, str]]] = []  # (index in way_ids, tags) of named bridges
    stations: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    tracker = osmium.IdTracker()
    tracked_relations = False

    node_rows: list[dict[str, Any]] = []  # rows of tagged nodes: their points are made in one call
    node_xy = array("d")

    def found(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> int:
        made = 0
        if station_kind(tags):
            stations.append(_station_row(tags, osm_type, osm_id, point))
            made += 1
            if osm_type == "node":
                node_rows.append(stations[-1])
        for row in (landmark_row(tags, osm_type, osm_id, point), address_row(tags, osm_type, osm_id, point)):
            if row is not None:
                places.append(row)
                made += 1
                if osm_type == "node":
                    node_rows.append(row)
        return made

    def wanted_place(tags: dict[str, str]) -> bool:
        return bool(station_kind(tags) or landmark_row(tags, "", 0, _ORIGIN) or address_row(tags, "", 0, _ORIGIN))

    opl = "opl,add_metadata=false"
    if tmp_dir is not None and not Path(tmp_dir).is_dir():
        raise ImportProblem(f"{tmp_dir}: no such directory for the OSM reader's temporary files")
    # The directory and its OPL files go when the block ends, on an error too.
    with tempfile.TemporaryDirectory(prefix="peta112-osm-", dir=tmp_dir) as tmp:
        ways_opl, nodes_opl = Path(tmp) / "ways.opl", Path(tmp) / "nodes.opl"
        try:
            writer = osmium.SimpleWriter(osmium.io.File(str(ways_opl), opl))
            try:
                pass1 = (osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION)
                         .with_filter(osmium.filter.KeyFilter("highway", *PLACE_KEYS)))
                for obj in progress(pass1, None, "reading OSM roads"):
                    if obj.is_way():
                        tags = {t.k: t.v for t in obj.tags}
                        if is_drivable(tags):
                            writer.add_way(obj)
                            tracker.add_way(obj.id)  # its nodes: complete_backward_references
                            way_ids.append(obj.id)
                            way_tags.append({k: tags[k] for k in KEPT_WAY_TAGS if k in tags})
                            if tags.get("bridge:name"):
                                bridges.append((len(way_ids) - 1, tags))
                        elif obj.is_closed() and wanted_place(tags):
                            tracker.add_way(obj.id)
                    elif obj.is_node():
                        loc = obj.location
                        if loc.valid():
                            made = found({t.k: t.v for t in obj.tags}, "node", obj.id, _ORIGIN)
                            node_xy.extend((loc.lon, loc.lat) * made)
                    elif obj.is_relation():
                        tags = {t.k: t.v for t in obj.tags}
                        if tags.get("type") in ("multipolygon", "boundary") and wanted_place(tags):
                            tracker.add_relation(obj.id)
                            tracked_relations = True
            finally:
                writer.close()
            if not way_ids:
                raise ImportProblem(f"{p}: contains no drivable roads")
            for row, point in zip(node_rows, shapely.points(np.frombuffer(node_xy).reshape(-1, 2)), strict=True):
                row["geometry"] = point
            counts, refs = _read_way_refs(ways_opl, len(way_ids))
            ways_opl.unlink()
            # libosmium adds the tracked ways' nodes and the tracked relations' member ways and
            # their nodes (relation_depth=0 adds no member ways in pyosmium 4.3)
            tracker.complete_backward_references(str(p), relation_depth=1 if tracked_relations else 0)

            # the handlers are C++ objects the readers only point to: each is kept in a local
            tracked, place_keys = tracker.id_filter(), osmium.filter.KeyFilter(*PLACE_KEYS)
            areas = osmium.area.AreaManager()
            with osmium.io.Reader(str(p), osmium.osm.RELATION) as rd:
                osmium.apply(rd, tracked, place_keys, areas.first_pass_handler())
            locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
            locations.ignore_errors()
            area_keys, only_nodes = osmium.filter.KeyFilter(*PLACE_KEYS), osmium.filter.EntityFilter(osmium.osm.NODE)
            buffered = osmium.BufferIterator(area_keys)
            second = areas.second_pass_to_buffer(buffered)
            node_writer = osmium.WriteHandler(osmium.io.File(str(nodes_opl), opl))
            with osmium.io.Reader(str(p)) as reader:
                osmium.apply(reader, tracked, locations, second, only_nodes, node_writer)
            node_writer.close()
            wkb = osmium.geom.WKBFactory()
            for obj in progress(buffered, None, "reading OSM areas"):
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
        node_ids, lons, lats = _read_node_locations(nodes_opl)
    return build_network_arrays(np.asarray(way_ids, dtype=np.int64), way_tags, counts, refs,
                                node_ids, lons, lats, stations, places, bridges)


#: Bytes of OPL text parsed at a time: the text never sits in memory whole.
OPL_CHUNK_BYTES = 32 * 2**20


def _read_way_refs(path: Path, expected: int, chunk_bytes: int = OPL_CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """(node count per way, every way's node ids in order) from an OPL file of ways
    (one line a way, node list last: ``Nn1,n2,n3``; spaces inside tags are escaped),
    read ``chunk_bytes`` of lines at a time."""
    counts: list[int] = []
    parts: list[np.ndarray] = []
    lists: list[str] = []
    size = 0

    def flush() -> None:
        text = ",".join(s for s in lists if s).replace("n", "")
        parts.append(np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64))
        lists.clear()

    with path.open(encoding="utf-8") as f:
        for line in f:
            nodes = line.rstrip("\n").rpartition(" N")[2]
            lists.append(nodes)
            counts.append(nodes.count(",") + 1 if nodes else 0)
            size += len(nodes)
            if size >= chunk_bytes:
                flush()
                size = 0
    flush()
    if len(counts) != expected:
        raise ImportProblem(f"{path}: {len(counts)} ways written, {expected} read")
    refs = np.concatenate(parts)
    if len(refs) != sum(counts):
        raise ImportProblem(f"{path}: way node lists could not be read")
    return np.asarray(counts, dtype=np.int64), refs


def _read_node_locations(path: Path, chunk_bytes: int = OPL_CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lon, lat) of the nodes in an OPL file (``n1 T... x116.5 y-1.5``, no metadata;
    spaces inside tags are escaped, so `` x`` and `` y`` only start the coordinates),
    parsed by pandas' C reader ``chunk_bytes`` of whole lines at a time.  Bytes, not text:
    UTF-8 never has an ASCII byte inside a multi-byte letter."""
    ids: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []

    def parse(block: bytes) -> None:
        block = (b"\n" + block).replace(b"\nn", b"\n")[1:].replace(b" x", b" ").replace(b" y", b" ")
        df = pd.read_csv(io.BytesIO(block), sep=" ", header=None, names=["id", "tags", "x", "y"],
                         usecols=["id", "x", "y"], dtype={"id": np.int64, "x": np.float64, "y": np.float64},
                         quoting=csv.QUOTE_NONE, engine="c")
        ids.append(df["id"].to_numpy())
        lons.append(df["x"].to_numpy())
        lats.append(df["y"].to_numpy())

    rest = b""
    with path.open("rb") as f:
        while block := f.read(chunk_bytes):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut:
                parse(block[:cut])
            rest = block[cut:]
    if rest.strip():
        parse(rest)
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    node_ids, lon, lat = np.concatenate(ids), np.concatenate(lons), np.concatenate(lats)
    ok = ~(np.isnan(lon) | np.isnan(lat))  # a node without a location is outside the extract
    return node_ids[ok], lon[ok], lat[ok]


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


_A, _F = 6378137.0, 1 / 298.257223563  # WGS 84
_E2 = _F * (2 - _F)
#: Segments spanning less than this (degrees, ~5.5 km) use the local ellipsoid radii.
SHORT_SEGMENT_DEG = 0.05


def segment_lengths(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Metres between consecutive road nodes on the WGS 84 ellipsoid.

    A road segment is short: its length from the meridional and prime-vertical radii of
    curvature at its middle latitude differs from pyproj's geodesic (:data:`GEOD`) by
    under 1e-8 relative up to a few km (tested against it on 1M random segments across
    Indonesia: <= 9 micrometres at 3 km), and is ~12x faster; longer segments still go
    to the geodesic."""
    phi = np.radians((lat1 + lat2) / 2)
    s = np.sin(phi)
    w = 1 - _E2 * s * s
    n = _A / np.sqrt(w)
    m = _A * (1 - _E2) / (w * np.sqrt(w))
    out = np.hypot(n * np.cos(phi) * np.radians(lon2 - lon1), m * np.radians(lat2 - lat1))
    long = (np.abs(lon2 - lon1) > SHORT_SEGMENT_DEG) | (np.abs(lat2 - lat1) > SHORT_SEGMENT_DEG)
    if long.any():
        _, _, out[long] = GEOD.inv(lon1[long], lat1[long], lon2[long], lat2[long])
    return out


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
    if len(sorted_ids):
        valid = (pos < len(sorted_ids)) & (sorted_ids[pos_c] == refs)
        x, y = lons[order[pos_c]], lats[order[pos_c]]
    else:  # no road node has a location: no edges
        valid, x, y = np.zeros(len(refs), bool), np.zeros(len(refs)), np.zeros(len(refs))
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
    vpos = pos_c[valid]  # each located reference as its node's place in sorted_ids
    use = np.bincount(vpos, minlength=len(sorted_ids))
    is_end = np.zeros(len(sorted_ids), bool)
    is_end[pos_c[run_start | run_end]] = True
    split = np.zeros(n, bool)
    split[valid] = (use[vpos] > 1) | is_end[vpos]
    s = np.flatnonzero(split)
    pair = run_id[s[:-1]] == run_id[s[1:]]
    a, b = s[:-1][pair], s[1:][pair]  # every edge: positions a..b of one run
    del first, last, prev_valid, next_valid, run_start, run_end, run_id, vpos, use, is_end, split, s, pair
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
    for w, tags in bridges:  # a named bridge is a landmark at the middle of its located nodes
        sel = slice(starts[w], starts[w] + counts[w])
        ok = valid[sel]
        if ok.sum() >= 2:
            line = shapely.LineString(np.column_stack((x[sel][ok], y[sel][ok])))
            row = landmark_row(tags, "way", int(way_ids[w]), line.interpolate(0.5, normalized=True))
            places.extend([row] if row else [])
    coords = np.column_stack((x[at], y[at]))
    cx, cy = coords[:, 0], coords[:, 1]
    del offset, at, x, y
    seg = edge_of[1:] == edge_of[:-1]
    lengths = np.zeros(len(a))
    if seg.any():
        i = np.flatnonzero(seg)
        dist = segment_lengths(cx[i], cy[i], cx[i + 1], cy[i + 1])
        lengths = np.bincount(edge_of[i], weights=dist, minlength=len(a))
        del i, dist
    del seg, cx, cy
    geometry = shapely.linestrings(coords, indices=edge_of) if len(a) else np.array([], dtype=object)
    del coords, edge_of
    source = np.where(back, refs[b], refs[a])
    target = np.where(back, refs[a], refs[b])
    fwd_s, bwd_s = fwd_w[ew], bwd_w[ew]
    speed = np.where(back, bwd_s, fwd_s)
    props_w = [{k: v for k, v in t.items() if k not in ("highway", "name")} for t in way_tags]
    names_w = np.array([t.get("name") for t in way_tags] + [None], dtype=object)[:-1]
    hw_w = np.array([t["highway"] for t in way_tags] + [None], dtype=object)[:-1]
    props_arr = np.empty(len(props_w), dtype=object)
    props_arr[:] = props_w
    used_mask = np.zeros(len(sorted_ids), bool)  # the nodes that start or end an edge, by id
    used_mask[pos_c[a]] = True
    used_mask[pos_c[b]] = True
    used, used_loc = sorted_ids[used_mask], order[used_mask]
    node_points = shapely.points(lons[used_loc], lats[used_loc])
    edges = gpd.GeoDataFrame({
        "source": source.astype(np.int64), "target": target.astype(np.int64),
        "name": names_w[ew], "highway": hw_w[ew], "oneway": d != 0, "length_m": lengths,
        "speed_kmh": speed, "cost": edge_time(lengths, speed),
        "reverse_cost": np.where(d == 0, edge_time(lengths, bwd_s), -1.0),
        "osm_id": way_ids[ew].astype(np.int64), "props": props_arr[ew]}, geometry=geometry, crs=4326)
    nodes = gpd.GeoDataFrame(index=pd.Index(used, dtype=np.int64, name="id"), geometry=node_points, crs=4326)
    st = (gpd.GeoDataFrame(stations, geometry="geometry", crs=4326)[STATION_COLUMNS]
          if stations else empty_stations())
    pl = (gpd.GeoDataFrame(places, geometry="geometry", crs=4326)[PLACE_COLUMNS] if places else empty_places())
    return Network(nodes, edges, st, pl)
