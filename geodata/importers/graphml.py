"""Road network from an OSMnx GraphML file (``ox.save_graphml``).

OSMnx writes a MultiDiGraph: nodes carry ``x``/``y`` (in the graph's ``crs``,
normally EPSG:4326), edges carry ``osmid``, ``highway``, ``name``, ``oneway``,
``reversed``, ``length``, ``maxspeed`` (list-like strings when OSMnx merged several
ways, e.g. ``['40', '60']``) and ``geometry`` as WKT (absent for a straight edge).
A two-way street is two directed edges u->v and v->u with the same (reversed)
geometry.

Rows: the two directed edges of one geometry become **one** ``road_edges`` row,
``cost`` = travel time of u->v and ``reverse_cost`` = travel time of v->u, each
from that directed edge's own attributes; a directed edge without a partner
(a one-way street, or a two-way street cut at the graph boundary) becomes a row
with ``reverse_cost = -1``.  So pgRouting's directed search sees exactly the
directed graph OSMnx had, with half the rows.  Parallel edges (two different
geometries between the same nodes) stay separate rows.  Self-loops are kept
one-way as they are (they never lie on a shortest path).

Lengths are recomputed geodesically from the geometry (they agree with OSMnx's
``length`` to well under 1 %); speeds and travel times follow
:mod:`geodata.importers.network`.  Parsed with ElementTree (no networkx round
trip, so attributes stay exactly as written).
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from geodata.importers.common import ImportProblem, Progress, no_progress
from geodata.importers.network import (
    Network,
    edge_time,
    empty_stations,
    first_value,
    geodesic_lengths,
    list_values,
    make_edges,
    speed_for,
)

NS = "{http://graphml.graphdrawing.org/xmlns}"
KEPT_PROPS = ("lanes", "maxspeed", "ref", "bridge", "tunnel", "junction", "access", "width")


def _parse(p: Path) -> tuple[dict[str, str], dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as fh:
            root = ET.parse(fh).getroot()
    except (ET.ParseError, OSError, EOFError) as exc:
        raise ImportProblem(f"{p}: not a valid GraphML file ({str(exc).splitlines()[0]})") from None
    if root.tag != f"{NS}graphml":
        raise ImportProblem(f"{p}: not a GraphML file (root element <{root.tag.split('}')[-1]}>)")
    keys = {k.get("id"): k.get("attr.name") for k in root.iter(f"{NS}key")}
    graph = root.find(f"{NS}graph")
    if graph is None:
        raise ImportProblem(f"{p}: GraphML without a <graph>")

    def data(el: ET.Element) -> dict[str, str]:
        return {keys.get(d.get("key"), d.get("key")): (d.text or "") for d in el.findall(f"{NS}data")}

    gattrs = data(graph)
    nodes = {n.get("id"): data(n) for n in graph.iter(f"{NS}node")}
    edges = [(e.get("source"), e.get("target"), data(e)) for e in graph.iter(f"{NS}edge")]
    return gattrs, nodes, edges


def read_graphml(path: str | Path, progress: Progress = no_progress) -> Network:
    p = Path(path)
    gattrs, raw_nodes, raw_edges = _parse(p)
    if not raw_edges:
        raise ImportProblem(f"{p}: the graph has no edges")
    crs = CRS.from_user_input(gattrs.get("crs") or "EPSG:4326")
    to4326 = None if crs.to_epsg() == 4326 else Transformer.from_crs(crs, 4326, always_xy=True)

    xy: dict[int, tuple[float, float]] = {}
    for nid, attrs in raw_nodes.items():
        try:
            x, y = float(attrs["x"]), float(attrs["y"])
            node_id = int(nid)
        except (KeyError, ValueError):
            raise ImportProblem(f"{p}: node {nid!r} needs an integer id and numeric x and y") from None
        xy[node_id] = to4326.transform(x, y) if to4326 else (x, y)

    directed: list[dict[str, Any]] = []
    for u_s, v_s, attrs in progress(raw_edges, len(raw_edges), "reading GraphML"):
        try:
            u, v = int(u_s), int(v_s)
        except (TypeError, ValueError):
            raise ImportProblem(f"{p}: edge {u_s!r}->{v_s!r} has a non-integer node id") from None
        if u not in xy or v not in xy:
            raise ImportProblem(f"{p}: edge {u}->{v} refers to a node that is not in the graph")
        if attrs.get("geometry"):
            try:
                geom = shapely.from_wkt(attrs["geometry"])
            except shapely.errors.GEOSException:
                raise ImportProblem(f"{p}: edge {u}->{v} has an unreadable geometry") from None
            if to4326:
                geom = shapely.transform(geom, lambda c: np.column_stack(to4326.transform(c[:, 0], c[:, 1])))
        else:
            geom = shapely.LineString([xy[u], xy[v]])
        hw = first_value(attrs.get("highway")) or "road"
        directed.append({"u": u, "v": v, "attrs": attrs, "geom": geom, "highway": hw,
                         "speed": speed_for(hw, attrs.get("maxspeed"))})

    lengths = geodesic_lengths(d["geom"] for d in directed)
    for d, length in zip(directed, lengths, strict=True):
        d["length"] = float(length)
        d["time"] = float(edge_time(length, d["speed"]))

    # Pair u->v with v->u over the same geometry.
    groups: dict[tuple, list[list[dict[str, Any]]]] = defaultdict(lambda: [[], []])
    for d in directed:
        u, v = d["u"], d["v"]
        coords = np.round(np.asarray(d["geom"].coords), 7)
        if u == v:
            key: tuple = ("loop", id(d))
            groups[key][0].append(d)
            continue
        forward = u < v
        if not forward:
            coords = coords[::-1]
        key = (min(u, v), max(u, v), coords.tobytes())
        groups[key][0 if forward else 1].append(d)

    records = []
    for fwd_list, bwd_list in groups.values():
        for k in range(max(len(fwd_list), len(bwd_list))):
            f = fwd_list[k] if k < len(fwd_list) else None
            b = bwd_list[k] if k < len(bwd_list) else None
            main, back = (f, b) if f is not None else (b, None)
            records.append(_row(main, back))
    edges = make_edges(records)
    used = sorted(set(edges["source"]).union(edges["target"]))
    nodes = gpd.GeoDataFrame(index=np.array(used, dtype=np.int64),
                             geometry=[shapely.Point(xy[n]) for n in used], crs=4326)
    nodes.index.name = "id"
    return Network(nodes, edges, empty_stations())


def _row(main: dict[str, Any], back: dict[str, Any] | None) -> dict[str, Any]:
    a = main["attrs"]
    osmids = list_values(a.get("osmid"))
    names = list_values(a.get("name"))
    props: dict[str, Any] = {k: a[k] for k in KEPT_PROPS if a.get(k)}
    if len(osmids) > 1:
        props["osmids"] = [int(o) for o in osmids if o.lstrip("-").isdigit()]
    if len(names) > 1:
        props["names"] = names
    highways = list_values(a.get("highway"))
    if len(highways) > 1:
        props["highways"] = highways
    return {
        "source": main["u"], "target": main["v"], "name": names[0] if names else None,
        "highway": main["highway"], "oneway": back is None, "length_m": main["length"],
        "speed_kmh": main["speed"], "cost": main["time"],
        "reverse_cost": back["time"] if back is not None else -1.0,
        "osm_id": int(osmids[0]) if osmids and osmids[0].lstrip("-").isdigit() else None,
        "props": props, "geometry": main["geom"],
    }
