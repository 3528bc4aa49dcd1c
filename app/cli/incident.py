"""``peta112 incident ...``: log and follow calls from a terminal (same services as the API)."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli.common import cli_session, friendly


def _echo(data: Any, as_json: bool, summary: str) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        click.echo(summary)


@click.group("incident")
def incident() -> None:
    """Log a call, show it, move it through its lifecycle."""


@incident.command("add")
@click.option("--category", required=True, help="Category code, e.g. kebakaran, banjir, kecelakaan.")
@click.option("--lat", type=float)
@click.option("--lon", type=float)
@click.option("--address", help="Free text: street, landmark or kelurahan (used when no lat/lon).")
@click.option("--caller-name")
@click.option("--caller-phone")
@click.option("--description")
@click.option("--source", default="phone", show_default=True)
@click.option("--idempotency-key")
@click.option("--actor", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full incident as JSON (same as the API).")
@click.pass_context
@friendly
def add(ctx: click.Context, as_json: bool, **kw: Any) -> None:
    """Log a call: prints the incident with its kelurahan and forwarded agencies."""
    from app.services import dispatch

    inc, created = dispatch.intake(cli_session(ctx), dispatch.Intake(**kw))
    kel = (inc["kelurahan"] or {}).get("name") or "-"
    agencies = ", ".join(t["agency"] for t in inc["tasks"]) or "none"
    verb = "logged" if created else "already logged"
    _echo(inc, as_json, f"incident {inc['id']} {verb}: {inc['category']} at {inc['lat']:.5f},{inc['lon']:.5f} "
                        f"(kel. {kel}); forwarded to {agencies}")


@incident.command("show")
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def show(ctx: click.Context, incident_id: int, as_json: bool) -> None:
    """Show an incident with its tasks and timeline."""
    from app.services import dispatch

    inc = dispatch.get_incident(cli_session(ctx), incident_id)
    lines = [f"incident {inc['id']}: {inc['category']} [{inc['status']}] {inc['address'] or ''}"]
    lines += [f"  task {t['agency']}: {t['status']}" for t in inc["tasks"]]
    lines += [f"  {e['at']} {e['actor']}: {e['kind']} {e['to_status'] or ''}" for e in inc["events"]]
    _echo(inc, as_json, "\n".join(lines))


@incident.command("status")
@click.argument("incident_id", type=int)
@click.argument("status")
@click.option("--note")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
@friendly
def set_status(ctx: click.Context, incident_id: int, status: str, note: str | None, actor: str) -> None:
    """Move an incident to STATUS (received, verified, dispatched, en_route, on_scene, resolved, closed...)."""
    from app.services import dispatch

    inc = dispatch.change_status(cli_session(ctx), incident_id, status, actor, note)
    click.echo(f"incident {inc['id']} is now {inc['status']}")
