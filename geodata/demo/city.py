"""``generate()``: the whole demo city as data frames, ready for ``load()`` or a notebook."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from app.incidents.lifecycle import INCIDENT_OPEN
from geodata.demo.areas import build_areas
from geodata.demo.calls import build_calls
from geodata.demo.catalog import seed_catalog
from geodata.demo.frame import CENTRE_LONLAT, SCALES, UTM_EPSG, Frame, rng_for
from geodata.demo.history import Context, build_history, history_window
from geodata.demo.network import RIVER_NAMES, build_network, make_terrain
from geodata.demo.places import build_places
from geodata.demo.stations import Locator, build_stations, node_streets

GENERATOR_VERSION = 1
Progress = Callable[[str], None]


@dataclass
class DemoCity:
    """Every table of the demo city, with 1-based ids as they will be loaded, geometry in EPSG:4326.

    ``manifest`` is the planted ground truth (JSON-ready) that analytics must find.
    """

    seed: int
    scale: str
    years: float
    until: datetime
    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    admin_areas: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    incident_tasks: pd.DataFrame
    incident_events: pd.DataFrame
    assignments: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    calls: pd.DataFrame | None = None  # every contact with the centre (geodata/demo/calls.py)
    land: Any = None  # shapely Polygon of the city's land, EPSG:4326 (what the kelurahan tile)

    TABLES = ("admin_areas", "road_nodes", "road_edges", "places", "stations", "incidents", "units",
              "incident_tasks", "assignments", "incident_events", "calls")

    def frames(self) -> dict[str, pd.DataFrame]:
        return {t: getattr(self, t) for t in self.TABLES if getattr(self, t) is not None}

    def fingerprint(self) -> str:
        """SHA-256 of every table's content: equal fingerprints mean identical data."""
        h = hashlib.sha256()
        for name, df in self.frames().items():
            h.update(name.encode())
            h.update(pd.util.hash_pandas_object(_hashable(df), index=True).to_numpy().tobytes())
        return h.hexdigest()


def _hashable(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, gpd.array.GeometryDtype):
            out[c] = shapely.to_wkb(col.to_numpy(), hex=True)
        elif col.dtype == object:
            out[c] = col.map(lambda v: json.dumps(v, sort_keys=True) if isinstance(v, dict) else repr(v))
        else:
            out[c] = col
    return pd.DataFrame(out, index=df.index)


def _until(until: date | datetime | None) -> datetime:
    """End instant (UTC): a date means its midnight; nothing means now, to the hour."""
    if until is None:
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if isinstance(until, datetime):
        return until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC)
    return datetime.combine(until, time(0), tzinfo=UTC)


