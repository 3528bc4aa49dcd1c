"""``peta112 import ...``: load real city data, one transaction per import.

A failed import changes nothing; a problem with the input is one line on stderr
and exit code 1.  The progress bar goes to stderr and only on a terminal.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection

from app.cli.common import friendly, in_transaction, progress, settings, tmp_dir, tmp_dir_option

FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


def _sync_places(ctx: click.Context, conn: Connection, **kw: Any) -> dict[str, dict[str, int]]:
    """Keep the geocoder's places in step with what was imported (geodata/importers/places.py)."""
    from app.city import profile
    from geodata.importers.places import sync_places

    stored = profile.read(conn)
    return sync_places(conn, stored.utm_epsg if stored else settings(ctx).utm_epsg, **kw)


def _added(places: dict[str, dict[str, int]]) -> int:
    return sum(v["inserted"] for v in places.values())


def done(what: str, path: Path, counts: str, t0: float) -> None:
    click.echo(f"imported {what} from {path.name}: {counts} in {time.monotonic() - t0:.1f} s")


@click.group("import")
def import_group() -> None:
    """Load real city data (OSM roads and stations, areas, stations, incidents).

    Every import runs in one transaction: if anything is wrong nothing changes.
    By default rows are appended to what is there; --replace first deletes that
    kind of data (see each command's --help).
    """


@import_group.command("osm")
@click.argument("file", type=FILE)
@click.option("--replace", is_flag=True,
              help="Delete the road network and the OSM-derived stations first "
                   "(stations entered by hand, or with units, stay). Default: append, "
                   "e.g. a neighbouring extract, joined at shared OSM nodes.")
@click.option("--largest-component", is_flag=True,
              help="Keep only the largest strongly connected part of the network (drop islands and "
                   "one-way traps at the extract's edge).")
@tmp_dir_option
@click.pass_context
@friendly
def import_osm(ctx: click.Context, file: Path, replace: bool, largest_component: bool,
               tmp_dir_given: Path | None) -> None:
    """Road network and stations from OSM: .osm.pbf, .osm XML or OSMnx .graphml.

    Only drivable roads; ways are split at intersections; one-way streets,
    roundabouts and motorways are one-way; travel time from maxspeed or a default
    speed per road class.  Fire stations, police, hospitals, clinics/puskesmas and
    ambulance stations become stations of DAMKAR, POLRI and DINKES.
    Data (c) OpenStreetMap contributors, ODbL 1.0.
    """
    from app.city.setup import clear_stations, network_extent
    from geodata.importers.network import largest_component as keep_largest
    from geodata.importers.network import load_network
    from geodata.importers.osm import read_osm

    t0 = time.monotonic()
    net = read_osm(file, progress, tmp_dir(ctx, tmp_dir_given))
    if largest_component:
        net = keep_largest(net)

    def work(conn: Connection) -> dict[str, Any]:
        counts: dict[str, Any] = load_network(conn, net, replace=replace, progress=progress)
        if replace and len(net.nodes):  # the previous city's stations must not answer "nearest" here
            xmin, ymin, xmax, ymax = network_extent(net)
            counts["cleared"] = clear_stations(
                conn, outside=f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},{xmin} {ymin}))")
        counts["places"] = _sync_places(ctx, conn, osm=net.places, osm_append=not replace)
        return counts

    counts = in_transaction(ctx, work)
    cleared = counts.get("cleared") or {}
    done("OSM", file, f"{net.summary()}; new: {counts['nodes']} nodes, {counts['edges']} edges, "
                      f"{counts['stations']} stations, {_added(counts['places'])} places"
                      + (f"; {cleared['stations']} stations of the previous city removed"
                         if cleared.get("stations") else ""), t0)


@import_group.command("areas")
@click.argument("file", type=FILE)
@click.option("--level", required=True, type=click.Choice(["kecamatan", "kelurahan"]),
              help="What the polygons are.")
@click.option("--name-field", help="Column with the area name (default: found automatically).")
@click.option("--code-field", help="Column with a unique code (default: found, else made from the name).")
@click.option("--parent-field",
              help="kelurahan only: column with the kecamatan's code or name "
                   "(default: found, else by location).")
@click.option("--replace", is_flag=True,
              help="Delete the areas of this level first. Default: append (codes must be new).")
@click.pass_context
@friendly
def import_areas_cmd(ctx: click.Context, file: Path, level: str, name_field: str | None,
                     code_field: str | None, parent_field: str | None, replace: bool) -> None:
    """Kecamatan or kelurahan polygons from GeoJSON, GeoPackage, shapefile, ... (any CRS)."""
    from geodata.importers.areas import import_areas

    t0 = time.monotonic()

    def work(conn: Connection) -> dict[str, Any]:
        c = import_areas(conn, file, level, name_field=name_field, code_field=code_field,
                         parent_field=parent_field, replace=replace, progress=progress)
        _sync_places(ctx, conn)
        return c

    c = in_transaction(ctx, work)
    done(f"{level} areas", file, f"{c['areas']} areas ({c['repaired']} repaired, "
                                 f"{c['linked']} linked to a parent; {c['inserted']} new, {c['updated']} updated, "
                                 f"{c['unchanged']} unchanged)", t0)


@import_group.command("stations")
@click.argument("file", type=FILE)
@click.option("--replace", is_flag=True,
              help="Delete all stations without units first. Default: append.")
@click.pass_context
@friendly
def import_stations_cmd(ctx: click.Context, file: Path, replace: bool) -> None:
    """Stations from a CSV (lat, lon, agency, kind, name) or any point file."""
    from geodata.importers.stations import import_stations

    t0 = time.monotonic()

    def work(conn: Connection) -> dict[str, Any]:
        c = import_stations(conn, file, replace=replace, progress=progress)
        _sync_places(ctx, conn, sources=("stations",))
        return c

    c = in_transaction(ctx, work)
    done("stations", file, f"{c['stations']} stations" + (f" ({c['kept']} with units kept)" if replace else "")
         + (f", {c['skipped']} already there" if c["skipped"] else ""), t0)


@import_group.command("incidents")
@click.argument("file", type=FILE)
@click.option("--timezone", default="UTC", show_default=True,
              help="Zone of times without an offset: Asia/Jakarta (WIB), Asia/Makassar (WITA), "
                   "Asia/Jayapura (WIT).")
@click.option("--replace", is_flag=True,
              help="Delete incidents loaded by earlier imports first (never live calls). "
                   "Default: append; rows already imported are skipped.")
@click.pass_context
@friendly
def import_incidents_cmd(ctx: click.Context, file: Path, timezone: str, replace: bool) -> None:
    """Historic 112 calls from CSV (lat, lon) or GeoJSON: category, received_at, ..."""
    from geodata.importers.incidents import import_incidents

    t0 = time.monotonic()
    c = in_transaction(ctx, lambda conn: import_incidents(
        conn, file, replace=replace, timezone=timezone, progress=progress))
    extra = f", {c['deleted']} old deleted" if replace else ""
    done("incidents", file, f"{c['incidents']} incidents ({c['skipped']} already there, "
                             f"{c['without_location']} without location{extra})", t0)
