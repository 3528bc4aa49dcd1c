"""Backups of the database with pg_dump/pg_restore (custom format), for ``peta112 db backup|restore``.

A call center must survive losing its server: every incident and its audit trail
is in PostgreSQL, so a nightly ``peta112 db backup`` (cron) plus a tested
``peta112 db restore`` is the difference between a bad night and lost calls.

The dump is written to ``FILE.partial`` and renamed only after pg_dump succeeded
and ``pg_restore --list`` could read it back, so a file with the final name is
always a complete, readable backup.  A restore runs in one transaction
(``--single-transaction``): it either replaces everything or changes nothing.

The embedded cluster is reached over its unix socket with its own binaries, run
as the ``postgres`` OS user when we are root (as the server itself runs); with
``DATABASE_URL`` the connection settings go to libpq through ``PG*`` environment
variables, so a password never appears on a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import cluster_for, ensure_database
from app.db.cluster import SUPERUSER, ClusterError

MAGIC = b"PGDMP"  # first bytes of a pg_dump custom-format archive
_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
              "sslkey": "PGSSLKEY", "application_name": "PGAPPNAME", "connect_timeout": "PGCONNECT_TIMEOUT",
              "host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
              "dbname": "PGDATABASE"}


class BackupError(ClusterError):
    """A backup or restore failed; one readable line (the CLI prints it as ``error: ...``)."""


@dataclass(frozen=True)
class Target:
    """How to run a client binary against the configured database."""

    bin_dir: Path
    env: dict[str, str]
    as_postgres: bool
    dbname: str

    def command(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", SUPERUSER, "--", *cmd] if self.as_postgres else cmd


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    entries: int


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    dbname: str
    seconds: float


def _client_bin_dir(settings: Settings) -> Path:
    """The newest installed PostgreSQL client binaries (pg_dump must not be older than the server)."""
    if settings.pg_bin:
        return Path(settings.pg_bin)
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True)
        for v in versions:
            if (v / "bin" / "pg_dump").exists():
                return v / "bin"
    found = shutil.which("pg_dump")
    if found:
        return Path(found).parent
    raise BackupError("pg_dump not found; install the PostgreSQL client: apt-get install postgresql-client-15")


def target_for(settings: Settings) -> Target:
    """Where the configured database is, for pg_dump/pg_restore."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if settings.embedded:
        cluster = cluster_for(settings)
        env = {**base_env, "PGHOST": str(cluster.paths.sockets), "PGPORT": str(cluster.port),
               "PGUSER": SUPERUSER, "PGDATABASE": settings.db_name}
        return Target(cluster.bin_dir, env, cluster.as_root, settings.db_name)
    url = make_url(settings.database_url or "")
    env = dict(base_env)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("username", "PGUSER"), ("password", "PGPASSWORD"),
                     ("database", "PGDATABASE")):
        value = getattr(url, key)
        if value is not None:
            env[var] = str(value)
    for key, value in url.query.items():
        if key in _QUERY_ENV:
            env[_QUERY_ENV[key]] = value if isinstance(value, str) else value[-1]
    dbname = env.get("PGDATABASE", "")
    if not dbname:
        raise BackupError("DATABASE_URL names no database")
    return Target(_client_bin_dir(settings), env, False, dbname)


def _last_line(err: bytes | None, code: int) -> str:
    lines = [ln for ln in (err or b"").decode(errors="replace").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {code}"


def default_path(settings: Settings, target: Target) -> Path:
    """``var/backups/<db>-<UTC time>.dump`` for the embedded cluster, else in the working directory."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = settings.var_dir / "backups" if settings.embedded else Path.cwd()
    return folder / f"{target.dbname}-{stamp}.dump"


def backup(settings: Settings, out: Path | None = None) -> BackupResult:
    """pg_dump -Fc the configured database into ``out`` (atomically; verified readable)."""
    if settings.embedded:
        cluster = cluster_for(settings)
        if not cluster.is_running():
            raise BackupError("embedded PostgreSQL is not running; start it with: peta112 db up")
    target = target_for(settings)
    path = Path(out) if out else default_path(settings, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    t0 = time.perf_counter()
    try:
        with open(partial, "wb") as fh:
            res = subprocess.run(target.command("pg_dump", "--format=custom", "--compress=6", "--no-password"),
                                 env=target.env, stdout=fh, stderr=subprocess.PIPE)
        if res.returncode != 0:
            raise BackupError(f"pg_dump failed: {_last_line(res.stderr, res.returncode)}")
        with open(partial, "rb") as fh:
            listing = subprocess.run(target.command("pg_restore", "--list"), env=target.env, stdin=fh,
                                     capture_output=True)
        if listing.returncode != 0:
            raise BackupError(f"the dump is not readable: {_last_line(listing.stderr, listing.returncode)}")
        entries = sum(1 for ln in listing.stdout.decode(errors="replace").splitlines()
                      if ln.strip() and not ln.startswith(";"))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path, path.stat().st_size, time.perf_counter() - t0, entries)


def check_dump(path: Path) -> None:
    """Refuse anything that is not a pg_dump custom-format archive before touching the database."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head != MAGIC:
        raise BackupError(f"{path} is not a peta112 backup (pg_dump custom format)")


def restore(settings: Settings, path: Path) -> RestoreResult:
    """pg_restore --clean --if-exists in one transaction into the configured database."""
    path = Path(path)
    check_dump(path)
    if settings.embedded:
        ensure_database(settings)
    target = target_for(settings)
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        res = subprocess.run(
            target.command("pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner",
                           "--no-password", "--dbname", target.dbname),
            env=target.env, stdin=fh, capture_output=True)
    if res.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {_last_line(res.stderr, res.returncode)}")
    return RestoreResult(path, target.dbname, time.perf_counter() - t0)
