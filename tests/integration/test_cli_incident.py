"""`peta112 incident` through a real subprocess against a scratch database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests import tinycity
from tests.scratch import scratch_database


@pytest.fixture(scope="module")
def scratch(cluster):
    with scratch_database(cluster, "peta112_cli", seed=tinycity.seed) as url:
        yield url


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "app.cli_main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_incident_add_show_status(scratch):
    res = run(scratch, "incident", "add", "--category", "kecelakaan", "--lat", "-6.978", "--lon", "110.431",
              "--caller-phone", "0812345678", "--json")
    assert res.returncode == 0, res.stderr
    inc = json.loads(res.stdout)
    assert inc["kelurahan"]["name"] == "Tanjung Mas"
    assert {t["agency"] for t in inc["tasks"]} >= {"POLRI", "DINKES"}
    summary = run(scratch, "incident", "add", "--category", "kebakaran", "--address", "pasar johar")
    assert summary.returncode == 0 and "forwarded to DAMKAR" in summary.stdout
    ok = run(scratch, "incident", "status", str(inc["id"]), "verified")
    assert ok.returncode == 0 and "now verified" in ok.stdout
    shown = run(scratch, "incident", "show", str(inc["id"]))
    assert "status_changed verified" in shown.stdout


@pytest.mark.parametrize("args,expected", [
    (("incident", "add", "--category", "nope", "--lat", "-6.98", "--lon", "110.42"), "category: unknown category"),
    (("incident", "add", "--category", "kebakaran", "--lat", "-9", "--lon", "110.42"), "lat: location"),
    (("incident", "status", "999999", "verified"), "does not exist"),
])
def test_cli_errors_are_one_line(scratch, args, expected):
    eng = make_engine(scratch)
    with eng.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    res = run(scratch, *args)
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and expected in res.stderr
    assert "Traceback" not in res.stderr
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == before
    eng.dispose()
