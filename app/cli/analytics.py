"""``peta112 analytics refresh``: fold logged changes into the agency-performance rollup.

The server does this every ``PETA112_ROLLUP_REFRESH_S`` seconds by itself; the command
is for a database no server is running on (after an import or a restore), and
``--rebuild`` rebuilds every cell from the tasks, e.g. to check the triggers missed nothing.
"""

from __future__ import annotations

import time

import click

from app.cli.common import cli_engine, friendly


@click.group("analytics")
def analytics() -> None:
    """Analytics upkeep: the agency-performance rollup."""


@analytics.command("refresh")
@click.option("--rebuild", is_flag=True, help="Rebuild every cell from the tasks, not only the changed ones.")
@click.pass_context
@friendly
def refresh(ctx: click.Context, rebuild: bool) -> None:
    """Bring the agency-performance rollup up to date (one summary line)."""
    from app.services.analytics import rollup

    engine = cli_engine(ctx)
    t0 = time.monotonic()
    built = rollup.rebuild(engine) if rebuild else rollup.refresh(engine)
    with engine.connect() as conn:
        left = rollup.pending(conn)
    click.echo(f"rollup: {built} cells {'rebuilt' if rebuild else 'refreshed'} in "
               f"{time.monotonic() - t0:.1f}s; {left} waiting")
