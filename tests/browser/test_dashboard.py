"""The officials' dashboard and the map's analytic overlays in a real Chromium against a real server."""

from __future__ import annotations

import json

import pytest

from tests import users
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

CALLS = [("kebakaran", -6.982, 110.431), ("kebakaran", -6.985, 110.433), ("banjir", -6.975, 110.405),
         ("banjir", -6.976, 110.406), ("kecelakaan", -6.97, 110.425)]


@pytest.fixture(scope="module")
def calls(browser, live_server) -> list[dict]:
    """A few calls whose tasks the agencies acknowledge, so the ranking has numbers."""
    ctx = browser.new_context()
    out = []
    try:
        for cat, lat, lon in CALLS:
            resp = ctx.request.post(live_server.url + "/api/v1/incidents", data=json.dumps(
                {"category": cat, "lat": lat, "lon": lon}),
                headers={"Content-Type": "application/json", **users.auth("dispatcher")})
            assert resp.status == 201, resp.text()
            inc = resp.json()
            for task in inc["tasks"]:
                r = ctx.request.patch(f"{live_server.url}/api/v1/incidents/{inc['id']}/tasks/{task['agency']}",
                                      data=json.dumps({"status": "acknowledged"}),
                                      headers={"Content-Type": "application/json", **users.auth("dispatcher")})
                assert r.status == 200, r.text()
            out.append(inc)
    finally:
        ctx.close()
    return out


def open_dashboard(page, live_server, query: str = ""):
    page.goto(live_server.url + "/dashboard" + query)
    page.wait_for_selector("body.ready", timeout=20_000)


def test_dashboard_renders_ranking_charts_and_heat_table(page, live_server, calls):
    open_dashboard(page, live_server)
    assert page.evaluate("document.documentElement.lang") == "id"
    assert "Peringkat kinerja instansi" in page.locator("#h-ranking").inner_text()
    rows = page.locator("#ranking tbody tr[data-agency]")
    agencies = {rows.nth(i).get_attribute("data-agency") for i in range(rows.count())}
    assert "DAMKAR" in agencies and "BPBD" in agencies
    # Chart.js drew into every canvas (a drawn canvas has a non-zero size and a Chart instance).
    for cid in ("chart-times", "chart-compliance", "chart-mix", "chart-flood", "chart-prank"):
        assert page.evaluate("id => !!Chart.getChart(id) && document.getElementById(id).width > 0", cid), cid
    assert page.locator("#heat tbody tr").count() == 7
    assert page.locator("#heat tbody tr").first.locator("td").count() == 24
    assert int(page.locator("#kpi-calls .value").inner_text().replace(".", "")) >= len(CALLS)
    # Drill-down: the agency's row links to the map with the dashboard's window.
    href = page.locator('#ranking tr[data-agency="DAMKAR"] a.map-link').get_attribute("href")
    assert href.startswith("/map?agency=DAMKAR&status=all&since=")
    assert page.console_errors == []
    page.screenshot(path=str(ARTIFACTS / "dashboard-1366x768.png"))


def test_filters_change_the_data(page, live_server, calls):
    open_dashboard(page, live_server)
    before = page.locator("#ranking tbody tr[data-agency]").count()
    loads = int(page.evaluate("document.body.dataset.loads"))
    with page.expect_request(lambda r: "agency-performance" in r.url and "category=banjir" in r.url):
        page.select_option("#d-category", "banjir")
    users.wait_js(page, "n => +document.body.dataset.loads > n", arg=loads)
    rows = page.locator("#ranking tbody tr[data-agency]")
    after = {rows.nth(i).get_attribute("data-agency") for i in range(rows.count())}
    assert "BPBD" in after and "DAMKAR" not in after and len(after) < before
    assert "category=banjir" in page.url  # the view is a shareable link
    # A window before any call: empty ranking, no error.
    page.fill("#d-since", "2020-01-01")
    page.fill("#d-until", "2020-01-31")
    page.locator("#d-until").dispatch_event("change")
    users.wait_js(page, "() => document.querySelector('#ranking tbody td.empty')")
    assert page.console_errors == []


def test_dashboard_language_switch_and_screenshot(page, live_server, calls):
    open_dashboard(page, live_server)
    page.click("#lang-switch")
    assert page.locator("#h-ranking").inner_text() == "Agency (OPD) performance ranking"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#nav-map").inner_text() == "Map"
    assert page.evaluate("Chart.getChart('chart-times').data.datasets[0].label") == "Median"
    page.screenshot(path=str(ARTIFACTS / "dashboard-english.png"))
    page.click("#lang-switch")
    assert page.locator("#h-ranking").inner_text() == "Peringkat kinerja instansi (OPD)"


