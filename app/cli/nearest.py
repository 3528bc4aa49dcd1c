"""``peta112 nearest``: the nearest responders to a point, as the API answers it.

Handy for checking a freshly imported road network from a shell: same service
function (app.routing.nearest.nearest_for_point), same candidates, as a table or JSON.
"""

from __future__ import annotations

import json

import click

from app.cli.common import friendly, settings


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def _km(metres: float | None) -> str:
    return "-" if metres is None else f"{metres / 1000:.2f}"


@click.command("nearest")
@click.option("--lat", type=float, required=True, help="Latitude (WGS84).")
@click.option("--lon", type=float, required=True, help="Longitude (WGS84).")
@click.option("--agency", default=None, help="Agency code, e.g. DAMKAR or DINKES.")
@click.option("--k", "k", default=5, show_default=True, type=int, help="How many candidates (1-50).")
@click.option("--by", type=click.Choice(["time", "distance"]), default="time", show_default=True)
@click.option("--unit-type", default=None, help="Only this unit type, e.g. ambulance.")
@click.option("--include-busy", is_flag=True, help="Also list units that are not available.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table.")
@click.pass_context
@friendly
def nearest_cmd(ctx: click.Context, lat: float, lon: float, agency: str | None, k: int, by: str,
                unit_type: str | None, include_busy: bool, as_json: bool) -> None:
    """Nearest responders to a point by drive time (or straight line)."""
    from app.bootstrap import session_scope
    from app.routing.nearest import nearest_for_point

    with session_scope(settings(ctx)) as session:
        res = nearest_for_point(session, lat, lon, agency=agency, k=k, by=by,
                                unit_type=unit_type, include_busy=include_busy)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(f"method: {res['method']}" + (f" ({res['reason']})" if res.get("reason") else ""))
    header = f"{'#':>2}  {'callsign':<12} {'type':<12} {'agency':<8} {'status':<14} {'station':<24} " \
             f"{'eta':>7} {'road km':>8} {'line km':>8}"
    click.echo(header)
    for i, c in enumerate(res["candidates"], 1):
        click.echo(f"{i:>2}  {c['callsign'] or '-':<12} {c['unit_type'] or '-':<12} {c['agency']:<8} "
                   f"{c['status'] or '-':<14} {(c['station_name'] or '-')[:24]:<24} "
                   f"{_mmss(c['eta_s']):>7} {_km(c['distance_m']):>8} {_km(c['straight_m']):>8}")
    if not res["candidates"]:
        click.echo("(no candidates)")
    for u in res.get("unreached") or ():  # never dropped without notice (issue 17)
        who = u["callsign"] or u["station_name"] or f"{u['kind']} {u['unit_id'] or u['station_id']}"
        click.echo(f"not reachable: {who} ({u['agency']}, {u['reason']}): {u['detail']}")
