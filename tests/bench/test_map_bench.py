"""The dispatcher map with ~100,000 incidents in the database: first render and pan/zoom in headless Chromium.

What must stay fast however big the history gets: the page draws the basemap
and analytic overlays from tiles and aggregated endpoints, and incidents from
a paged list (newest 500, clustered by markercluster below zoom 14), so no
request and no layer grows with the number of incidents except the server's
count and the heatmap's grid (bounded by the city's area, not by the calls).

Full run (`make bench`): the demo city with ~3.3 years of calls (~100k
incidents), served by gunicorn; the page is opened with a drill-down over the
whole history (every status, all incidents) and the heatmap on.  Smoke (`make
test`): the small city with one year (a few thousand incidents).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from geodata.demo import generate, load
from tests import users
from tests.bench.results import full_run, record
from tests.bench.server import gunicorn
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.scratch import scratch_database

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)

# Leaflet GridLayers (vector tiles, heatmap aside) report isLoading(); a step is done when none is.
STEPS_JS = """
async (steps) => {
  const m = window.peta112.map;
  const grids = () => { const out = []; m.eachLayer(l => { if (l instanceof L.GridLayer) out.push(l); }); return out; };
  const settled = () => new Promise(res => {
    const check = () => grids().every(g => !g.isLoading()) ? res() : setTimeout(check, 5);
    setTimeout(check, 0);
  });
  const times = [];
  for (const s of steps) {
    const t0 = performance.now();
    await new Promise(res => {
      m.once("moveend", res);
      if (s[0] === "zoom") { m.setZoom(m.getZoom() + s[1], { animate: false }); }
      else { m.panBy([s[1], s[2]], { animate: false }); }
    });
    await new Promise(r => requestAnimationFrame(() => r()));
    await settled();
    await new Promise(r => requestAnimationFrame(() => r()));
    times.push(performance.now() - t0);
  }
  return times;
}
"""
FIRST_TILES_JS = """() => Object.values(window.peta112.state.overlays.roads._vectorTiles || {})
    .some(t => Object.keys(t._features || {}).length > 0)"""
STEPS = [["zoom", 1], ["zoom", 1], ["pan", 300, 0], ["pan", 0, 250], ["pan", -300, 0], ["pan", 0, -250],
         ["zoom", 1], ["zoom", -1], ["zoom", -1], ["zoom", -1]]


def _seed(conn) -> None:  # noqa: ANN001 - scratch_database's Connection
    years = 3.3 if full_run() else 1.0
    load(conn, generate(seed=112, scale="city" if full_run() else "small", years=years, until=UNTIL))
    users.seed(conn)


@pytest.fixture(scope="module")
def server(cluster):
    t0 = time.monotonic()
    with scratch_database(cluster, "peta112_mapbench", seed=_seed) as url:
        eng = make_engine(url)
        with eng.connect() as conn:
            n, first = conn.execute(text("SELECT count(*), min(received_at) FROM incidents")).one()
        eng.dispose()
        load_s = time.monotonic() - t0
        with gunicorn(url, workers=2, threads=8) as port:
            yield f"http://127.0.0.1:{port}", n, first, load_s


@pytest.mark.bench
@pytest.mark.browser
def test_map_render_and_pan_zoom_with_the_whole_history(server):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    base, n, first, load_s = server
    assert n >= (90_000 if full_run() else 1_000)
    since = first.strftime("%Y-%m-%d")
    url = f"{base}/map?status=all&since={since}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            users.browser_login(page, base)
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body.ready", timeout=60_000)
            ready_ms = (time.perf_counter() - t0) * 1000
            users.wait_js(page, FIRST_TILES_JS, timeout=60)
            tiles_ms = (time.perf_counter() - t0) * 1000
            total = page.evaluate("window.peta112.state.total")
            drawn = page.evaluate("window.peta112.state.markers.size")
            assert total == n and drawn <= 500  # the page holds a page of incidents, never the history
            # The heatmap over the whole history: one aggregated request, drawn on one canvas.
            t1 = time.perf_counter()
            page.evaluate("() => { const p = window.peta112; p.map.addLayer(p.state.overlays.heatmap); }")
            users.wait_js(page, "() => { const a = window.peta112.state.analytic.heatmap; return a && !a.loading; }",
                          timeout=60)
            heat_ms = (time.perf_counter() - t1) * 1000
            heat = page.evaluate("window.peta112.state.analytic.heatmap")
            assert heat["total"] > 0.8 * n  # pranks, cancelled and duplicates are left out
            steps = page.evaluate(STEPS_JS, STEPS)
            assert errors == []
            ctx.close()
        finally:
            browser.close()
    zooms = [t for s, t in zip(STEPS, steps, strict=True) if s[0] == "zoom"]
    pans = [t for s, t in zip(STEPS, steps, strict=True) if s[0] == "pan"]
    figures = {
        "incidents_in_db": n, "incidents_drawn": drawn, "db_load_s": round(load_s, 1),
        "first_render_ready_ms": round(ready_ms), "first_tiles_drawn_ms": round(tiles_ms),
        "heatmap_whole_history_ms": round(heat_ms), "heatmap_points": heat["points"],
        "zoom_steps_ms": [round(t) for t in zooms], "pan_steps_ms": [round(t) for t in pans],
        "zoom_max_ms": round(max(zooms)), "pan_max_ms": round(max(pans)),
        "browser": "headless Chromium 1366x768 (Debian chromium)", "server": "gunicorn gthread 2 workers x 8 threads",
        "page": "/map?status=all&since=<first incident> (every status, whole history) + heatmap",
    }
    print("\nmap_render:", figures)
    record("map_render", figures)
    assert ready_ms < 30_000 and max(steps) < 15_000
