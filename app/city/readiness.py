"""The readiness report: is this city's data fit to dispatch on?

Written for the GIS officer after ``city setup`` (and by ``--check`` before it): the
checks are the failures that hurt on a real call, each with what to do about it.

* roads per kelurahan, and kelurahan without roads (outside the extract, or a
  boundary file from another city);
* stations per agency, each snapped to the road network, and the share of the
  city's road nodes it reaches within the agency's tightest response target (a
  station that reaches little sits on an island or a one-way trap);
* strongly connected components of the directed road graph: outside the largest
  one a unit can drive in and not out (or the reverse); those "trap" edges are
  listed by OSM way so they can be fixed in OSM or dropped;
* places loaded for the geocoder, by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import Connection

from app.db.sqlfiles import statement
from app.routing.graph import Components, strong_components
from geodata.importers.places import place_counts

#: "Reaches most of the city": this share of road nodes within the target time.
MOST = 0.5
DEFAULT_TARGET_S = 900
TRAPS_LISTED = 20


@dataclass
class Graph:
    """The directed road graph as scipy wants it: node ids, and arcs between their positions."""

    node_ids: np.ndarray
    edge_ids: np.ndarray
    edge_s: np.ndarray  # position of each edge's source node
    edge_t: np.ndarray
    matrix: csr_matrix
    components: Components  # strongly connected, as the routing engine sees them

    def position(self, node_id: int) -> int | None:
        k = int(np.searchsorted(self.node_ids, node_id))
        return k if k < len(self.node_ids) and self.node_ids[k] == node_id else None


def load_graph(conn: Connection) -> Graph:
    rows = conn.execute(statement("app.city", "sql/city.sql", "graph")).all()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Graph(empty, empty, empty, empty, csr_matrix((0, 0)), strong_components(empty, empty, empty, empty))
    a = np.array(rows, dtype=float)
    eid, src, tgt, cost, rcost = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2].astype(np.int64), \
        a[:, 3], a[:, 4]
    nodes = np.unique(np.concatenate([src, tgt]))
    s, t = np.searchsorted(nodes, src), np.searchsorted(nodes, tgt)
    fwd, bwd = cost >= 0, rcost >= 0
    rows_ = np.concatenate([s[fwd], t[bwd]])
    cols = np.concatenate([t[fwd], s[bwd]])
    w = np.maximum(np.concatenate([cost[fwd], rcost[bwd]]), 1e-6)  # scipy drops explicit zeros
    n = len(nodes)
    return Graph(nodes, eid, s, t, csr_matrix((w, (rows_, cols)), shape=(n, n)),
                 strong_components(src, tgt, cost, rcost))


def strongly_connected(g: Graph) -> dict[str, Any]:
    """Component sizes and the edges outside the largest strongly connected component."""
    c = g.components
    if len(g.node_ids) == 0:
        return {"components": 0, "sizes": [], "largest_share": None, "trap_edges": 0, "traps": [],
                "trap_edge_ids": []}
    trap = ~c.edge_in_largest
    return {"components": c.count, "sizes": c.sizes_desc()[:10],
            "largest_share": round(float(c.sizes[c.largest]) / len(c.node_ids), 4), "trap_edges": int(trap.sum()),
            "trap_edge_ids": [int(x) for x in g.edge_ids[trap]], "traps": []}


def report(conn: Connection) -> dict[str, Any]:
    """The readiness report of the city in the database, as data (see :func:`lines`)."""
    kel = [dict(r) for r in conn.execute(statement("app.city", "sql/city.sql", "roads_per_kelurahan")).mappings()]
    areas = dict(conn.execute(statement("app.city", "sql/city.sql", "area_counts")).mappings().one())
    g = load_graph(conn)
    scc = strongly_connected(g)
    listed = scc.pop("trap_edge_ids")[:TRAPS_LISTED]
    if listed:
        scc["traps"] = [dict(r) for r in conn.execute(statement("app.city", "sql/city.sql", "edge_facts"),
                                                      {"ids": listed}).mappings()]
    return {
        "roads": {"nodes": int(len(g.node_ids)), "edges": int(len(g.edge_ids))},
        "areas": areas,
        "kelurahan": kel,
        "kelurahan_without_roads": [k["name"] for k in kel if k["edges"] == 0],
        "stations": _stations(conn, g),
        "scc": scc,
        "places": place_counts(conn),
    }


def _stations(conn: Connection, g: Graph) -> dict[str, Any]:
    targets = {r[0]: int(r[1]) for r in conn.execute(statement("app.city", "sql/city.sql", "agency_targets"))}
    stations = [dict(r) for r in conn.execute(statement("app.city", "sql/city.sql", "stations_snapped")).mappings()]
    n = len(g.node_ids)
    by_agency: dict[str, dict[str, Any]] = {}
    for s in stations:
        target = targets.get(s["agency_code"], DEFAULT_TARGET_S)
        pos = g.position(s["node"]) if s["node"] is not None else None
        share = 0.0
        if pos is not None and n:
            dist = dijkstra(g.matrix, directed=True, indices=pos, limit=target)
            share = float(np.isfinite(dist).sum()) / n
        s.update(target_s=target, reach_share=round(share, 4), reaches_most=share >= MOST,
                 snap_m=float(s["snap_m"]) if s["snap_m"] is not None else None)
        a = by_agency.setdefault(s["agency_code"], {"stations": 0, "reaching_most": 0, "target_s": target})
        a["stations"] += 1
        a["reaching_most"] += int(share >= MOST)
    return {"by_agency": by_agency, "list": stations}


def _mmss(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def lines(rep: dict[str, Any]) -> list[str]:
    """The report as text for the terminal, each problem with what to do."""
    out = []
    r, a = rep["roads"], rep["areas"]
    out.append(f"roads: {r['nodes']:,} nodes, {r['edges']:,} edges")
    out.append(f"areas: {a['kecamatan']} kecamatan, {a['kelurahan']} kelurahan"
               + (f" ({a['kelurahan_without_kecamatan']} without a kecamatan)"
                  if a["kelurahan_without_kecamatan"] else ""))
    if rep["kelurahan"]:
        out.append("roads per kelurahan (edges, km):")
        for k in rep["kelurahan"]:
            out.append(f"  {k['name'][:28]:<28} {k['kecamatan'] or '-':<20} {k['edges']:>6} {float(k['km']):>7.1f}")
    else:
        out.append("no kelurahan loaded: incidents get no kelurahan; give --kelurahan FILE")
    if rep["kelurahan_without_roads"]:
        out.append(f"kelurahan without roads ({len(rep['kelurahan_without_roads'])}): "
                   + ", ".join(rep["kelurahan_without_roads"][:20])
                   + " -- outside the OSM extract? take a larger extract")
    st = rep["stations"]
    if not st["list"]:
        out.append("no stations: nearest units cannot be found; give --stations FILE (or map them in OSM)")
    for agency, s in sorted(st["by_agency"].items()):
        out.append(f"stations {agency}: {s['stations']}, {s['reaching_most']} reach most of the city "
                   f"within {_mmss(s['target_s'])}")
    for s in st["list"]:
        flag = "ok" if s["reaches_most"] else "LOW"
        snap = f", {s['snap_m']:.0f} m from the road" if s["snap_m"] and s["snap_m"] > 100 else ""
        out.append(f"  {s['agency_code']:<7} {s['name'][:32]:<32} reaches {s['reach_share']:>6.1%} "
                   f"in {_mmss(s['target_s'])} [{flag}]{snap}")
    c = rep["scc"]
    out.append(f"strongly connected components: {c['components']}, sizes {c['sizes']}"
               + (f"; largest holds {c['largest_share']:.1%} of nodes" if c["largest_share"] is not None else ""))
    if c["trap_edges"]:
        out.append(f"trap edges (outside the largest component; a unit there cannot drive back): {c['trap_edges']}")
        for t in c["traps"]:
            out.append(f"  edge {t['id']} {t['name'] or '(no name)'} {t['highway']} osm way {t['osm_id'] or '-'} "
                       f"at {t['lat']},{t['lon']}")
    places = rep["places"]
    out.append("places for the geocoder: " + (", ".join(f"{k} {v}" for k, v in sorted(places.items())) or "none"))
    return out
