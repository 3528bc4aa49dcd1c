"""Stations and units of every agency (OPD) seeded by migration 0002.

Unit types of the agencies that appear in a category's ``response_plan``
(DAMKAR fire_engine/rescue_unit, DINKES ambulance/hearse, POLRI patrol_car,
BPBD rescue_boat/rescue_truck) match those plans exactly, so the dispatcher
always finds a unit of the requested type.  The other agencies get their own
types: PU utility_truck/skylift, DLH dlh_truck, SATPOLPP satpolpp_patrol, DINSOS
dinsos_van, PMI blood_van, BNN bnn_team, DISHUB tow_truck/dishub_patrol,
PLN pln_crew.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geodata.demo import names as N
from geodata.demo.frame import ScaleSpec
from geodata.demo.network import Network, Terrain


@dataclass
class Locator:
    """Snap wanted positions to road nodes, so every station and landmark is reachable by road."""

    net: Network
    node_kel: np.ndarray  # area row index (kelurahan) of every node
    node_street: np.ndarray  # best street name at every node

    def __post_init__(self) -> None:
        e = self.net.edges
        major = np.zeros(len(self.net.node_xy), bool)
        big = e["cls"].to_numpy() <= 1
        major[e["source"].to_numpy()[big]] = True
        major[e["target"].to_numpy()[big]] = True
        self.major = np.flatnonzero(major)
        self._all = cKDTree(self.net.node_xy)
        self._major = cKDTree(self.net.node_xy[self.major])

    def node(self, xy: np.ndarray, major: bool = False) -> int:
        if major:
            return int(self.major[self._major.query(xy)[1]])
        return int(self._all.query(xy)[1])

    def beside(self, node: int, rng: np.random.Generator, dist: float = 18.0) -> np.ndarray:
        """A point next to the road at ``node`` (a building, not the middle of the street)."""
        ang = rng.uniform(0, 2 * np.pi)
        return self.net.node_xy[node] + dist * np.array([np.cos(ang), np.sin(ang)])


def node_streets(net: Network) -> np.ndarray:
    """Name of the most important street through each node (for addresses)."""
    e = net.edges
    n = np.concatenate([e["source"].to_numpy(), e["target"].to_numpy()])
    c = np.concatenate([e["cls"].to_numpy(), e["cls"].to_numpy()])
    nm = np.concatenate([e["name"].to_numpy(), e["name"].to_numpy()])
    order = np.lexsort((c, n))
    first = np.ones(len(order), bool)
    first[1:] = n[order][1:] != n[order][:-1]
    out = np.empty(len(net.node_xy), dtype=object)
    out[n[order][first]] = nm[order][first]
    return out


def address(loc: Locator, areas: pd.DataFrame, node: int, number: int | None = None) -> str:
    kel = areas.iloc[int(loc.node_kel[node])]
    kec = areas.iloc[int(kel["parent"])]
    street = loc.node_street[node] + (f" No. {number}" if number else "")
    return f"{street}, Kel. {kel['name']}, Kec. {kec['name']}"


def build_stations(spec: ScaleSpec, terrain: Terrain, areas: pd.DataFrame, loc: Locator,
                   rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stations (with the node they stand at) and their units; units start available or out of service."""
    kec = areas[areas["level"] == "kecamatan"]
    kec_pts = np.array([np.asarray(g.representative_point().coords[0]) for g in kec["geom"]])
    centre_kec = int(np.argmin(np.hypot(*(kec_pts - kec_pts.mean(axis=0)).T)))
    centre = kec_pts[centre_kec]
    w, h = terrain.width, terrain.height
    rows: list[dict] = []

    def add(agency: str, kind: str, name: str, xy: np.ndarray, units: list[tuple[str, int]],
            major: bool = True) -> None:
        node = loc.node(np.asarray(xy, float), major=major)
        rows.append(dict(agency_code=agency, kind=kind, name=name, node=node, xy=loc.beside(node, rng),
                         address=address(loc, areas, node, int(rng.integers(1, 200))), units=units))

    def spread(k: int) -> np.ndarray:
        return rng.uniform([0.1 * w, 0.1 * h], [0.9 * w, 0.7 * h], (k, 2))

    small = spec.name == "small"
    add("DAMKAR", "fire_station", "Markas Damkar Kota Contoh", centre + [150, -150],
        [("fire_engine", 3), ("rescue_unit", 2)])
    add("DINKES", "ambulance_post", "PSC 119 Kota Contoh", centre + [-200, 100], [("ambulance", 3), ("hearse", 1)])
    add("POLRI", "police_post", "Polrestabes Kota Contoh", centre + [250, 200], [("patrol_car", 4)])
    for k, (_, a) in enumerate(kec.iterrows()):
        kec_name = a["name"]
        if k != centre_kec:
            add("DAMKAR", "fire_station", f"Pos Damkar {kec_name}", kec_pts[k],
                [("fire_engine", 1 if small else 2), ("rescue_unit", 1)])
        add("DINKES", "puskesmas", f"Puskesmas {kec_name}", kec_pts[k] + rng.normal(0, 150, 2), [("ambulance", 1)],
            major=False)
        add("POLRI", "police_post", f"Polsek {kec_name}", kec_pts[k] + rng.normal(0, 200, 2), [("patrol_car", 2)])
    for name, xy in zip(N.HOSPITALS[: spec.hospitals], spread(spec.hospitals), strict=False):
        add("DINKES", "hospital", name, xy, [("ambulance", 2), ("hearse", 1)])
    for k, xy in enumerate(spread(spec.police_posts)):
        add("POLRI", "police_post", f"Pos Polisi {k + 1}", xy, [("patrol_car", 1)])
    y_low = float(terrain.coast_y(np.array([terrain.river_x(0, np.array([0.75 * h]))[0]]))[0]) - 0.2 * h
    x_low = float(terrain.river_x(0, np.array([y_low]))[0]) + 120
    add("BPBD", "bpbd_post", "Pusdalops BPBD Kota Contoh", [x_low, y_low], [("rescue_boat", 2), ("rescue_truck", 2)])
    if not small:
        xc = 0.7 * w
        add("BPBD", "bpbd_post", "Pos BPBD Pesisir", [xc, float(terrain.coast_y(np.array([xc]))[0]) - 250],
            [("rescue_boat", 2), ("rescue_truck", 1)])
    add("PU", "pu_depot", "Depo UPTD PJU Dinas PU", spread(1)[0], [("utility_truck", 2), ("skylift", 1)])
    add("DLH", "dlh_depot", "Depo Dinas Lingkungan Hidup", spread(1)[0], [("dlh_truck", 2)])
    add("SATPOLPP", "satpolpp_office", "Markas Satpol PP Kota Contoh", centre + [-100, -250],
        [("satpolpp_patrol", 3)])
    add("DINSOS", "dinsos_office", "Kantor Dinas Sosial", centre + [300, -50], [("dinsos_van", 1)])
    add("PMI", "pmi_blood_unit", "UDD PMI Kota Contoh", centre + [-300, -200], [("blood_van", 2)])
    add("BNN", "bnn_office", "BNN Kota Contoh", spread(1)[0], [("bnn_team", 1)])
    add("DISHUB", "dishub_post", "Pos Dishub Kota Contoh", spread(1)[0], [("tow_truck", 1), ("dishub_patrol", 1)])
    add("PLN", "pln_post", "PLN ULP Kota Contoh", spread(1)[0], [("pln_crew", 2)])

    stations = pd.DataFrame(rows)
    units: list[dict] = []
    counters: dict[str, int] = {}
    for sid, st in stations.iterrows():
        for unit_type, count in st["units"]:
            for _ in range(count):
                counters[st["agency_code"]] = counters.get(st["agency_code"], 0) + 1
                units.append(dict(station=sid, agency_code=st["agency_code"], unit_type=unit_type,
                                  callsign=f"{st['agency_code']}-{counters[st['agency_code']]:02d}"))
    u = pd.DataFrame(units)
    u["status"] = np.where(rng.random(len(u)) < 0.07, "out_of_service", "available")
    u["xy"] = [tuple(stations.at[s, "xy"]) for s in u["station"]]
    u["incident"] = -1  # row index into incidents for units busy on an open incident
    return stations.drop(columns="units"), u
