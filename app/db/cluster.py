"""The embedded PostgreSQL + PostGIS + pgRouting cluster under ``./var``.

peta112 must run with two commands on a fresh Debian machine, so instead of
asking users to configure a system PostgreSQL it drives the Debian server
binaries (initdb, pg_ctl) itself.  The cluster listens on a unix socket only,
so it never clashes with another PostgreSQL on the machine and is not reachable
over the network.  initdb refuses to run as root; as root the server runs as
the ``postgres`` OS user that the Debian packages create.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

DEBIAN_PACKAGES = "postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting"
EXTENSIONS = ("postgis", "pgrouting", "pg_trgm")
SUPERUSER = "postgres"
_SOCKET_NAME_LEN = len("/.s.PGSQL.5432")


class ClusterError(RuntimeError):
    """A problem the user can fix; its message is one readable line."""


def _find_bin_dir(explicit: str | None) -> tuple[Path, str]:
    """Return the newest PostgreSQL bin dir that also has PostGIS and pgRouting."""
    candidates: list[Path] = []
    root = Path("/usr/lib/postgresql")
    if explicit:
        candidates.append(Path(explicit))
    elif root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True
        )
        candidates += [p / "bin" for p in versions]
    for bin_dir in candidates:
        if not (bin_dir / "initdb").exists() or not (bin_dir / "pg_ctl").exists():
            continue
        version = bin_dir.parent.name
        ext_dir = Path(f"/usr/share/postgresql/{version}/extension")
        if explicit or all((ext_dir / f"{e}.control").exists() for e in ("postgis", "pgrouting")):
            return bin_dir, version
    raise ClusterError(
        "PostgreSQL with PostGIS and pgRouting not found; install the Debian packages: "
        f"apt-get install {DEBIAN_PACKAGES}"
    )


@dataclass
class ClusterPaths:
    base: Path
    data: Path
    sockets: Path
    log: Path


class EmbeddedCluster:
    """One private cluster; every method is safe to call repeatedly."""

    def __init__(self, var_dir: Path, pg_bin: str | None = None, port: int = 5432):
        self.var_dir = Path(var_dir).resolve()
        self._pg_bin = pg_bin
        self.port = port
        self._bin: Path | None = None
        self._paths: ClusterPaths | None = None

    # -- locations -----------------------------------------------------------------
    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def bin_dir(self) -> Path:
        if self._bin is None:
            self._bin, _ = _find_bin_dir(self._pg_bin)
        return self._bin

    def _owner_can_reach(self, path: Path) -> bool:
        if not self.as_root:
            return True
        res = subprocess.run(
            ["runuser", "-u", SUPERUSER, "--", "test", "-x", str(path)], capture_output=True
        )
        return res.returncode == 0

    @property
    def paths(self) -> ClusterPaths:
        """Where the cluster lives.

        Normally ``var/pgdata`` and ``var/run``.  When the checkout sits in a
        directory the ``postgres`` user cannot enter (e.g. under /root), or the
        socket path would exceed the kernel's 107-byte limit, the data and the
        socket move to a per-checkout directory under /var/tmp or /tmp instead.
        """
        if self._paths is None:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha1(str(self.var_dir).encode()).hexdigest()[:10]
            base = self.var_dir
            if not self._owner_can_reach(self.var_dir):
                base = Path("/var/tmp") / f"peta112-{digest}"
            sockets = base / "run"
            if len(str(sockets)) + _SOCKET_NAME_LEN > 100:
                sockets = Path("/tmp") / f"peta112-{digest}"
            self._paths = ClusterPaths(
                base=base, data=base / "pgdata", sockets=sockets, log=base / "log" / "postgresql.log"
            )
        return self._paths

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.paths.sockets}&port={self.port}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.paths.sockets} port={self.port} user={SUPERUSER} dbname={dbname}"

    # -- process control ---------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if check and res.returncode != 0:
            detail = (res.stderr or res.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit code {res.returncode}"
            raise ClusterError(f"{Path(args[0]).name} failed: {last} (log: {self.paths.log})")
        return res

    def _prepare_dirs(self) -> None:
        p = self.paths
        for d in (p.base, p.data, p.sockets, p.log.parent):
            d.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            for d in (p.data, p.sockets, p.log.parent):
                shutil.chown(d, SUPERUSER, SUPERUSER)
        p.data.chmod(0o700)
        p.sockets.chmod(0o700)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with open(self.var_dir / "cluster.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @property
    def initialized(self) -> bool:
        return (self.paths.data / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        res = self._run(self.bin_dir / "pg_ctl", "status", "-D", self.paths.data, check=False)
        return res.returncode == 0

    def _binary_replaced(self) -> bool:
        try:
            pid = int((self.paths.data / "postmaster.pid").read_text().split()[0])
            return os.readlink(f"/proc/{pid}/exe").endswith(" (deleted)")
        except (OSError, ValueError, IndexError):
            return False

    def init(self) -> None:
        self._prepare_dirs()
        self._run(
            self.bin_dir / "initdb", "-D", self.paths.data, "-U", SUPERUSER,
            "--auth=trust", "-E", "UTF8", "--no-locale",
        )
        conf = (
            "\n# written by peta112: private cluster, unix socket only\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{self.paths.sockets}'\n"
            f"port = {self.port}\n"
            "unix_socket_permissions = 0700\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "work_mem = 32MB\n"
            "maintenance_work_mem = 256MB\n"
            "max_wal_size = 2GB\n"
            "timezone = 'UTC'\n"
        )
        conf_file = self.paths.data / "postgresql.conf"
        with open(conf_file, "a") as fh:
            fh.write(conf)

    def up(self) -> bool:
        """Initialise and start the cluster if needed; return True if it was started."""
        with self._lock():
            if not self.initialized:
                self.init()
            if self.is_running():
                if not self._binary_replaced():
                    return False
                # apt upgraded PostgreSQL under a running server: its old binary
                # cannot load the new extension libraries, so restart it.
                self._run(self.bin_dir / "pg_ctl", "restart", "-D", self.paths.data, "-m", "fast",
                          "-w", "-l", self.paths.log)
                self._wait_ready()
                return True
            self._prepare_dirs()
            self._run(
                self.bin_dir / "pg_ctl", "start", "-D", self.paths.data, "-l", self.paths.log,
                "-w", "-t", "120",
            )
            self._wait_ready()
            return True

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=5):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"PostgreSQL did not accept connections: {exc}") from None
                time.sleep(0.2)

    def down(self) -> bool:
        with self._lock():
            if not self.is_running():
                return False
            self._run(self.bin_dir / "pg_ctl", "stop", "-D", self.paths.data, "-m", "fast", "-w")
            return True

    def destroy(self) -> None:
        """Stop the cluster and delete its data directory (``db reset``)."""
        self.down()
        with self._lock():
            if self.paths.data.exists():
                shutil.rmtree(self.paths.data)

    def ensure_database(self, dbname: str) -> bool:
        """Create ``dbname`` if missing; return True if created."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", dbname):
            raise ClusterError(f"invalid database name: {dbname!r}")
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if exists:
                return False
            conn.execute(f'CREATE DATABASE "{dbname}"')
            return True

    def drop_database(self, dbname: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", dbname):
            raise ClusterError(f"invalid database name: {dbname!r}")
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
