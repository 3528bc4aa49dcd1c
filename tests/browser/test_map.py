"""The dispatcher map in a real Chromium against a real server: what a call-taker sees and does."""

from __future__ import annotations

import json
import re

import pytest

from tests import users
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

CITY_POINT = (-6.975, 110.425)  # inside tinycity's east kelurahan, away from seeded markers


def open_map(page, live_server, responses=None):
    if responses is not None:
        page.on("response", lambda r: responses.append(r))
    page.goto(live_server.url + "/map")
    page.wait_for_selector("body.ready", timeout=20_000)


def unexpected_errors(page) -> list[str]:
    """Console errors other than Chromium's log line for a 422 the test provoked on purpose."""
    return [e for e in page.console_errors if "status of 422" not in e]


def click_map_at(page, lat: float, lon: float) -> None:
    """Click the map where (lat, lon) is drawn, computed by Leaflet itself."""
    pt = page.evaluate("([lat, lon]) => { const p = window.peta112.map.latLngToContainerPoint([lat, lon]);"
                       " return [p.x, p.y]; }", [lat, lon])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


def test_map_page_loads_leaflet_and_vector_tiles(page, live_server):
    responses: list = []
    open_map(page, live_server, responses)
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-container").count() == 1
    tiles = [r for r in responses if "/tiles/" in r.url]
    layers = {re.search(r"/tiles/(\w+)/", r.url).group(1) for r in tiles}
    assert {"roads", "kelurahan"} <= layers, layers
    assert all(r.status == 200 for r in tiles), [(r.url, r.status) for r in tiles if r.status != 200]
    assert all(r.headers["content-type"] == "application/vnd.mapbox-vector-tile" for r in tiles)
    # Playwright keeps no bodies of the page's fetches; count what VectorGrid decoded and drew instead.
    drawn = page.evaluate("""id => Object.values(window.peta112.state.overlays[id]._vectorTiles)
        .reduce((n, tile) => n + Object.keys(tile._features || {}).length, 0)""", "roads")
    assert drawn >= 3, drawn
    # VectorGrid draws into canvases; the attribution credits OSM.
    assert page.locator(".leaflet-tile-container canvas").count() > 0
    assert "OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.evaluate("document.documentElement.lang") == "id"
    assert page.console_errors == []
    page.screenshot(path=str(ARTIFACTS / "map-1366x768.png"))


def test_incident_created_through_api_appears_in_list_and_as_marker(page, live_server):
    open_map(page, live_server)
    resp = page.request.post(live_server.url + "/api/v1/incidents", data=json.dumps({
        "category": "kebakaran", "lat": -6.982, "lon": 110.431, "caller": {"name": "Sari", "phone": "081234"},
        "description": "asap tebal dari gudang"}),
        headers={"Content-Type": "application/json", **users.auth("dispatcher")})
    assert resp.status == 201
    inc = resp.json()
    page.evaluate("window.peta112.reload()")
    item = page.locator(f'#incident-list li[data-id="{inc["id"]}"]')
    item.wait_for(timeout=10_000)
    assert "Kebakaran" in item.inner_text()
    marker = page.locator(f"path.inc-{inc['id']}")
    marker.wait_for(timeout=10_000)
    # Clicking the list entry pans to the marker and opens its popup.
    item.locator("button").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert f"#{inc['id']}" in popup.inner_text()
    assert page.console_errors == []


def test_live_stream_shows_an_incident_from_another_dispatcher_without_reload(page, live_server):
    open_map(page, live_server)
    users.wait_js(page, "window.peta112.state.streaming === true", timeout=10)
    resp = page.request.post(live_server.url + "/api/v1/incidents", data=json.dumps({
        "category": "banjir", "lat": -6.965, "lon": 110.438}),
        headers={"Content-Type": "application/json", **users.auth("dispatcher")})
    inc = resp.json()
    # Polling runs every 15 s; within 5 s it can only have come through the SSE stream.
    page.locator(f'#incident-list li[data-id="{inc["id"]}"]').wait_for(timeout=5_000)
    page.locator(f"path.inc-{inc['id']}").wait_for(timeout=5_000)
    assert page.console_errors == []


def test_language_switch_changes_labels_and_is_remembered(page, live_server):
    open_map(page, live_server)
    assert page.locator("#tab-new").inner_text() == "Panggilan baru"
    page.click("#lang-switch")
    assert page.locator("#tab-new").inner_text() == "New call"
    assert page.locator("#tab-list").inner_text() == "Incidents"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Roads" in page.locator(".leaflet-control-layers").inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-english.png"))
    page.reload()
    page.wait_for_selector("body.ready")
    assert page.locator("#tab-new").inner_text() == "New call"
    page.click("#lang-switch")
    assert page.locator("#tab-new").inner_text() == "Panggilan baru"
    assert page.evaluate("document.documentElement.lang") == "id"


