"""Stations (fire stations, ambulance posts, hospitals, police posts, ...) from a CSV
with ``lat``/``lon`` columns or any vector file with points.

Required columns: ``agency`` (a code in ``agencies``, e.g. DAMKAR, DINKES, POLRI,
BPBD; case-insensitive), ``kind`` (fire_station, ambulance_post, hospital,
puskesmas, police_post, bpbd_post, ...) and ``name``; optional ``address`` and
``osm_id``; every other column goes to ``props``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from geodata.importers.common import (
    ImportProblem,
    Progress,
    clean_str,
    json_safe,
    no_progress,
    read_points_table,
    require_columns,
)
from geodata.importers.network import STATION_COLUMNS, load_stations

REQUIRED = ("agency", "kind", "name")
#: A station of the same agency and name within about a metre is already there (a re-run).
SAME_PLACE_DEG = 1e-5


def read_stations(conn: Connection, path: str | Path) -> gpd.GeoDataFrame:
    """Validated station rows (columns of ``STATION_COLUMNS``) from ``path``."""
    p = Path(path)
    gdf = read_points_table(p, "station")
    require_columns(p, list(gdf.columns), REQUIRED)
    # A station for an agency the city's catalog retired would dispatch for nobody.
    agencies = set(conn.execute(text("SELECT code FROM agencies WHERE retired_at IS NULL")).scalars())
    rows = []
    extra = [c for c in gdf.columns if c not in (*REQUIRED, "address", "osm_id", gdf.geometry.name)]
    for i, (rec, geom) in enumerate(zip(gdf.to_dict("records"), gdf.geometry, strict=True), start=1):
        where = f"{p}: row {i}"
        agency = (clean_str(rec["agency"]) or "").upper()
        if agency not in agencies:
            raise ImportProblem(f"{where}: unknown or retired agency code {rec['agency']!r} "
                                f"(known: {', '.join(sorted(agencies))})")
        kind = (clean_str(rec["kind"]) or "").lower().replace(" ", "_")
        name = clean_str(rec["name"])
        if not kind or not name:
            raise ImportProblem(f"{where}: empty {'kind' if not kind else 'name'}")
        osm = clean_str(rec.get("osm_id"))
        try:
            osm_id = int(float(osm)) if osm else None
        except ValueError:
            raise ImportProblem(f"{where}: osm_id {osm!r} is not a number") from None
        props = {c: json_safe(rec[c]) for c in extra if json_safe(rec[c]) is not None}
        rows.append({"agency_code": agency, "kind": kind, "name": name,
                     "address": clean_str(rec.get("address")), "osm_id": osm_id,
                     "props": props, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)[STATION_COLUMNS]


def import_stations(conn: Connection, path: str | Path, replace: bool = False,
                    progress: Progress = no_progress) -> dict[str, int]:
    """Load the stations of ``path`` (caller's transaction).  ``replace`` first deletes
    the stations that no unit belongs to (units keep their home station).  A station
    already there (same agency and name, same place) is skipped, so a re-run adds nothing."""
    st = read_stations(conn, path)
    kept = 0
    if replace:
        conn.execute(text("DELETE FROM stations s WHERE NOT EXISTS "
                          "(SELECT 1 FROM units u WHERE u.station_id = s.id)"))
        kept = int(conn.execute(text("SELECT count(*) FROM stations")).scalar())
    known = {(a, n): shapely.from_wkb(bytes.fromhex(g)) for a, n, g in conn.execute(text(
        "SELECT agency_code, name, encode(ST_AsBinary(geom), 'hex') FROM stations"))}
    same = [(a, n) in known and known[(a, n)].distance(g) < SAME_PLACE_DEG
            for a, n, g in zip(st["agency_code"], st["name"], st.geometry, strict=True)]
    n = load_stations(conn, st[[not x for x in same]], progress, skip_known_osm=False)
    return {"stations": n, "kept": kept, "skipped": sum(same)}
