"""The ``peta112`` command: database, demo data, imports, city setup, serving, reports, accounts, analytics.

One file per command group in this package; app/cli/common.py holds what they
share (the one-line error mapping, settings, session, transaction).  Only this
module knows every command, so command modules never import each other.  Heavy
imports (geopandas, the services) happen inside the commands, so
``peta112 --help`` stays instant.
"""

from __future__ import annotations

import click

from app.cli.accounts import privacy, token, user
from app.cli.analytics import analytics
from app.cli.channels import channels
from app.cli.city import city
from app.cli.common import UserError, cli_session, friendly, in_transaction, settings
from app.cli.db import db
from app.cli.demo import demo
from app.cli.imports import import_group
from app.cli.incident import incident
from app.cli.nearest import nearest_cmd
from app.cli.report import report
from app.cli.serve import serve
from app.config import from_env

__all__ = ["UserError", "cli", "cli_session", "friendly", "in_transaction", "main", "settings"]


@click.group()
@click.version_option(package_name="peta112")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """peta112: GIS situational awareness for Call Center 112."""
    try:
        ctx.obj = from_env()
    except ValueError as exc:  # a malformed PETA112_* variable
        raise UserError(str(exc)) from None


for _command in (db, serve, demo, import_group, city, incident, nearest_cmd, report, user, token, privacy,
                 channels, analytics):
    cli.add_command(_command)


def main() -> None:
    """The console script ``peta112`` (pyproject.toml)."""
    cli(prog_name="peta112")
