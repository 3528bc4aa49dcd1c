"""``peta112 demo``: generate Kota Contoh and load it in one transaction.

The heavy imports (geopandas, the generator) happen inside the command so
``peta112 --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import text

from app.cli.common import UserError, friendly, settings

SCALE_NAMES = ("small", "city", "metro")  # geodata.demo.frame.SCALES, without importing it here
DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "geodata" / "demo" / "manifest.json"


@click.command("demo")
@click.option("--seed", default=112, show_default=True, type=int, help="Random seed: same seed, same city.")
@click.option("--scale", type=click.Choice(SCALE_NAMES), default="city", show_default=True,
              help="small (tests), city (~26k directed edges, ~55k incidents) or metro (~200k edges).")
@click.option("--years", default=2.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Years of incident history.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
              default=None, help="End of the history, UTC (a date means its midnight). Default: now, to the hour.")
@click.option("--replace", is_flag=True, help="Empty the demo tables first (TRUNCATE ... CASCADE).")
@click.option("--if-empty", "if_empty", is_flag=True,
              help="Do nothing (exit 0) when the database already holds data; used by `make run`.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_MANIFEST, show_default=True, help="Where to write the planted ground truth (JSON).")
@click.pass_context
@friendly
def demo(ctx: click.Context, seed: int, scale: str, years: float, until: datetime | None, replace: bool,
         if_empty: bool, manifest_path: Path) -> None:
    """Generate the demo city Kota Contoh (roads, areas, stations, units, history) and load it."""
    if replace and if_empty:
        raise UserError("--replace and --if-empty contradict each other; choose one")
    _run(ctx, seed, scale, years, until, replace, if_empty, manifest_path)


def _run(ctx: click.Context, seed: int, scale: str, years: float, until: datetime | None, replace: bool,
         if_empty: bool, manifest_path: Path) -> None:
    from app.db import ensure_database
    from app.db.engine import make_engine

    t0 = time.monotonic()

    def say(msg: str) -> None:
        click.echo(f"[{time.monotonic() - t0:5.1f}s] {msg}", err=True)

    url = ensure_database(settings(ctx))
    engine = make_engine(url)
    try:
        from geodata.demo.load import DemoLoadError, tables_with_rows

        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('incident_events') IS NULL")).scalar_one():
                raise UserError("the database has no peta112 schema; run: peta112 db migrate")
            busy = tables_with_rows(conn)
        if busy and if_empty:
            click.echo(f"database already holds data ({', '.join(busy)}); demo not loaded")
            return
        if busy and not replace:
            raise UserError(f"the database already holds data ({', '.join(busy)}); use --replace to overwrite it")

        from geodata.demo import generate, load

        say(f"generating Kota Contoh: seed {seed}, scale {scale}, {years:g} years")
        try:
            city = generate(seed=seed, scale=scale, years=years, until=until, progress=say)
            say("loading (one transaction)")
            with engine.begin() as conn:
                # The demo city's own catalog (agencies, categories, rules, plans): a no-op on a fresh
                # database, since the file says what the migrations seed; restores them otherwise.
                from app.city import catalog as city_catalog
                from geodata.demo.catalog import CATALOG_FILE

                changed = city_catalog.apply(conn, city_catalog.load(CATALOG_FILE), "peta112 demo")
                say(f"catalog {CATALOG_FILE.name}: {len(changed)} change(s)")
                load(conn, city, replace=replace, progress=say)
                from geodata.demo.chats import open_chats
                from geodata.demo.frame import rng_for

                say(f"chats: {open_chats(conn, city, rng_for(seed, 'chats'))} open conversations for the desk")
            # after the commit: the refresh reads what other connections can see
            from app.services.analytics import rollup

            say(f"analytics rollup: {rollup.refresh(engine)} cells")
        except (DemoLoadError, ValueError) as exc:
            raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(city.manifest, indent=2, ensure_ascii=False) + "\n")
    c = city.manifest["counts"]
    say(f"manifest written to {manifest_path}")
    click.echo(f"demo loaded in {time.monotonic() - t0:.1f}s: {c['road_edges']} road edges "
               f"({c['directed_edges']} directed), {c['kelurahan']} kelurahan, {c['stations']} stations, "
               f"{c['units']} units, {c['incidents']} incidents ({c['open_incidents']} open), "
               f"{c['incident_events']} events")
    sys.stdout.flush()

