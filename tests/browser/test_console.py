"""The dispatcher console in a real Chromium: a whole response plan assigned in one click, an
agency acknowledging its task while the dispatcher watches (SSE), and a queue of 2,000 open calls
in which every overdue P1 call is in the list and on the map."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests import tinycity, users
from tests.browser.conftest import ARTIFACTS
from tests.conftest import serving

pytestmark = pytest.mark.browser


def api(page, live_server, method: str, path: str, body: dict | None = None, role: str = "dispatcher") -> dict:
    res = page.request.fetch(live_server.url + path, method=method, data=json.dumps(body) if body else None,
                             headers={"Content-Type": "application/json", **users.auth(role)})
    assert res.ok, (path, res.status, res.text()[:300])
    return res.json()


def open_detail(page, incident_id: int) -> None:
    """From the list to the detail as a user does: the row, its marker's popup, "Detail"."""
    page.evaluate("window.peta112.reload()")
    page.locator(f'#incident-list li[data-id="{incident_id}"] button').click()
    page.locator(".leaflet-popup-content button").click()
    page.locator("#detail h2").filter(has_text=f"#{incident_id}").wait_for()


def test_dispatcher_assigns_a_whole_response_plan(page, live_server):
    fire = api(page, live_server, "POST", "/api/v1/incidents", {"category": "kebakaran", "lat": -6.985, "lon": 110.415})
    try:
        open_detail(page, fire["id"])
        first = page.locator("#plan-slots > li").first
        first.wait_for()
        assert first.get_attribute("data-kind") == "fire_engine"  # a house fire: fire engines first
        assert "Mobil pemadam" in first.inner_text() and "fire_engine" not in page.locator("#nearest").inner_text()
        button = page.locator("#plan-assign-all")
        assert "3 unit" in button.inner_text()
        page.screenshot(path=str(ARTIFACTS / "plan-before-assign.png"))
        button.click()
        users.wait_js(page, "id => (window.peta112.state.incidents.get(id).assignments || [])"
                            ".filter(a => !a.released_at).length === 3", arg=fire["id"])
        page.locator("#assigned").filter(has_text="T-AMB-1").wait_for()
        text_ = page.locator("#assigned").inner_text()
        assert "T-DAMKAR-1" in text_ and "T-DAMKAR-2" in text_ and "Ambulans" in text_
        # What to tell the caller: a drive-time ETA per unit, and the first arrival.
        page.locator("#eta-801").filter(has_text="ETA").wait_for()
        page.locator("#eta-first").filter(has_text="Untuk penelepon").wait_for()
        # The plan now shows the engines as assigned, with nothing left to send for them.
        page.locator('#plan-slots > li[data-kind="fire_engine"] li.assigned').nth(1).wait_for()
        page.screenshot(path=str(ARTIFACTS / "plan-assigned.png"))
        assert page.console_errors == []
    finally:  # release the units for the other browser tests
        api(page, live_server, "PATCH", f"/api/v1/incidents/{fire['id']}", {"status": "resolved"})


