"""Names a caller may say, from the city's own data: the ``places`` the geocoder searches.

A call-taker types what the caller says first ("jl usaha i dkt pasar pleburan"),
so after a real import the geocoder needs the city's streets, landmarks and
areas, not the demo's.  Four sources, each kept in step with its data by
:func:`sync_places` (``props.source``):

* ``roads``: one place per street from ``road_edges`` (edges of one name merged,
  two far-apart streets of one name kept apart);
* ``osm``: landmarks and POIs from the OSM file (:func:`landmark_type`) and house
  numbers (``addr:housenumber`` + ``addr:street``: kind ``address``);
* ``areas``: every kelurahan and kecamatan by name;
* ``stations``: every station as a landmark.

Syncing is a difference, not a reload: rows no longer wanted are deleted, missing
ones inserted, identical ones left alone, so running an import twice changes
nothing the second time.  Places loaded by the demo (no ``source``) are left alone.
Data from OpenStreetMap is (c) OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from geodata.bulk import copy_rows, ewkb

SOURCES = ("roads", "osm", "areas", "stations")
#: Edges of one name closer than this (metres) are one street.
STREET_GAP_M = 60.0
PLACE_COLUMNS = ["kind", "name", "props", "geometry"]

_WORSHIP = {"muslim": "masjid", "christian": "gereja", "buddhist": "vihara", "hindu": "pura",
            "confucian": "klenteng", "taoist": "klenteng"}
_AMENITY = {"marketplace": "pasar", "school": "sekolah", "kindergarten": "sekolah", "college": "kampus",
            "university": "kampus", "hospital": "rumah_sakit", "fuel": "spbu", "bus_station": "terminal",
            "police": "kantor_polisi", "fire_station": "pos_damkar", "townhall": "kantor_pemerintah",
            "bank": "bank", "post_office": "kantor_pos", "ferry_terminal": "pelabuhan"}
_SHOP = {"mall": "mall", "department_store": "mall", "supermarket": "supermarket"}


def landmark_type(tags: dict[str, str]) -> str | None:
    """The kind of landmark a caller would name (masjid, pasar, sekolah, spbu...), or None.

    Only named objects count: a caller says "dekat Masjid Al-Ikhlas", never "dekat a mosque".
    """
    name = (tags.get("name") or tags.get("name:id") or "").strip()
    if not name:
        return None
    low = name.lower()
    amenity = tags.get("amenity")
    if amenity == "place_of_worship":
        if tags.get("religion") == "muslim" and any(w in low for w in ("musholla", "mushola", "musala", "langgar")):
            return "musholla"
        return _WORSHIP.get(tags.get("religion", ""), "tempat_ibadah")
    if amenity in ("clinic", "doctors"):
        return "puskesmas" if "puskesmas" in low else "klinik"
    if amenity == "townhall" or tags.get("office") == "government":
        for level in ("kelurahan", "kecamatan", "desa"):
            if level in low:
                return f"kantor_{'kelurahan' if level == 'desa' else level}"
        return "kantor_pemerintah"
    if amenity in _AMENITY:
        return _AMENITY[amenity]
    if tags.get("shop") in _SHOP:
        return _SHOP[tags["shop"]]
    if tags.get("railway") in ("station", "halt") or (tags.get("public_transport") == "station"
                                                      and tags.get("train") == "yes"):
        return "stasiun"
    if tags.get("man_made") == "bridge" or (tags.get("bridge") and tags.get("bridge:name")):
        return "jembatan"
    if tags.get("landuse") == "residential" or tags.get("place") in ("neighbourhood", "quarter"):
        return "perumahan"
    if tags.get("leisure") in ("stadium", "park"):
        return "stadion" if tags["leisure"] == "stadium" else "taman"
    if tags.get("tourism") in ("hotel", "attraction"):
        return tags["tourism"]
    return None


def landmark_row(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> dict[str, Any] | None:
    """A ``places`` row (kind landmark) for an OSM object, or None when no caller would name it."""
    kind = landmark_type(tags)
    if kind is None:
        return None
    name = tags.get("bridge:name") if kind == "jembatan" and tags.get("bridge:name") else \
        (tags.get("name") or tags.get("name:id"))
    return {"kind": "landmark", "name": name.strip(), "geometry": point,
            "props": {"source": "osm", "type": kind, "osm": f"{osm_type}/{osm_id}"}}


def address_row(tags: dict[str, str], osm_type: str, osm_id: int, point: shapely.Point) -> dict[str, Any] | None:
    """A ``places`` row (kind address) for an object with a house number on a named street."""
    number, street = (tags.get("addr:housenumber") or "").strip(), (tags.get("addr:street") or "").strip()
    if not number or not street:
        return None
    return {"kind": "address", "name": f"{street} {number}", "geometry": point,
            "props": {"source": "osm", "street": street, "housenumber": number, "osm": f"{osm_type}/{osm_id}"}}


def empty_places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": [], "name": [], "props": []}, geometry=[], crs=4326)


def sync_places(conn: Connection, epsg: int, osm: gpd.GeoDataFrame | None = None,
                sources: tuple[str, ...] = ("roads", "areas", "stations"),
                osm_append: bool = False) -> dict[str, dict[str, int]]:
    """Bring the places of ``sources`` in line with their data (caller's transaction).

    ``osm`` (landmarks and addresses read from the OSM file) replaces the ``osm``
    places when given, or is added to them with ``osm_append`` (a neighbouring
    extract); ``None`` leaves them as they are.  Returns, per source, how many
    places were deleted and inserted.
    """
    from app.db.sqlfiles import statement  # here, not at the top: reading a file needs no database stack

    todo = [*sources, *(("osm",) if osm is not None else ())]
    out: dict[str, dict[str, int]] = {}
    conn.execute(statement("geodata.importers", "sql/places.sql", "create_want"))
    for source in todo:
        conn.execute(text("TRUNCATE _want_places"))
        if source == "roads":
            conn.execute(statement("geodata.importers", "sql/places.sql", "want_streets"),
                         {"epsg": epsg, "gap_m": STREET_GAP_M})
        elif source == "areas":
            conn.execute(statement("geodata.importers", "sql/places.sql", "want_areas"))
        elif source == "stations":
            conn.execute(statement("geodata.importers", "sql/places.sql", "want_stations"))
        elif source == "osm":
            rows = ([r["kind"], r["name"], json.dumps(r["props"], ensure_ascii=False, sort_keys=True), ewkb(g)]
                    for r, g in zip(osm[["kind", "name", "props"]].to_dict("records"), osm.geometry, strict=True))
            copy_rows(conn, "_want_places", ["kind", "name", "props", "geom"], rows)
            conn.execute(statement("geodata.importers", "sql/places.sql", "want_osm_area_ids"))
        else:
            raise ValueError(f"unknown place source {source!r}")
        deleted = 0 if source == "osm" and osm_append else conn.execute(
            statement("geodata.importers", "sql/places.sql", "sync_delete"), {"source": source}).rowcount
        inserted = conn.execute(statement("geodata.importers", "sql/places.sql", "sync_insert"),
                                {"source": source}).rowcount
        out[source] = {"deleted": deleted, "inserted": inserted}
    return out


def place_counts(conn: Connection) -> dict[str, int]:
    from app.db.sqlfiles import statement
    """Places by kind, landmarks by type ("landmark:masjid"), for the readiness report."""
    counts: dict[str, int] = {}
    for kind, typ, n in conn.execute(statement("geodata.importers", "sql/places.sql", "counts")):
        key = f"landmark:{typ}" if kind == "landmark" else kind
        counts[key] = counts.get(key, 0) + int(n)
    return counts
