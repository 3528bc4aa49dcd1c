"""The dispatcher's queue with the city's history: GET /api/v1/queue and the console's first render.

Issue 15: with ~60,000 calls and 1,642 open, the page held the 500 newest calls and every
overdue P1 call vanished.  The queue now carries every open call; this measures what that
costs.  Full run (`make bench`): 60,000 calls of which 1,642 are open (100 of them
overdue P1), served by gunicorn, as a dispatcher and as DAMKAR; the console in headless
Chromium until every open call is in the store and the first rows are drawn.  Smoke
(`make test`): 3,000 calls, 200 open.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import tinycity, users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import gunicorn
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.scratch import scratch_database

OVERDUE_P1 = 100


def sizes() -> tuple[int, int]:
    return (60_000, 1_642) if full_run() else (3_000, 200)


def _seed(conn) -> None:  # noqa: ANN001 - scratch_database's Connection
    calls, open_ = sizes()
    tinycity.seed(conn)
    # Closed history first, then the open calls: overdue fires, and recent calls of mixed categories.
    conn.execute(text("""
        INSERT INTO incidents (category_code, status, priority, source, received_at, resolved_at, closed_at, geom)
        SELECT c.code, 'closed', c.priority, 'phone', now() - make_interval(mins => g),
               now() - make_interval(mins => g) + interval '40 minutes',
               now() - make_interval(mins => g) + interval '1 hour',
               ST_SetSRID(ST_MakePoint(110.401 + (g % 97) * 0.0004, -6.999 + (g % 89) * 0.00044), 4326)
        FROM generate_series(1, :n) g
        JOIN incident_categories c
          ON c.code = (ARRAY['kebakaran', 'kecelakaan', 'banjir', 'pju_mati', 'kriminal'])[1 + g % 5]
        """), {"n": calls - open_})
    conn.execute(text("""
        INSERT INTO incidents (category_code, status, priority, source, received_at, geom)
        SELECT c.code, 'received', c.priority, 'phone',
               CASE WHEN g <= :p1 THEN now() - make_interval(mins => 30 + g)
                    ELSE now() - make_interval(secs => g * 20) END,
               ST_SetSRID(ST_MakePoint(110.401 + (g % 97) * 0.0004, -6.999 + (g % 89) * 0.00044), 4326)
        FROM generate_series(1, :n) g
        JOIN incident_categories c
          ON c.code = CASE WHEN g <= :p1 THEN 'kebakaran'
                           ELSE (ARRAY['pju_mati', 'lingkungan', 'kecelakaan', 'banjir'])[1 + g % 4] END
        """), {"n": open_, "p1": OVERDUE_P1})
    conn.execute(text("""
        INSERT INTO incident_tasks (incident_id, agency_code)
        SELECT i.id, ca.agency_code FROM incidents i JOIN category_agencies ca ON ca.category_code = i.category_code
        WHERE i.status = 'received'"""))


@pytest.fixture(scope="module")
def server(cluster):
    with (scratch_database(cluster, "peta112_queuebench", seed=_seed) as url,
          gunicorn(url, workers=2, threads=4) as port):
        yield port


def _get(port: int, path: str, role: str) -> tuple[float, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=users.auth(role))
        res = conn.getresponse()
        body = res.read()
        ms = (time.perf_counter() - t0) * 1000
        assert res.status == 200, body[:200]
        return ms, json.loads(body)
    finally:
        conn.close()


@pytest.mark.bench
def test_queue_with_the_city_history(server):
    calls, open_ = sizes()
    rounds = 10 if full_run() else 3
    figures: dict[str, object] = {"calls_in_db": calls, "open_calls": open_, "overdue_p1": OVERDUE_P1}
    for who in ("dispatcher", "t_damkar"):
        times, page = [], {}
        for _ in range(rounds):
            ms, page = _get(server, "/api/v1/queue?limit=100000", who)
            times.append(ms)
        if who == "dispatcher":
            assert page["total"] == open_ and len(page["items"]) == open_
            assert all(i["priority"] == 1 and i["is_overdue"] for i in page["items"][:OVERDUE_P1])
        figures[f"queue_{who}_p50_ms"] = round(percentile(times, 50), 1)
        figures[f"queue_{who}_max_ms"] = round(max(times), 1)
        figures[f"queue_{who}_items"] = len(page["items"])
        figures[f"queue_{who}_bytes"] = len(json.dumps(page))
    if Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID").new_page()
                base = f"http://127.0.0.1:{server}"
                users.browser_login(page, base)
                t0 = time.perf_counter()
                page.goto(base + "/map")
                page.wait_for_selector("body.ready", timeout=120_000)
                users.wait_js(page, "n => window.peta112.state.list.items.length === n", arg=open_, timeout=120)
                figures["console_ready_ms"] = round((time.perf_counter() - t0) * 1000)
                figures["console_rows_in_dom"] = page.locator("#incident-list li").count()
                figures["console_markers"] = page.evaluate("window.peta112.state.markers.size")
                assert figures["console_markers"] == open_
            finally:
                browser.close()
    figures["server"] = "gunicorn gthread 2 workers x 4 threads"
    print("\nqueue:", figures)
    record("queue", figures)