def generate(seed: int = 112, scale: str = "city", years: float = 2.0, until: date | datetime | None = None,
             progress: Progress | None = None) -> DemoCity:
    """Build Kota Contoh deterministically: same seed, scale, years and until give identical data."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if not years > 0:
        raise ValueError("years must be positive")
    say = progress or (lambda _msg: None)
    spec = SCALES[scale]
    end = _until(until)
    start, end = history_window(end, years)
    catalog = seed_catalog()

    terrain = make_terrain(spec, rng_for(seed, "terrain"))
    frame = Frame(terrain.width, terrain.height)
    net = build_network(spec, terrain, rng_for(seed, "network"))
    say(f"road network: {len(net.node_xy)} nodes, {len(net.edges)} edges "
        f"({net.directed_edge_count} directed)")
    areas = build_areas(spec, terrain, rng_for(seed, "areas"))
    kel_rows = np.flatnonzero(areas["level"].to_numpy() == "kelurahan")
    tree = shapely.STRtree(areas["geom"].to_numpy()[kel_rows])
    node_pts = shapely.points(net.node_xy)
    node_kel = kel_rows[tree.query_nearest(node_pts, all_matches=False)[1]]
    loc = Locator(net, node_kel, node_streets(net))
    say(f"areas: {len(areas) - len(kel_rows)} kecamatan, {len(kel_rows)} kelurahan")
    stations, units = build_stations(spec, terrain, areas, loc, rng_for(seed, "stations"))
    places = build_places(terrain, net, areas, loc, stations, rng_for(seed, "places"))
    extra = [dict(kind="waterway", name=RIVER_NAMES[k], area=-1, props={"type": "river"},
                  geom=terrain.river_line(k)) for k in range(spec.rivers)]
    extra.append(dict(kind="railway", name="Rel Kereta Api Contoh", area=-1, props={"type": "railway"},
                      geom=shapely.intersection(terrain.railway, terrain.land)))
    places = pd.concat([places, pd.DataFrame(extra)], ignore_index=True)
    say(f"stations: {len(stations)}, units: {len(units)}, places: {len(places)}")
    ctx = Context(spec, terrain, net, areas, loc, places, stations, units, catalog)
    hist = build_history(ctx, start, end, rng_for(seed, "history"))
    say(f"history: {len(hist.incidents)} incidents, {len(hist.tasks)} tasks, {len(hist.events)} events")

    city = _assemble(seed, scale, years, end, frame, terrain, net, areas, places, stations, hist)
    city.calls = build_calls(city.incidents, city.incident_events, hist.truth["prank_repeat_numbers"],
                             start.timestamp(), end.timestamp(), rng_for(seed, "calls"))
    say(f"calls: {len(city.calls)} contacts, {int(city.calls['incident_id'].notna().sum())} about incidents")
    city.manifest = _manifest(city, spec, frame, terrain, net, hist.truth, start)
    city.land = frame.to_wgs84(np.array([terrain.land], dtype=object))[0]
    return city


def _assemble(seed, scale, years, end, frame, terrain, net, areas, places, stations, hist) -> DemoCity:  # noqa: ANN001
    crs = "EPSG:4326"
    lon, lat = frame.lonlat(net.node_xy[:, 0], net.node_xy[:, 1])
    nodes = gpd.GeoDataFrame({"id": np.arange(1, len(lon) + 1)}, geometry=shapely.points(lon, lat), crs=crs)
    e = net.edges
    props = [({"bridge": True} if b else {"level_crossing": True} if lc else {}) | ({"tree_lined": True} if t else {})
             for b, lc, t in zip(e["bridge"], e["level_crossing"], e["tree_lined"], strict=True)]
    edges = gpd.GeoDataFrame({
        "id": np.arange(1, len(e) + 1), "source": e["source"].to_numpy() + 1, "target": e["target"].to_numpy() + 1,
        "name": e["name"].to_numpy(), "highway": e["highway"].to_numpy(), "oneway": e["oneway"].to_numpy(),
        "length_m": e["length_m"].round(2).to_numpy(), "speed_kmh": e["speed_kmh"].to_numpy(),
        "cost": e["cost"].round(3).to_numpy(),
        "reverse_cost": np.where(e["oneway"], -1.0, e["cost"].round(3)), "props": props,
    }, geometry=frame.to_wgs84(net.geoms), crs=crs)

    parent = areas["parent"].to_numpy()
    admin = gpd.GeoDataFrame({
        "id": np.arange(1, len(areas) + 1), "level": areas["level"].to_numpy(), "code": areas["code"].to_numpy(),
        "name": areas["name"].to_numpy(), "parent_id": pd.array(np.where(parent >= 0, parent + 1, 0), "Int64"),
        "population": areas["population"].to_numpy(), "props": areas["props"].to_numpy(),
    }, geometry=[MultiPolygon(g) if g.geom_type == "MultiPolygon" else MultiPolygon([g])
                 for g in frame.to_wgs84(areas["geom"].to_numpy())], crs=crs)
    admin.loc[parent < 0, "parent_id"] = pd.NA

    area = places["area"].to_numpy()
    place_gdf = gpd.GeoDataFrame({
        "id": np.arange(1, len(places) + 1), "kind": places["kind"].to_numpy(), "name": places["name"].to_numpy(),
        "area_id": pd.array(np.where(area >= 0, area + 1, 0), "Int64"), "props": places["props"].to_numpy(),
    }, geometry=frame.to_wgs84(places["geom"].to_numpy()), crs=crs)
    place_gdf.loc[area < 0, "area_id"] = pd.NA

    sxy = np.vstack(stations["xy"].to_numpy())
    slon, slat = frame.lonlat(sxy[:, 0], sxy[:, 1])
    st_gdf = gpd.GeoDataFrame({
        "id": np.arange(1, len(stations) + 1), "agency_code": stations["agency_code"].to_numpy(),
        "kind": stations["kind"].to_numpy(), "name": stations["name"].to_numpy(),
        "address": stations["address"].to_numpy(),
        "props": [{"node_id": int(nd) + 1} for nd in stations["node"]],
    }, geometry=shapely.points(slon, slat), crs=crs)

    inc = hist.incidents
    ilon, ilat = frame.lonlat(inc["x"].to_numpy(), inc["y"].to_numpy())
    inc_gdf = gpd.GeoDataFrame(inc.drop(columns=["x", "y", "kel", "kec"]), geometry=shapely.points(ilon, ilat),
                               crs=crs)
    inc_gdf.insert(0, "id", np.arange(1, len(inc) + 1))
    inc_gdf.insert(6, "kelurahan_id", inc["kel"].to_numpy() + 1)
    inc_gdf.insert(7, "kecamatan_id", inc["kec"].to_numpy() + 1)

    u = hist.units
    uxy = np.array([list(p) for p in u["xy"]])
    ulon, ulat = frame.lonlat(uxy[:, 0], uxy[:, 1])
    busy = u["incident"].to_numpy()
    units = gpd.GeoDataFrame({
        "id": np.arange(1, len(u) + 1), "station_id": u["station"].to_numpy() + 1,
        "agency_code": u["agency_code"].to_numpy(), "callsign": u["callsign"].to_numpy(),
        "unit_type": u["unit_type"].to_numpy(), "status": u["status"].to_numpy(),
        "current_incident_id": pd.array(np.where(busy >= 0, busy + 1, 0), "Int64"),
        "position_at": pd.Series([end] * len(u), dtype="datetime64[ms, UTC]"),
    }, geometry=shapely.points(ulon, ulat), crs=crs)
    units.loc[busy < 0, "current_incident_id"] = pd.NA

    t = hist.tasks
    tasks = t.drop(columns=["incident"])
    tasks.insert(0, "id", np.arange(1, len(t) + 1))
    tasks.insert(1, "incident_id", t["incident"].to_numpy() + 1)
    ev = hist.events
    events = ev.drop(columns=["incident"])
    events.insert(0, "id", np.arange(1, len(ev) + 1))
    events.insert(1, "incident_id", ev["incident"].to_numpy() + 1)
    a = hist.assignments
    assignments = pd.DataFrame({
        "id": np.arange(1, len(a) + 1), "incident_id": a["incident"].to_numpy() + 1,
        "unit_id": a["unit"].to_numpy() + 1,
        "task_id": pd.array(np.where(a["task"].to_numpy() >= 0, a["task"].to_numpy() + 1, 0), "Int64"),
        "eta_s": a["eta_s"].to_numpy(), "assigned_at": pd.to_datetime(a["assigned_at"], utc=True),
        "released_at": pd.Series([pd.NaT] * len(a), dtype="datetime64[ms, UTC]"), "actor": a["actor"].to_numpy(),
    })
    assignments.loc[a["task"].to_numpy() < 0, "task_id"] = pd.NA
    return DemoCity(seed, scale, years, end, nodes, edges, admin, place_gdf, st_gdf, units, inc_gdf, tasks,
                    events, assignments)


def _manifest(city: DemoCity, spec, frame, terrain, net, truth, start) -> dict[str, Any]:  # noqa: ANN001
    def lonlat(x: float, y: float) -> list[float]:
        lo, la = frame.lonlat(np.array([x]), np.array([y]))
        return [round(float(lo[0]), 6), round(float(la[0]), 6)]

    hotspots = [{"category": h["category"], "lon": lonlat(h["x"], h["y"])[0], "lat": lonlat(h["x"], h["y"])[1],
                 "radius_m": h["radius_m"], "share": h["share"], "planted": h["planted"]}
                for h in truth["hotspots"]]
    inc = city.incidents
    e = city.road_edges
    return {
        "generator": "peta112 demo", "generator_version": GENERATOR_VERSION,
        "seed": city.seed, "scale": city.scale, "years": city.years,
        "start": start.isoformat(), "until": city.until.isoformat(),
        "city": {"name": "Kota Contoh", "centre": list(CENTRE_LONLAT), "utm_epsg": UTM_EPSG,
                 "bbox": [round(float(v), 6) for v in e.total_bounds],
                 "rivers": list(RIVER_NAMES[: spec.rivers])},
        "hotspots": hotspots,
        "flood_prone_kelurahan": truth["flood_prone_kelurahan"],
        "rob_prone_kelurahan": truth["rob_prone_kelurahan"],
        "slow_agency": truth["slow_agency"],
        "prank_repeat_numbers": truth["prank_repeat_numbers"],
        "rainy_months": truth["rainy_months"],
        "storm_days": truth["storm_days"],
        "tree_lined_streets": sorted(set(net.streets.loc[net.streets["tree_lined"], "name"])),
        "bridges": int(net.edges["bridge"].sum()), "level_crossings": int(net.edges["level_crossing"].sum()),
        "counts": {
            "road_nodes": len(city.road_nodes), "road_edges": len(e), "directed_edges": net.directed_edge_count,
            "oneway_edges": int(e["oneway"].sum()),
            "kecamatan": int((city.admin_areas["level"] == "kecamatan").sum()),
            "kelurahan": int((city.admin_areas["level"] == "kelurahan").sum()),
            "admin_areas": len(city.admin_areas), "places": len(city.places), "stations": len(city.stations),
            "units": len(city.units), "incidents": len(inc),
            "open_incidents": int(inc["status"].isin(INCIDENT_OPEN).sum()),
            "incident_tasks": len(city.incident_tasks), "incident_events": len(city.incident_events),
            "assignments": len(city.assignments),
            "incidents_by_category": {k: int(v) for k, v in inc["category_code"].value_counts().sort_index().items()},
        },
    }
