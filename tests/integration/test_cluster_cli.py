"""The `peta112 db` commands, run as a user would run them (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.db import head_revision

PETA112 = [sys.executable, "-m", "app.cli_main"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run([*PETA112, *args], capture_output=True, text=True, env=full_env,
                          timeout=300)


def test_db_up_twice_is_idempotent(cluster):
    first = run("db", "up")
    assert first.returncode == 0, first.stderr
    second = run("db", "up")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout


def test_db_status_reports_versions_and_socket(cluster):
    assert run("db", "migrate").returncode == 0
    res = run("db", "status")
    assert res.returncode == 0, res.stderr
    assert "postgis:    3." in res.stdout
    assert "pgrouting:  3." in res.stdout
    assert f"socket:     {cluster.paths.sockets}" in res.stdout
    assert "incident_categories" in res.stdout


def test_database_url_override_never_touches_var(cluster, tmp_path: Path):
    other = f"peta112_other_{os.getpid()}"
    cluster.drop_database(other)
    cluster.ensure_database(other)
    var = tmp_path / "var-must-not-exist"
    url = cluster.url(other)
    env = {"DATABASE_URL": url, "PETA112_VAR_DIR": str(var)}
    res = run("db", "migrate", env=env)
    assert res.returncode == 0, res.stderr
    assert f"schema at revision {head_revision()}" in res.stdout
    status = run("db", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "agencies             12" in status.stdout
    assert not var.exists()
    cluster.drop_database(other)


def test_missing_postgres_binaries_give_one_clear_line(tmp_path: Path):
    res = run("db", "up", env={"PETA112_VAR_DIR": str(tmp_path / "v"),
                               "PETA112_PG_BIN": str(tmp_path / "no-such-bin")})
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "postgresql-15-postgis-3 postgresql-15-pgrouting" in lines[0]
    assert "Traceback" not in res.stderr


def test_unreachable_database_url_is_one_line():
    res = run("db", "status", env={"DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent"})
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("error: database unreachable")
