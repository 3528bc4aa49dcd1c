"""``city setup``: replace the previous city by a new one, in one transaction.

What goes: roads, places, areas (with their flood states) and the stations of the
previous city, with their units when those never served a call; units with a
history stay for that history, out of service and without a station.  A station
with a unit on a call right now stays, and is reported: the running call is not
pulled from under a dispatcher.  Incidents stay (they are the city's history).

What comes: the OSM extract's roads, stations, landmarks and addresses; the
kecamatan and kelurahan files (BIG/Dukcapil fields are detected); the stations CSV;
the places the geocoder searches; the profile (UTM zone, time zone).  Missing
optional files are reported, not refused.  The caller decides whether to commit:
``--check`` runs all of it and rolls back.

A re-run with the same files changes nothing: areas are matched by their natural key
(code, or name and parent), stations by OSM id or by agency, name and place, places
by their content, so what is already there keeps its id (incidents keep their
kelurahan, units their station); only what the new files no longer hold goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import Connection, text

from app.city import profile as profiles
from app.city import readiness
from app.db.sqlfiles import statement
from geodata.importers.common import Progress, no_progress
from geodata.importers.network import Network, load_network
from geodata.importers.places import SOURCES as PLACE_SOURCES
from geodata.importers.places import sync_places


@dataclass
class CityFiles:
    osm: Path
    kelurahan: Path | None = None
    kecamatan: Path | None = None
    stations: Path | None = None
    #: --name-field / --parent-field / --code-field for the boundary files (None: detected).
    area_fields: dict[str, str | None] = field(default_factory=dict)


@dataclass
class SetupResult:
    profile: profiles.Profile
    counts: dict[str, Any]
    report: dict[str, Any]
    missing: list[str]
    #: False when a re-run found the stored profile as it was (its ``set_up_at`` kept).
    profile_changed: bool = True


def clear_stations(conn: Connection, outside: str | None = None, margin_m: float = 5000.0,
                   keep: list[int] | None = None) -> dict[str, int]:
    """Remove the previous city's stations (all but ``keep``, or those farther than ``margin_m``
    from the WKT polygon ``outside``), never one with a unit on a call; see the module docstring
    for units."""
    live = [r[0] for r in conn.execute(statement("app.city", "sql/city.sql", "live_units"))]
    ids = [r[0] for r in conn.execute(statement("app.city", "sql/city.sql", "stations_to_clear"),
                                      {"live": live, "outside_only": outside is not None,
                                       "extent": outside or "POLYGON EMPTY", "margin_m": margin_m})
           if r[0] not in set(keep or ())]
    if not ids:
        return {"stations": 0, "units_deleted": 0, "units_retired": 0}
    deleted = conn.execute(statement("app.city", "sql/city.sql", "delete_units_without_history"),
                           {"stations": ids}).rowcount
    retired = conn.execute(statement("app.city", "sql/city.sql", "retire_units"), {"stations": ids}).rowcount
    n = conn.execute(statement("app.city", "sql/city.sql", "delete_stations"), {"stations": ids}).rowcount
    return {"stations": n, "units_deleted": deleted, "units_retired": retired}


def network_extent(net: Network) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = (float(v) for v in net.nodes.total_bounds)
    return xmin, ymin, xmax, ymax


def _stations_kept(conn: Connection, net: Network, stations_file: Path | None) -> list[int]:
    """Ids of the stations already in the database that the new files hold again: the same OSM
    object, or the same agency and name at the same place as a row of the stations file."""
    from geodata.importers.stations import SAME_PLACE_DEG, read_stations

    keep: list[int] = []
    osm_keys = {(int(o), (p or {}).get("osm_type")) for o, p in zip(net.stations["osm_id"], net.stations["props"],
                                                                     strict=True) if pd.notna(o)}
    file_rows = read_stations(conn, stations_file) if stations_file is not None else None
    by_name: dict[tuple[str, str], list[Any]] = {}
    if file_rows is not None:
        for a, n, g in zip(file_rows["agency_code"], file_rows["name"], file_rows.geometry, strict=True):
            by_name.setdefault((a, n), []).append(g)
    for sid, osm_id, osm_type, agency, name, wkb in conn.execute(text(
            "SELECT id, osm_id, props->>'osm_type', agency_code, name, encode(ST_AsBinary(geom), 'hex') "
            "FROM stations")):
        if osm_id is not None and (int(osm_id), osm_type) in osm_keys:
            keep.append(sid)
        elif (agency, name) in by_name:
            here = shapely.from_wkb(bytes.fromhex(wkb))
            if any(here.distance(g) < SAME_PLACE_DEG for g in by_name[(agency, name)]):
                keep.append(sid)
    return keep


def setup_city(conn: Connection, net: Network, files: CityFiles, name: str | None = None,
               utm_epsg: int | None = None, timezone: str | None = None,
               progress: Progress = no_progress) -> SetupResult:
    """Replace the city in the database by ``net`` plus the optional files (caller's transaction)."""
    from geodata.importers.areas import import_areas
    from geodata.importers.stations import import_stations

    prof = profiles.pick(network_extent(net), name or files.osm.name.split(".")[0], utm_epsg, timezone)
    conn.execute(text("LOCK TABLE road_nodes, road_edges, stations, places, admin_areas IN SHARE ROW EXCLUSIVE MODE"))
    previous: dict[str, int] = {
        # places no import keeps in step (typed in by hand, a demo city's) belong to the previous city
        "places": conn.execute(statement("app.city", "sql/city.sql", "delete_unmanaged_places"),
                               {"sources": list(PLACE_SOURCES)}).rowcount,
        **clear_stations(conn, keep=_stations_kept(conn, net, files.stations)),
        "areas": 0,
    }
    counts: dict[str, Any] = {"previous": previous}
    # The roads are rewritten whole (ids from 1 in the file's order: the same file gives the same
    # rows); of the OSM stations only those not kept above are added.
    counts["network"] = load_network(conn, net, replace=True, progress=progress, clear_osm_stations=False)
    missing = []
    f = files.area_fields
    for level, path in (("kecamatan", files.kecamatan), ("kelurahan", files.kelurahan)):
        keep: list[int] = []
        if path is None:
            missing.append(f"--{level}: no {level} boundaries (incidents get no {level}; "
                           f"analytics per {level} are empty)")
        else:
            counts[level] = import_areas(conn, path, level, name_field=f.get(f"{level}_name"),
                                         code_field=f.get(f"{level}_code"),
                                         parent_field=f.get("parent") if level == "kelurahan" else None,
                                         progress=progress)
            keep = counts[level].pop("ids")
        # areas of this level the file does not hold are the previous city's; deleted before the
        # kelurahan are read, so a kelurahan never finds a kecamatan of the previous city by name
        previous["areas"] += conn.execute(text("DELETE FROM admin_areas WHERE level = :level AND id <> ALL(:keep)"),
                                          {"level": level, "keep": keep}).rowcount
    if files.stations is not None:
        counts["stations"] = import_stations(conn, files.stations, progress=progress)
    elif len(net.stations) == 0:
        missing.append("--stations: no stations in the OSM extract and no stations file")
    counts["places"] = sync_places(conn, prof.utm_epsg, osm=net.places)
    previous["places"] += sum(v["deleted"] for v in counts["places"].values())
    rep = readiness.report(conn)
    sources = {k: str(v) for k, v in (("osm", files.osm), ("kelurahan", files.kelurahan),
                                      ("kecamatan", files.kecamatan), ("stations", files.stations)) if v}
    changed = profiles.save(conn, prof, sources, rep)
    return SetupResult(prof, counts, rep, missing, changed)
