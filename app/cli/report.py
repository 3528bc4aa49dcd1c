"""``peta112 report weekly|map``: self-contained HTML reports for officials (app.services.reports).

The report is written to ``--out`` and one summary line goes to stdout, so a
cron job can mail or post the file and log the line.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from app.cli.common import UserError, friendly, settings

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _categories(option: str | None) -> list[str] | None:
    codes = [c.strip() for c in (option or "").split(",") if c.strip()]
    return codes or None


def _write(out: Path, html: str) -> None:
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def _run(ctx: click.Context, build):  # noqa: ANN001, ANN202 - a local callback, typed by its callers
    """Build a report in one session as the system viewer (the city's staff run the CLI)."""
    from app.bootstrap import session_scope

    with session_scope(settings(ctx)) as session:
        return build(session)


def _utm_epsg(ctx: click.Context, session) -> int:  # noqa: ANN001 - a Session, imported lazily
    """The city's own metric CRS when ``city setup`` stored one, else PETA112_UTM_EPSG."""
    from app.city import profile

    stored = profile.read(session.connection())
    return stored.utm_epsg if stored else settings(ctx).utm_epsg


@click.group("report")
def report() -> None:
    """HTML reports for officials: the weekly report, a filtered incident map."""


@report.command("weekly")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the week (inclusive, the city's clock). Default: today.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file to write.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True)
@click.option("--category", default=None, help="Category code(s), comma-separated (default: all).")
@click.pass_context
@friendly
def weekly(ctx: click.Context, until: datetime | None, out: Path, lang: str, category: str | None) -> None:
    """The week's incidents: map with clusters, charts, counts, agency performance, unresolved list."""
    from app.services.reports import weekly_report

    t0 = time.monotonic()
    day: date | None = until.date() if until else None
    rep = _run(ctx, lambda s: weekly_report(s, day, lang, _utm_epsg(ctx, s), categories=_categories(category)))
    _write(out, rep.html)
    f = rep.figures
    click.echo(f"wrote {out} ({len(rep.html) // 1024} KiB) in {time.monotonic() - t0:.1f}s: "
               f"{f['incidents']} incidents ({f['calls']} calls), {f['unresolved']} unresolved "
               f"({f['overdue']} overdue), {f['clusters']} clusters")


@report.command("map")
@click.option("--category", default=None, help="Category code(s), comma-separated (default: all).")
@click.option("--since", type=click.DateTime(formats=DATE_FORMATS), required=True,
              help="From (a date means 00:00 on the city's clock: WIB, WITA or WIT).")
@click.option("--until", type=click.DateTime(formats=DATE_FORMATS), default=None, help="Until (default: now).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file to write.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True)
@click.pass_context
@friendly
def map_cmd(ctx: click.Context, category: str | None, since: datetime, until: datetime | None, out: Path,
            lang: str) -> None:
    """A folium map of a filtered set of incidents (no online tiles), for sending to officials."""
    from app.city.profile import city_zone
    from app.services.analytics.common import as_aware
    from app.services.reports import map_report

    def build(s):  # noqa: ANN001, ANN202 - a Session, typed by _run
        tz = city_zone(s)  # a date typed without a zone is midnight on the city's clock
        return map_report(s, _categories(category), as_aware(since, tz), as_aware(until, tz), lang)

    t0 = time.monotonic()
    rep = _run(ctx, build)
    _write(out, rep.html)
    click.echo(f"wrote {out} ({len(rep.html) // 1024} KiB) in {time.monotonic() - t0:.1f}s: "
               f"{rep.figures['incidents']} incidents")
