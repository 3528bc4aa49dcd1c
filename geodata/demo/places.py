"""Names a caller may say: streets, landmarks (pasar, masjid, SD, RS, terminal...), kelurahan.

These feed the geocoder (``places`` table, trigram index), so every street of
the network appears once with its whole geometry, and landmarks stand beside
a road node, like the buildings they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from geodata.demo import names as N
from geodata.demo.network import CLASS_NAMES, Network, Terrain
from geodata.demo.stations import Locator


def street_places(net: Network, loc: Locator) -> pd.DataFrame:
    e = net.edges
    st = net.streets
    order = np.argsort(e["street"].to_numpy(), kind="stable")
    geoms = shapely.multilinestrings(net.geoms[order], indices=e["street"].to_numpy()[order])
    first_node = e.groupby("street")["source"].first().reindex(range(len(st))).to_numpy()
    props = [{"highway": ["primary", "secondary", "residential", "service"][c], "class": CLASS_NAMES[c],
              "oneway": bool(d != 0), "tree_lined": bool(t)}
             for c, d, t in zip(st["cls"], st["direction"], st["tree_lined"], strict=True)]
    return pd.DataFrame({"kind": "street", "name": st["name"].to_numpy(), "area": loc.node_kel[first_node],
                         "props": props, "geom": geoms})


def build_places(terrain: Terrain, net: Network, areas: pd.DataFrame, loc: Locator, stations: pd.DataFrame,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Streets, landmarks (including every station), kecamatan and kelurahan, geometry in metres."""
    rows: list[dict] = []

    def landmark(kind: str, name: str, xy: np.ndarray, major: bool = False) -> None:
        node = loc.node(np.asarray(xy, float), major=major)
        rows.append(dict(kind="landmark", name=name, area=int(loc.node_kel[node]),
                         props={"type": kind, "address": loc.node_street[node]},
                         geom=Point(loc.beside(node, rng, 25.0))))

    kel = areas[areas["level"] == "kelurahan"]
    kec = areas[areas["level"] == "kecamatan"]
    for _, a in kel.iterrows():
        p = np.asarray(a["geom"].representative_point().coords[0])
        landmark("kantor_kelurahan", f"Kantor Kelurahan {a['name']}", p)
        landmark("masjid", f"Masjid {N.MOSQUES[rng.integers(len(N.MOSQUES))]} {a['name']}",
                 p + rng.normal(0, 120, 2))
        landmark("sekolah", f"SD Negeri {a['name']} {rng.integers(1, 4):02d}", p + rng.normal(0, 150, 2))
    for k, (_, a) in enumerate(kec.iterrows()):
        p = np.asarray(a["geom"].representative_point().coords[0])
        members = kel[kel["parent"] == a.name]
        pasar_of = members.iloc[int(rng.integers(len(members)))]
        landmark("kantor_kecamatan", f"Kantor Kecamatan {a['name']}", p, major=True)
        landmark("pasar", f"Pasar {pasar_of['name']}", p + rng.normal(0, 300, 2), major=True)
        landmark("sekolah", f"SMP Negeri {k + 1} Kota Contoh", p + rng.normal(0, 300, 2))
        landmark("gereja", f"Gereja {['Santo Yusuf', 'GKJ', 'GPIB Immanuel', 'Santa Maria'][k % 4]} "
                 f"{a['name'].removeprefix('Contoh ')}", p + rng.normal(0, 300, 2))
    w, h = terrain.width, terrain.height
    cx = float(np.mean([np.asarray(g.centroid.coords[0]) for g in kec["geom"]], axis=0)[0])
    rail_x = rng.uniform(0.35, 0.65) * w
    mouth_x = float(terrain.river_x(0, np.array([0.85 * h]))[0])
    mouth_y = float(terrain.coast_y(np.array([mouth_x]))[0])
    city = [
        ("balai_kota", "Balai Kota Contoh", [cx, 0.5 * h]),
        ("alun_alun", "Alun-alun Kota Contoh", [cx + 200, 0.5 * h - 150]),
        ("pasar", "Pasar Induk Kota Contoh", [cx - 350, 0.55 * h]),
        ("terminal", "Terminal Bus Contoh", [rng.uniform(0.2, 0.8) * w, 0.2 * h]),
        ("stasiun", "Stasiun Contoh", [rail_x, float(terrain.rail_y(np.array([rail_x]))[0]) + 40]),
        ("pelabuhan", "Pelabuhan Tanjung Contoh", [mouth_x + 300, mouth_y - 150]),
        ("stadion", "Stadion Citarum Contoh", [rng.uniform(0.2, 0.8) * w, 0.35 * h]),
        ("mall", "Contoh Town Square", [cx + 500, 0.45 * h]),
        ("klenteng", "Klenteng Kwan Im Contoh", [mouth_x - 250, mouth_y - 600]),
        ("universitas", "Universitas Negeri Contoh", [rng.uniform(0.2, 0.8) * w, 0.12 * h]),
    ]
    for kind, name, xy in city:
        landmark(kind, name, np.asarray(xy), major=True)
    for _, s in stations.iterrows():
        node = int(s["node"])
        rows.append(dict(kind="landmark", name=s["name"], area=int(loc.node_kel[node]),
                         props={"type": s["kind"], "agency": s["agency_code"], "address": s["address"]},
                         geom=Point(s["xy"])))
    for level in ("kecamatan", "kelurahan"):
        sub = areas[areas["level"] == level]
        for idx, a in sub.iterrows():
            rows.append(dict(kind=level, name=a["name"], area=int(idx), props={"code": a["code"]},
                             geom=a["geom"]))
    return pd.concat([street_places(net, loc), pd.DataFrame(rows)], ignore_index=True)
