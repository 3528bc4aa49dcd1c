"""`peta112 db backup` / `db restore` round trip on a scratch database, run as a user runs them.

Backup through the embedded cluster (PETA112_DB_NAME), lose every call (TRUNCATE),
restore through DATABASE_URL, and compare counts and a checksum of the incidents:
the calls, their tasks and the audit trail must come back exactly, and the id
sequences with them (a new call after the restore must not collide).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db import migrate
from app.db.engine import make_engine
from app.services import dispatch
from tests import tinycity

PETA112 = [sys.executable, "-m", "app.cli_main"]
CHECKSUM_SQL = text("""
    SELECT count(*), md5(string_agg(concat_ws('|', id, category_code, status, caller_phone, description,
                                              received_at, ST_AsText(geom)), ',' ORDER BY id))
    FROM incidents
""")
COUNTS = ("incidents", "incident_tasks", "incident_events", "units", "road_edges", "admin_areas")


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env)
    return subprocess.run([*PETA112, *args], capture_output=True, text=True, env=full_env, input=stdin, timeout=300)


def snapshot(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        out: dict[str, object] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTS}
        out["checksum"] = tuple(conn.execute(CHECKSUM_SQL).one())
        out["revision"] = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return out


@pytest.fixture()
def scratch(cluster):
    name = f"peta112_backup_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    url = cluster.url(name)
    migrate(url, "head")
    engine = make_engine(url)
    with engine.begin() as conn:
        tinycity.seed(conn)
    with Session(engine, expire_on_commit=False) as session:
        for i in range(12):
            inc, _ = dispatch.intake(session, dispatch.Intake(
                category=("kebakaran", "kecelakaan", "pju_mati")[i % 3], lat=-6.975 - i * 0.001, lon=110.43,
                caller_phone=f"0812000{i:04d}", description=f"panggilan {i}", idempotency_key=f"bk-{i}"))
            if i % 4 == 0:
                dispatch.change_status(session, inc["id"], "verified", "tester", "cek")
    try:
        yield name, url, engine
    finally:
        engine.dispose()
        cluster.drop_database(name)


def test_backup_then_restore_brings_every_call_back(scratch, tmp_path: Path):
    name, url, engine = scratch
    before = snapshot(engine)
    assert before["incidents"] == 12 and before["incident_events"] > 12
    dump = tmp_path / "nightly.dump"

    t0 = time.perf_counter()
    res = run("db", "backup", "--out", str(dump), env={"PETA112_DB_NAME": name})
    backup_s = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr
    assert "backup written" in res.stdout and dump.stat().st_size > 10_000
    assert not list(tmp_path.glob("*.partial"))

    with engine.begin() as conn:  # the disaster: every call gone, one stray row written afterwards
        conn.execute(text("TRUNCATE incidents CASCADE"))
        conn.execute(text("DELETE FROM units WHERE id = 804"))
    with Session(engine) as session:
        dispatch.intake(session, dispatch.Intake(category="banjir", lat=-6.97, lon=110.41, idempotency_key="after"))
    assert snapshot(engine)["incidents"] == 1

    refused = run("db", "restore", str(dump), env={"DATABASE_URL": url}, stdin="n\n")
    assert refused.returncode == 1 and "restore cancelled" in refused.stderr
    t0 = time.perf_counter()
    res = run("db", "restore", str(dump), "--yes", env={"DATABASE_URL": url})
    restore_s = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr
    engine.dispose()  # pooled connections point at dropped tables' old plans
    after = snapshot(engine)
    assert after == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key = 'after'")).scalar_one() == 0
        # the audit trail is append-only again after the restore
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM incident_events"))
    with Session(engine) as session:  # sequences were restored too: a new call gets a fresh id
        inc, created = dispatch.intake(session, dispatch.Intake(category="banjir", lat=-6.97, lon=110.41))
        assert created and inc["id"] > 12
    print(f"\nbackup {backup_s:.2f} s ({dump.stat().st_size} bytes), restore {restore_s:.2f} s (CLI, incl. start-up)")


def test_restore_refuses_a_file_that_is_not_a_backup(scratch, tmp_path: Path):
    name, url, engine = scratch
    bogus = tmp_path / "notes.dump"
    bogus.write_text("not a dump")
    res = run("db", "restore", str(bogus), "--yes", env={"DATABASE_URL": url})
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [f"error: {bogus} is not a peta112 backup (pg_dump custom format)"]
    assert snapshot(engine)["incidents"] == 12


def test_backup_of_a_stopped_or_missing_server_is_one_line(tmp_path: Path):
    res = run("db", "backup", "--out", str(tmp_path / "x.dump"),
              env={"DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent"})
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("error: pg_dump failed")
    assert not list(tmp_path.iterdir())
