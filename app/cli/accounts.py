"""``peta112 user ...``, ``peta112 token ...``, ``peta112 privacy purge``: accounts from the server's shell.

The same services as the admin API (app/services/accounts.py, tokens.py); every
failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from datetime import datetime

import click

from app.cli.common import UserError, cli_session, friendly
from app.domain.roles import ROLES


@click.group("user")
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--agency", help="Agency code for agency users (e.g. DAMKAR); BPBD users get BPBD.")
@click.option("--password", help="Password (at least 12 characters, not a common one); a random one is printed "
                                 "if omitted.")
@click.option("--name", "display_name", help="Display name.")
@click.pass_context
@friendly
def add(ctx: click.Context, username: str, role: str, agency: str | None, password: str | None,
        display_name: str | None) -> None:
    """Create a user with a role: call_taker, dispatcher, agency, bpbd, official, admin."""
    from app.services import accounts, passwords

    generated = password is None
    password = password or passwords.generate()
    u = accounts.add_user(cli_session(ctx), username.lower(), role, password, agency and agency.upper(), display_name)
    extra = f" ({u.agency_code})" if u.agency_code else ""
    click.echo(f"user {u.username} created with role {u.role}{extra}"
               + (f"; password: {password}" if generated else ""))


@user.command("passwd")
@click.argument("username")
@click.option("--password", help="The new password (else asked twice; an option is visible to other users of "
                                 "this machine in the process list).")
@click.pass_context
@friendly
def passwd(ctx: click.Context, username: str, password: str | None) -> None:
    """Set a user's password; ends all their sessions and revokes all their API tokens."""
    from app.services import accounts

    if password is None:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True, err=True)
    ended = accounts.set_password(cli_session(ctx), username.lower(), password)
    click.echo(f"password of {username.lower()} changed; {_ended(ended)}")


def _ended(ended: dict[str, int]) -> str:
    return f"{ended['sessions_ended']} session(s) ended, {ended['tokens_revoked']} token(s) revoked"


@user.command("disable")
@click.argument("username")
@click.pass_context
@friendly
def disable(ctx: click.Context, username: str) -> None:
    """Disable a user (a leaver, a demo login); ends all their sessions and revokes all their API tokens."""
    from app.services import accounts

    ended = accounts.set_active(cli_session(ctx), username.lower(), False)
    click.echo(f"user {username.lower()} disabled; {_ended(ended)}")


@user.command("enable")
@click.argument("username")
@click.pass_context
@friendly
def enable(ctx: click.Context, username: str) -> None:
    """Enable a user again (also lifts a sign-in lockout); revoked tokens stay revoked."""
    from app.services import accounts

    accounts.set_active(cli_session(ctx), username.lower(), True)
    click.echo(f"user {username.lower()} enabled")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


@user.command("list")
@click.pass_context
@friendly
def list_users(ctx: click.Context) -> None:
    """Every account: role, agency, state (active, disabled, locked, DEMO) and last sign-in."""
    from app.services import accounts

    rows = accounts.list_users(cli_session(ctx))
    click.echo(f"{'username':<16} {'role':<11} {'agency':<8} {'state':<16} last sign-in")
    for r in rows:
        state = ("active" if r["active"] else "disabled") + (" locked" if r["locked_until"] else "")
        state += " DEMO" if r["demo"] else ""
        click.echo(f"{r['username']:<16} {r['role']:<11} {r['agency'] or '-':<8} {state:<16} "
                   f"{_when(r['last_login_at'])}")


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
    from app.services import tokens

    tok, info = tokens.create(cli_session(ctx), username.lower(), name, days, actor="cli")
    click.echo(tok)
    click.echo(f"token {info['prefix']}... for {username}, expires {info['expires_at']:%Y-%m-%d}", err=True)


@token.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
@click.pass_context
@friendly
def list_tokens(ctx: click.Context, username: str | None) -> None:
    """Tokens (never the secret): id, prefix, user, name, state, expiry, last use, parent."""
    from app.services import accounts, tokens

    session = cli_session(ctx)
    owner = accounts.get(session, username.lower())["id"] if username else None
    click.echo(f"{'id':>5} {'prefix':<13} {'user':<14} {'name':<16} {'state':<8} {'expires':<16} "
               f"{'last used':<16} parent")
    for t in tokens.list_tokens(session, owner):
        state = "revoked" if t["revoked_at"] else ("active" if t["active"] else "expired")
        click.echo(f"{t['id']:>5} {t['prefix']:<13} {t['username']:<14} {t['name'][:16]:<16} {state:<8} "
                   f"{_when(t['expires_at']):<16} {_when(t['last_used_at']):<16} {t['parent_id'] or '-'}")


@token.command("revoke")
@click.argument("prefix_or_id")
@click.pass_context
@friendly
def revoke(ctx: click.Context, prefix_or_id: str) -> None:
    """Revoke a token by its id or its prefix (the first 12 characters), and every token made with it."""
    from app.services import tokens

    n = tokens.revoke(cli_session(ctx), prefix_or_id, actor="cli")
    if not n:
        raise UserError(f"no active token with id or prefix {prefix_or_id!r}")
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
    """Create one DEMO login per role (password = username + '-112'), flagged as demo; existing users are kept.

    Their passwords are published in the README, so they skip the password policy and are marked
    ``is_demo``: the console shows AKUN DEMO.  Disable them on a real server (``peta112 user disable``).
    """
    from app.services import accounts
    from app.services.errors import Conflict

    session = cli_session(ctx)
    click.echo("WARNING: DEMO logins with published passwords; on a real server disable each one with "
               "`peta112 user disable NAME`:", err=True)
    for username, role, agency, name in DEMO_USERS:
        password = f"{username}-112"
        try:
            accounts.add_user(session, username, role, password, agency, name, demo=True)
            state = "created"
        except Conflict:
            state = "exists"
        click.echo(f"  DEMO {username:<11} {password:<16} {role}{f' ({agency})' if agency else ''} [{state}]")


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
    n = purge_personal_data(cli_session(ctx), days)
    click.echo(f"erased caller name and phone of {n} incident(s) older than {days} days")