def test_agency_acknowledges_and_the_dispatcher_sees_it_live(page, browser, live_server):
    fire = api(page, live_server, "POST", "/api/v1/incidents", {"category": "kebakaran", "lat": -6.995, "lon": 110.43})
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    agency = other.new_page()
    agency.console_errors = []
    agency.on("pageerror", lambda e: agency.console_errors.append(str(e)))
    try:
        users.wait_js(page, "window.peta112.state.streaming === true", timeout=10)
        open_detail(page, fire["id"])
        page.locator('#tasks [data-agency="DAMKAR"].task-forwarded').wait_for()

        users.browser_login(agency, live_server.url, role="t_damkar")
        assert agency.locator("#tab-new").is_hidden()  # an agency takes no calls
        open_detail(agency, fire["id"])
        # Only its own task's buttons; no incident status or assignment buttons for this role.
        assert agency.locator('#tasks [data-agency="POLRI"] button').count() == 0
        assert agency.locator("#detail .status-actions").count() == 0
        assert agency.locator("#plan-assign-all").count() == 0
        assert agency.locator("#incident-list").inner_text().count("Tugas DAMKAR") >= 1
        agency.locator('#tasks [data-agency="DAMKAR"] [data-task-status="acknowledged"]').click()
        agency.locator('#tasks [data-agency="DAMKAR"].task-acknowledged').wait_for()
        agency.screenshot(path=str(ARTIFACTS / "agency-task.png"))

        # The dispatcher's page polls only every 15 s: within 5 s the change came over SSE.
        page.locator('#tasks [data-agency="DAMKAR"].task-acknowledged').wait_for(timeout=5_000)
        assert "Diterima instansi" in page.locator('#tasks [data-agency="DAMKAR"]').inner_text()

        # A refused request reads in Indonesian, not the API's English.
        agency.locator('#tasks [data-agency="DAMKAR"] [data-task-status="rejected"]').click()
        agency.locator("#tasks .task-reject-confirm").click()
        agency.locator("#tasks .form-error").filter(has_text="Penolakan wajib disertai alasan").wait_for()
        assert agency.console_errors == [] and page.console_errors == []
    finally:
        other.close()
        api(page, live_server, "PATCH", f"/api/v1/incidents/{fire['id']}", {"status": "resolved"})


OPEN_CALLS = 2000
OVERDUE_P1_EVERY = 20  # 100 of them: fires received 30 to 129 minutes ago (the target is 8)


def seed_busy_city(conn) -> None:
    tinycity.seed(conn)
    conn.execute(text("""
        INSERT INTO incidents (category_code, status, priority, source, address, received_at, geom)
        SELECT c.code, 'received', c.priority, 'phone', 'Jl. Antrean ' || g,
               CASE WHEN g % :every = 0 THEN now() - make_interval(mins => 30 + (g / :every) % 100)
                    ELSE now() - make_interval(secs => g) END,
               ST_SetSRID(ST_MakePoint(110.401 + (g % 97) * 0.0004, -6.999 + (g % 89) * 0.00044), 4326)
        FROM generate_series(1, :n) g
        JOIN incident_categories c
          ON c.code = CASE WHEN g % :every = 0 THEN 'kebakaran'
                           ELSE (ARRAY['pju_mati', 'lingkungan', 'gepeng', 'banjir'])[1 + g % 4] END
        """), {"n": OPEN_CALLS, "every": OVERDUE_P1_EVERY})


# Scroll the list's panel so that row i is at its top, as a user's scrolling would.
SCROLL_TO_ROW = """i => {
  const view = document.getElementById('view-list'), list = document.getElementById('incident-list');
  const h = window.peta112.state.list.rowHeight;
  view.scrollTop += list.getBoundingClientRect().top - view.getBoundingClientRect().top + i * h;
}"""


@pytest.fixture(scope="module")
def busy_server(cluster, base_settings):
    with serving(cluster, base_settings, "peta112_busy", seed_busy_city) as server:
        yield server


def test_every_overdue_p1_of_2000_open_calls_is_in_the_list_and_on_the_map(browser, busy_server):
    with busy_server.engine.connect() as conn:
        overdue_p1 = set(conn.execute(text(
            "SELECT id FROM incident_facts WHERE is_open AND is_overdue AND priority = 1")).scalars())
        open_calls = conn.execute(text("SELECT count(*) FROM incident_facts WHERE is_open")).scalar_one()
    assert len(overdue_p1) == OPEN_CALLS // OVERDUE_P1_EVERY and open_calls == OPEN_CALLS
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = ctx.new_page()
    try:
        users.browser_login(page, busy_server.url, role="dispatcher")
        page.locator("#list-summary").filter(has_text="2.000 panggilan terbuka").wait_for()
        # Virtualised: a screenful of rows is in the DOM, not 2,000.
        assert page.locator("#incident-list li").count() < 100
        # Walk the list from the top as a user scrolls: the first rows are exactly the overdue P1 calls.
        rows: dict[int, int] = {}
        for index in range(0, len(overdue_p1), 10):
            page.evaluate(SCROLL_TO_ROW, index)
            # Drawn once the last row of this stretch is there (rows of the previous stretch may still show).
            last = min(index + 9, len(overdue_p1) - 1)
            users.wait_js(page, "i => document.querySelector(`#incident-list li[data-index='${i}']`)", arg=last)
            seen = page.evaluate("""() => Array.from(document.querySelectorAll('#incident-list li[data-id]'))
                                     .map(li => [Number(li.dataset.index), Number(li.dataset.id)])""")
            rows.update({i: iid for i, iid in seen if i < len(overdue_p1)})
        assert set(rows.values()) == overdue_p1
        page.evaluate("document.getElementById('view-list').scrollTop = 0")
        first = page.locator("#incident-list li[data-index='0']")
        first.wait_for()
        assert "P1" in first.inner_text() and "Terlambat" in first.inner_text()
        # On the map: every overdue P1 call is its own marker, never folded into a cluster.
        drawn = set(page.evaluate("""() => Array.from(document.querySelectorAll('path.inc-urgent'))
            .map(p => Number(Array.from(p.classList).find(c => /^inc-\\d+$/.test(c)).slice(4)))"""))
        assert drawn == overdue_p1
        assert page.evaluate("window.peta112.state.incidents.size") == OPEN_CALLS
        page.screenshot(path=str(ARTIFACTS / "queue-2000.png"))
    finally:
        ctx.close()


