"""``peta112 city setup``: a real city from its own files, in one command and one transaction.

The work is in app/city/; this module reads the files (before the transaction, so a
slow parse holds no locks), runs the setup and prints the readiness report.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from app.cli.common import UserError, friendly, in_transaction, progress, tmp_dir, tmp_dir_option

FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


@click.group("city")
def city() -> None:
    """The city this installation serves: set it up from OSM and boundary files, check it."""


@city.command("setup")
@click.option("--osm", "osm", type=FILE, required=True,
              help="OSM extract: .osm.pbf, .osm, .osm.bz2 or OSMnx .graphml (roads, stations, landmarks).")
@click.option("--kelurahan", type=FILE, help="Kelurahan/desa boundaries (GeoJSON, shapefile, GeoPackage...).")
@click.option("--kecamatan", type=FILE, help="Kecamatan boundaries.")
@click.option("--stations", type=FILE, help="Stations CSV (lat, lon, agency, kind, name) or point file.")
@click.option("--check", is_flag=True, help="Report what the files would give, change nothing.")
@click.option("--largest-component", is_flag=True,
              help="Drop the roads outside the largest strongly connected part (islands, one-way traps "
                   "at the extract's edge); default: keep them and list them in the report.")
@click.option("--name", help="The city's name (default: from the OSM file name).")
@click.option("--utm-epsg", type=int, help="Metric CRS (default: the UTM zone of the data, e.g. 32750 for 50S).")
@click.option("--timezone", help="Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT) "
                                 "(default: from the data's position).")
@click.option("--name-field", help="Boundary files: the column with the area name (default: detected).")
@click.option("--parent-field", help="Kelurahan file: the column with the kecamatan's code or name "
                                     "(default: detected, else by location).")
@click.option("--catalog", "catalog_file", type=FILE,
              help="The city's catalog (agencies, categories, routing, plans; TOML), applied in the same "
                   "transaction: see `peta112 city catalog`.")
@tmp_dir_option
@click.pass_context
@friendly
def setup(ctx: click.Context, osm: Path, kelurahan: Path | None, kecamatan: Path | None, stations: Path | None,
          check: bool, largest_component: bool, name: str | None, utm_epsg: int | None, timezone: str | None,
          name_field: str | None, parent_field: str | None, catalog_file: Path | None,
          tmp_dir_given: Path | None) -> None:
    """Replace the previous city (roads, places, stations without units on a call, areas) in one transaction.

    Picks the UTM zone and the time zone from the data, loads the optional files (what is
    missing is reported, not refused) and prints a readiness report.  Data from OSM is
    (c) OpenStreetMap contributors, ODbL 1.0.
    """
    from app.city import profile as profiles
    from app.city import readiness
    from app.city.setup import CityFiles, setup_city
    from geodata.importers.network import largest_component as keep_largest
    from geodata.importers.osm import read_osm

    try:
        if utm_epsg is not None:
            profiles.check_utm_epsg(utm_epsg)
        if timezone is not None:
            profiles.check_timezone(timezone)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    cat = _read_catalog(catalog_file) if catalog_file is not None else None
    t0 = time.monotonic()
    net = read_osm(osm, progress, tmp_dir(ctx, tmp_dir_given))
    dropped = 0
    if largest_component:
        kept = keep_largest(net)
        dropped, net = len(net.edges) - len(kept.edges), kept
    files = CityFiles(osm, kelurahan, kecamatan, stations,
                      {"kelurahan_name": name_field, "kecamatan_name": name_field, "parent": parent_field})
    def work(conn):  # noqa: ANN001, ANN202 - a Connection in, the setup and the catalog's changes out
        from app.city import catalog

        # The catalog first: the stations file may name an agency only the new catalog adds,
        # and the readiness report measures stations against the new targets.
        changes = catalog.apply(conn, cat, _actor()) if cat is not None else None
        return setup_city(conn, net, files, name, utm_epsg, timezone, progress), changes

    res, changes = in_transaction(ctx, work, commit=not check)
    p, c = res.profile, res.counts
    verb = "checked (nothing changed)" if check else "set up"
    click.echo(f"city {p.name} {verb} in {time.monotonic() - t0:.1f} s")
    click.echo(f"metric CRS: {p.zone_label}" + (" (given)" if utm_epsg else " (from the data's extent)"))
    click.echo(f"time zone: {p.timezone_label}" + (" (given)" if timezone else " (from the data's position)"))
    click.echo("city profile: " + ("unchanged (the same city, set up before)" if not res.profile_changed
                                   else "would change" if check else "saved"))
    prev = c["previous"]
    click.echo(f"previous city removed: {prev['places']} places, {prev['stations']} stations "
               f"({prev['units_deleted']} units deleted, {prev['units_retired']} with a history kept out of "
               f"service), {prev['areas']} areas")
    if largest_component:
        click.echo(f"--largest-component: {dropped} road edges outside the largest strongly connected part dropped")
    for line in res.missing:
        click.echo(f"missing: {line}")
    for line in readiness.lines(res.report):
        click.echo(line)
    if changes is not None:
        _print_changes(changes, "catalog", applied=not check)


# -- the city's catalog ----------------------------------------------------------------------------
@city.group("catalog")
def catalog_group() -> None:
    """The city's agencies, categories, routing rules and response plans, from one TOML file.

    The file format is in docs/your-city.md ("Katalog kota"); the demo city's file is
    geodata/demo/catalog.toml.
    """


@catalog_group.command("check")
@click.argument("file", type=FILE)
@click.pass_context
@friendly
def catalog_check(ctx: click.Context, file: Path) -> None:
    """Validate FILE and print what `apply` would change; change nothing.

    Exits 1 with one line per problem when the file is not valid.
    """
    from app.city import catalog

    cat = _read_catalog(file)
    changes = in_transaction(ctx, lambda conn: catalog.plan_changes(conn, cat), commit=False)
    click.echo(f"{file}: valid ({len(cat.agencies)} agencies, {len(cat.categories)} categories)")
    _print_changes(changes, str(file), applied=False)


@catalog_group.command("apply")
@click.argument("file", type=FILE)
@click.pass_context
@friendly
def catalog_apply(ctx: click.Context, file: Path) -> None:
    """Make the database hold FILE's catalog, in one transaction, audited in catalog_events.

    Categories the file drops are retired while incidents still use them (intake and
    Open311 refuse them, old incidents keep them), deleted otherwise; agencies likewise.
    Applying the same file again changes nothing.
    """
    from app.city import catalog

    cat = _read_catalog(file)
    changes = in_transaction(ctx, lambda conn: catalog.apply(conn, cat, _actor()))
    _print_changes(changes, str(file), applied=True)


@catalog_group.command("export")
@click.option("--out", "out", type=FILE, help="Write to this file (default: standard output).")
@click.pass_context
@friendly
def catalog_export(ctx: click.Context, out: Path | None) -> None:
    """Write the database's catalog (what is not retired) as a catalog file, to start the city's own."""
    from app.city import catalog

    doc = in_transaction(ctx, catalog.export, commit=False)
    if out is None:
        click.echo(doc, nl=False)
        return
    try:
        out.write_text(doc, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"{out}: {doc.count('[[agency]]')} agencies, {doc.count('[[category]]')} categories written")


def _read_catalog(path: Path):  # noqa: ANN202 - app.city.catalog.Catalog, imported lazily
    """The validated catalog; every problem on its own line on stderr, then exit 1."""
    from app.city import catalog

    try:
        return catalog.load(path)
    except catalog.CatalogError as exc:
        lines = exc.lines()
        for line in lines[:-1]:
            click.echo(f"error: {line}", err=True)
        raise UserError(lines[-1] + (f" ({len(lines)} problems; nothing changed)" if len(lines) > 1
                                     else " (nothing changed)")) from None


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        return "cli"


def _print_changes(changes: list, source: str, applied: bool) -> None:
    for ch in changes:
        click.echo(ch.line())
    if not changes:
        click.echo(f"{source}: the database already holds this catalog; nothing to change")
    elif applied:
        click.echo(f"{source}: {len(changes)} change(s) applied, audited in catalog_events")
    else:
        click.echo(f"{source}: {len(changes)} change(s) would be applied; nothing changed")
