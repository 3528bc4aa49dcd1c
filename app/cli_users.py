"""``peta112 user add`` and ``peta112 token create``: accounts without a web admin page."""

from __future__ import annotations

import click

from app.cli import UserError, friendly
from app.domain.roles import ROLES
from app.services.errors import ServiceError


def _session(ctx: click.Context):
    from app.db import ensure_database
    from app.db.engine import make_engine, make_sessionmaker
    from app.incidents.viewer import SYSTEM_VIEWER

    engine = make_engine(ensure_database(ctx.find_root().obj))
    ctx.call_on_close(engine.dispose)
    return make_sessionmaker(engine, viewer=SYSTEM_VIEWER)()


@click.group("user")
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--agency", help="Agency code for agency users (e.g. DAMKAR); BPBD users get BPBD.")
@click.option("--password", help="Password (at least 8 characters); a random one is printed if omitted.")
@click.option("--name", "display_name", help="Display name.")
@click.pass_context
@friendly
def add(ctx: click.Context, username: str, role: str, agency: str | None, password: str | None,
        display_name: str | None) -> None:
    """Create a user with a role: call_taker, dispatcher, agency, bpbd, official, admin."""
    from app.services import auth

    generated = password is None
    password = password or auth.generate_password()
    try:
        u = auth.add_user(_session(ctx), username.lower(), role, password, agency and agency.upper(), display_name)
    except ServiceError as exc:
        raise UserError(f"{exc.field}: {exc.detail}" if exc.field else exc.detail) from None
    extra = f" ({u.agency_code})" if u.agency_code else ""
    click.echo(f"user {u.username} created with role {u.role}{extra}"
               + (f"; password: {password}" if generated else ""))


@click.group("token")
def token() -> None:
    """API tokens for devices and other city systems."""


@token.command("create")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
@click.pass_context
@friendly
def create(ctx: click.Context, username: str, name: str, days: int) -> None:
    """Create a token; it is printed once and cannot be shown again."""
    from app.services import auth

    try:
        tok, info = auth.create_token(_session(ctx), username.lower(), name, days)
    except ServiceError as exc:
        raise UserError(exc.detail) from None
    click.echo(tok)
    click.echo(f"token {info['prefix']}... for {username}, expires {info['expires_at']:%Y-%m-%d}", err=True)


@token.command("revoke")
@click.argument("prefix")
@click.pass_context
@friendly
def revoke(ctx: click.Context, prefix: str) -> None:
    """Revoke the token(s) starting with PREFIX (the first 12 characters)."""
    from app.services import auth

    n = auth.revoke_token(_session(ctx), prefix)
    if not n:
        raise UserError(f"no active token starts with {prefix!r}")
    click.echo(f"revoked {n} token(s)")


DEMO_USERS = (
    ("operator", "call_taker", None, "Operator 112"),
    ("dispatcher", "dispatcher", None, "Dispatcher 112"),
    ("damkar", "agency", "DAMKAR", "Petugas Damkar"),
    ("psc119", "agency", "DINKES", "Petugas PSC 119"),
    ("polri", "agency", "POLRI", "Petugas Polri"),
    ("bpbd", "bpbd", "BPBD", "Petugas BPBD"),
    ("walikota", "official", None, "Kantor Wali Kota"),
    ("admin", "admin", None, "Administrator"),
)


@user.command("demo")
@click.pass_context
@friendly
def demo_users(ctx: click.Context) -> None:
    """Create one demo login per role (password = username + '-112'); existing users are kept."""
    from app.services import auth
    from app.services.errors import Conflict

    session = _session(ctx)
    click.echo("demo logins (change them before real use):")
    for username, role, agency, name in DEMO_USERS:
        password = f"{username}-112"
        try:
            auth.add_user(session, username, role, password, agency, name)
            state = "created"
        except Conflict:
            state = "exists"
        click.echo(f"  {username:<11} {password:<16} {role}{f' ({agency})' if agency else ''} [{state}]")


@click.group("privacy")
def privacy() -> None:
    """Personal-data retention."""


@privacy.command("purge")
@click.option("--days", type=click.IntRange(1, 36500), help="Retention in days (default PETA112_PERSONAL_DATA_DAYS).")
@click.pass_context
@friendly
def purge(ctx: click.Context, days: int | None) -> None:
    """Erase callers' names and phones older than the retention period (the incidents stay)."""
    from app.services.privacy import purge_personal_data

    days = days or ctx.find_root().obj.personal_data_days
    n = purge_personal_data(_session(ctx), days)
    click.echo(f"erased caller name and phone of {n} incident(s) older than {days} days")