def test_map_and_dashboard_link_to_each_other(page, live_server):
    page.goto(live_server.url + "/map")
    page.wait_for_selector("body.ready", timeout=20_000)
    page.click("#nav-dashboard")
    page.wait_for_selector("body.dashboard.ready", timeout=20_000)
    page.click("#nav-map")
    page.wait_for_selector("#map.leaflet-container")


def test_drilldown_link_filters_the_map(page, live_server, calls):
    fire = [c for c in calls if c["category"] == "kebakaran"]
    page.goto(live_server.url + "/map?agency=DAMKAR&status=all&category=kebakaran&since=2020-01-01")
    page.wait_for_selector("body.ready", timeout=20_000)
    assert page.locator("#drilldown").is_visible() and "DAMKAR" in page.locator("#drilldown").inner_text()
    assert page.locator("#f-category").input_value() == "kebakaran"
    for inc in fire:
        page.locator(f'#incident-list li[data-id="{inc["id"]}"]').wait_for(timeout=10_000)
    ids = page.evaluate("Array.from(window.peta112.state.incidents.values()).map(i => i.category)")
    assert set(ids) == {"kebakaran"}
    page.click("#drilldown-clear")
    assert page.locator("#drilldown").is_hidden()
    assert page.console_errors == []


@pytest.mark.parametrize(("layer_id", "label"), [("heatmap", "Kepadatan kejadian"), ("hotspots", "Hotspot (Gi*"),
                                                  ("clusters", "Klaster kejadian")])
def test_analytic_layers_toggle_in_the_layer_control(page, live_server, calls, layer_id, label):
    responses: list = []
    page.on("response", lambda r: responses.append(r))
    page.goto(live_server.url + "/map")
    page.wait_for_selector("body.ready", timeout=20_000)
    control = page.locator(".leaflet-control-layers label", has_text=label)
    assert not control.locator("input").is_checked()  # off by default: they cost a query
    control.locator("input").check()
    users.wait_js(page, "id => { const a = window.peta112.state.analytic[id]; return a && !a.loading; }",
                  arg=layer_id, timeout=20)
    state = page.evaluate("id => window.peta112.state.analytic[id]", layer_id)
    assert "error" not in state, state
    api = [r for r in responses if "/api/v1/analytics/" in r.url]
    assert api and all(r.status == 200 for r in api), [(r.url, r.status) for r in api]
    assert page.evaluate("id => window.peta112.map.hasLayer(window.peta112.state.overlays[id])", layer_id)
    if layer_id == "heatmap":
        assert state["points"] >= 1
        assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    if layer_id == "hotspots":
        assert state["features"] >= 3
    control.locator("input").uncheck()
    assert not page.evaluate("id => window.peta112.map.hasLayer(window.peta112.state.overlays[id])", layer_id)
    assert page.console_errors == []



@pytest.fixture()
def official_page(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    users.browser_login(pg, live_server.url, "official")
    yield pg
    ctx.close()


def test_official_opens_the_weekly_report_and_sees_hotspots(official_page, live_server, calls):
    page = official_page
    open_dashboard(page, live_server)
    # Hotspots drawn on the dashboard: one SVG path per unit (the tiny city has two kelurahan, too few
    # for Gi*, so the dashboard falls back to 500 m hexagons), coloured like the map layer.
    users.wait_js(page, "() => document.querySelectorAll('#hotspot-map path').length > 0")
    assert page.locator("#hotspot-map path").count() == page.evaluate(
        "fetch('/api/v1/analytics/hotspots?unit=hex&hex_m=500&permutations=0&since=' +"
        " document.getElementById('d-since').value).then(r => r.json()).then(d => d.features.length)")
    link = page.locator("#nav-report")
    href = link.get_attribute("href")
    assert href.startswith("/api/v1/analytics/weekly-report?until=") and "lang=id" in href
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state("load")
    assert report.title().startswith("Laporan Mingguan Call Center 112")
    kpi = report.locator("#summary .kpi b").first.inner_text()
    assert kpi.replace(".", "").isdigit()
    # The report's folium map runs in its sandbox (inline script, no access to the session).
    frame = report.frame_locator("iframe.map")
    frame.locator(".leaflet-container").wait_for(timeout=20_000)
    assert page.console_errors == []
    report.screenshot(path=str(ARTIFACTS / "weekly-report.png"))
    page.screenshot(path=str(ARTIFACTS / "dashboard-official.png"), full_page=True)
