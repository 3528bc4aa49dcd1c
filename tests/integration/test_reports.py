"""`peta112 report weekly|map` run as a user runs them: a subprocess against a small demo city."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests import demodb
from tests.scratch import scratch_database

PETA112 = [sys.executable, "-m", "app.cli_main"]


@pytest.fixture(scope="module")
def demo_url(cluster) -> Iterator[str]:
    with scratch_database(cluster, "peta112_reports", seed=demodb.seed) as url:
        yield url


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "MPLBACKEND": "Agg"}
    return subprocess.run([*PETA112, "report", *args], capture_output=True, text=True, env=env, timeout=300)


def test_weekly_report_has_map_charts_tables_in_bahasa_indonesia(demo_url: str, tmp_path: Path):
    out = tmp_path / "weekly.html"
    res = run(demo_url, "weekly", "--until", "2026-10-31", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"wrote {out}") and "incidents" in res.stdout
    html = out.read_text()
    assert '<html lang="id">' in html and "Laporan Mingguan Call Center 112" in html
    for section in ("summary", "map", "charts", "by-category", "by-kecamatan", "performance", "unresolved"):
        assert f'<section id="{section}">' in html, section
    assert "25-10-2026 00:00 WIB – 01-11-2026 00:00 WIB" in html  # the seven WIB days ending with --until
    assert html.count("data:image/png;base64,") == 2  # matplotlib charts embedded, nothing linked
    assert "Kinerja instansi (OPD)" in html and "DAMKAR" in html
    # The map is folium with our data and no online basemap or CDN: Leaflet is inlined.
    assert "L.map(" in html or "L.map(" in html.replace("&quot;", '"')
    assert "tile.openstreetmap.org" not in html and "cdn.jsdelivr.net" not in html
    assert "OpenStreetMap contributors" in html
    m = re.search(r"(\d+)</b>Panggilan", html)
    assert m and int(m.group(1)) > 0


def test_weekly_report_in_english(demo_url: str, tmp_path: Path):
    out = tmp_path / "weekly-en.html"
    res = run(demo_url, "weekly", "--until", "2026-10-31", "--out", str(out), "--lang", "en")
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    assert '<html lang="en">' in html and "Call Center 112 Weekly Report" in html
    assert "Agency (OPD) performance this week" in html


def test_map_report_uses_live_map_colours_and_our_own_basemap(demo_url: str, tmp_path: Path):
    out = tmp_path / "banjir.html"
    res = run(demo_url, "map", "--category", "banjir,rob", "--since", "2026-08-01", "--until", "2026-11-01",
              "--out", str(out))
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    n = int(re.search(r": (\d+) incidents", res.stdout).group(1))
    assert n > 0
    assert "Peta Kejadian 112: Banjir" in html and f"({n} kejadian)" in html
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        colours = dict(conn.execute(text("SELECT code, color FROM incident_categories")).all())
    engine.dispose()
    assert colours["banjir"] in html and colours["rob"] in html  # the live map's category colours
    assert "Batas kelurahan" in html and "Jalan utama" in html
    assert "https://cdn" not in html and "tile.openstreetmap.org" not in html
    assert "OpenStreetMap contributors" in html


@pytest.mark.parametrize(("args", "message"), [
    (["map", "--category", "nope", "--since", "2026-10-01", "--out", "x.html"], "unknown category nope"),
    (["map", "--since", "2026-10-01", "--until", "2026-09-01", "--out", "x.html"], "since must be before until"),
    (["map", "--since", "yesterday", "--out", "x.html"], "Invalid value for '--since'"),
    (["weekly", "--until", "2026-10-31", "--out", "/nonexistent-dir/w.html"], "cannot write"),
    (["weekly", "--out", "w.html", "--lang", "fr"], "Invalid value for '--lang'"),
])
def test_bad_arguments_give_one_line_and_exit_1(demo_url: str, tmp_path: Path, args: list[str], message: str):
    args = [str(tmp_path / a) if a.endswith(".html") and not a.startswith("/") else a for a in args]
    res = run(demo_url, *args)
    assert res.returncode in (1, 2), res.stderr  # click's own usage errors exit 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    if res.returncode == 1:
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