def test_new_call_form_shows_field_errors_then_saves(page, live_server):
    open_map(page, live_server)
    page.click("#tab-new")
    # No category, no location: the server's problem details land next to the category field.
    page.click("#c-submit")
    page.locator("#err-category").wait_for(state="visible")
    assert page.locator("#err-category").inner_text() != ""
    page.select_option("#c-category", "kecelakaan")
    click_map_at(page, *CITY_POINT)
    assert page.locator("#c-lat").input_value().startswith("-6.97")
    page.fill("#c-caller-name", "Andi")
    page.fill("#c-caller-phone", "not a phone")
    page.fill("#c-description", "motor tabrakan dengan mobil")
    page.click("#c-submit")
    page.locator("#err-caller_phone").wait_for(state="visible")
    assert "Nomor telepon hanya boleh angka" in page.locator("#err-caller_phone").inner_text()  # not the API's English
    page.screenshot(path=str(ARTIFACTS / "form-error.png"))
    page.fill("#c-caller-phone", "0812 3456 7890")
    page.click("#c-submit")
    page.locator("#view-detail").wait_for(state="visible")
    title = page.locator("#detail h2").inner_text()
    new_id = int(re.search(r"#(\d+)", title).group(1))
    assert "Kecelakaan" in title
    page.click("#tab-list")
    page.locator(f'#incident-list li[data-id="{new_id}"]').wait_for(timeout=10_000)
    page.locator(f"path.inc-{new_id}").wait_for()
    page.screenshot(path=str(ARTIFACTS / "after-new-call.png"))
    assert unexpected_errors(page) == []


def test_status_buttons_and_assigning_a_nearest_unit(page, live_server):
    open_map(page, live_server)
    resp = page.request.post(live_server.url + "/api/v1/incidents", data=json.dumps({
        "category": "kebakaran", "lat": -6.992, "lon": 110.412}),
        headers={"Content-Type": "application/json", **users.auth("dispatcher")})
    inc = resp.json()
    page.evaluate("window.peta112.reload()")
    page.locator(f'#incident-list li[data-id="{inc["id"]}"]').wait_for()
    page.locator(f"path.inc-{inc['id']}").click()
    page.locator(".leaflet-popup-content button").click()
    page.locator('#detail [data-status="verified"]').click()
    page.locator("#detail .status-verified").first.wait_for()
    users.wait_js(page, "document.querySelector('#detail h2') && "
                           "!document.querySelector('#detail [data-status=\"verified\"]')")
    page.locator('#nearest [data-unit="801"]').wait_for()
    assert page.locator("path.leaflet-interactive").count() > 0
    page.screenshot(path=str(ARTIFACTS / "detail-nearest.png"))
    page.locator('#nearest [data-unit="801"]').click()
    users.wait_js(page, "id => window.peta112.state.incidents.get(id).status === 'dispatched'", arg=inc["id"])
    assert "T-DAMKAR-1" in page.locator("#detail").inner_text()
    assert page.console_errors == []


def test_phone_layout(browser, live_server):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        users.browser_login(page, live_server.url)
        page.wait_for_selector("body.ready")
        map_box = page.locator("#map").bounding_box()
        panel_box = page.locator(".panel").bounding_box()
        assert map_box["width"] == pytest.approx(390, abs=1)
        assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1  # the panel sits below the map
        assert page.locator("#incident-list li").count() > 0
        page.screenshot(path=str(ARTIFACTS / "map-390x844.png"))
    finally:
        ctx.close()


def test_call_typed_in_one_browser_appears_in_another_through_sse(page, browser, live_server):
    """A call-taker types a call; the dispatcher's open map shows it, pushed over SSE."""
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    dispatcher = other.new_page()
    try:
        users.browser_login(dispatcher, live_server.url, role="dispatcher")
        users.wait_js(dispatcher, "window.peta112.state.streaming === true", timeout=10)
        users.browser_login(page, live_server.url, role="call_taker")
        page.click("#tab-new")
        page.select_option("#c-category", "kebakaran")
        click_map_at(page, -6.99, 110.41)  # a free spot: earlier tests put incidents at CITY_POINT
        assert abs(float(page.locator("#c-lat").input_value()) + 6.99) < 0.001
        page.fill("#c-caller-phone", "0813 1111 2222")
        page.fill("#c-description", "asap dari rumah warga")
        page.click("#c-submit")
        page.locator("#view-detail").wait_for(state="visible")
        new_id = int(re.search(r"#(\d+)", page.locator("#detail h2").inner_text()).group(1))
        # The dispatcher's page polls only every 15 s: within 5 s the call came over SSE.
        dispatcher.locator(f'#incident-list li[data-id="{new_id}"]').wait_for(timeout=5_000)
        dispatcher.screenshot(path=str(ARTIFACTS / "second-browser-sse.png"))
    finally:
        other.close()