def test_an_agency_liaison_sees_the_plan_and_the_units_coming_but_does_not_assign(page, browser, live_server):
    """In the 112 room the liaison tells its own crews what is coming: the plan and the assigned
    units with their ETA are there, read-only, with one line saying the dispatcher assigns."""
    fire = api(page, live_server, "POST", "/api/v1/incidents", {"category": "kebakaran", "lat": -6.99, "lon": 110.42})
    plan = api(page, live_server, "GET", f"/api/v1/incidents/{fire['id']}/plan")
    engine = next(c for line in plan["plan"] for c in line["candidates"] if c.get("unit_type") == "fire_engine")
    api(page, live_server, "POST", f"/api/v1/incidents/{fire['id']}/assignments", {"unit_id": engine["unit_id"]})
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    agency = other.new_page()
    agency.console_errors = []
    agency.on("pageerror", lambda e: agency.console_errors.append(str(e)))
    try:
        users.browser_login(agency, live_server.url, role="t_damkar")
        open_detail(agency, fire["id"])
        agency.locator("#plan-slots > li").first.wait_for()
        nearest = agency.locator("#nearest")
        assert "Rencana respons" in nearest.inner_text()
        read_only = agency.locator("#plan-read-only")
        assert read_only.inner_text() == "Hanya untuk dilihat: unit ditugaskan oleh dispatcher 112."
        # Which unit is coming and when: the assigned engine, in the plan and with its ETA.
        engines = agency.locator('#plan-slots li[data-kind="fire_engine"] li.assigned')
        assert engine["callsign"] in engines.first.inner_text()
        agency.locator(f'#eta-{engine["unit_id"]}').filter(has_text="ETA").wait_for()
        # The desk's next proposals are marked as such; nothing to press, no dispatcher alternatives.
        proposed = agency.locator("#plan-slots li.candidate")
        assert proposed.count() >= 1 and "usulan" in proposed.first.inner_text()
        assert nearest.locator("button").count() == 0
        assert agency.locator("#plan-assign-all").count() == 0 and agency.locator("#plan-others").count() == 0
        agency.screenshot(path=str(ARTIFACTS / "agency-plan-read-only.png"))
        agency.click("#lang-switch")
        read_only.filter(has_text="View only: units are assigned by the 112 dispatcher.").wait_for()
        assert "proposed" in agency.locator("#plan-slots li.candidate").first.inner_text()
        # The dispatcher's own console keeps its buttons and no read-only line.
        open_detail(page, fire["id"])
        page.locator("#plan-slots > li").first.wait_for()
        assert page.locator("#plan-read-only").count() == 0
        assert page.locator("#nearest button[data-unit]").count() >= 1
        assert agency.console_errors == [] and page.console_errors == []
    finally:
        other.close()
        api(page, live_server, "PATCH", f"/api/v1/incidents/{fire['id']}", {"status": "resolved"})
