"""The map as BPBD and a dispatcher read it: street names, one popup per click, the legend, and a
flood level BPBD sets reaching another open map over the live stream (issue 15)."""

from __future__ import annotations

import pytest

from tests import users
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_map import click_map_at, open_map  # noqa: F401 - click_map_at used by popup_at

pytestmark = pytest.mark.browser

ON_MERDEKA = (-6.98, 110.428)       # on Jl. Merdeka (tinycity's road from node 2 to node 3)
IN_TANJUNG_MAS = (-6.972, 110.431)  # inside kelurahan Tanjung Mas, away from the roads


def popup_at(page, lat: float, lon: float):
    """Click the map at a point and return its popup.  A click that lands while the map is still
    settling after a jump (tiles arriving) can pass unanswered, so a second one is allowed."""
    popup = page.locator(".leaflet-popup-content")
    for _ in range(2):
        click_map_at(page, lat, lon)
        try:
            popup.wait_for(timeout=3_000)
            return popup
        except Exception:  # noqa: BLE001 - try once more, then let wait_for fail with its message
            continue
    popup.wait_for(timeout=1_000)
    return popup


def features_at(page, lat: float, lon: float) -> list[dict]:
    return page.evaluate("""([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon))
        .map(h => ({layer: h.def.id, props: h.props}))""", [lat, lon])


def test_street_names_are_drawn_and_every_layer_answers_a_click(page, live_server):
    open_map(page, live_server)
    # The label renderer itself says which names it painted (not a timer, not a screenshot diff).
    users.wait_js(page, "() => window.peta112.state.overlays.labels.drawnNames.has('Jl. Merdeka')")
    assert page.evaluate("document.fonts.check(\"12px 'Noto Sans'\")")  # the vendored font, offline
    # One click on a street: one popup with the road and the kelurahan under it.
    page.evaluate("([lat, lon]) => window.peta112.map.setView([lat, lon], 16, {animate: false})", list(ON_MERDEKA))
    users.wait_js(page, "([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon)).length >= 2",
                  arg=list(ON_MERDEKA))
    text = popup_at(page, *ON_MERDEKA).inner_text()
    assert "Jl. Merdeka" in text and "Jalan kolektor" in text  # the class in words, not "secondary"
    assert "Kelurahan" in text and "Tengah" in text            # the kelurahan and its kecamatan
    assert page.locator(".flood-control").count() == 0         # a dispatcher may not set flood states
    # Legend per visible layer; Leaflet's controls in Bahasa Indonesia; the layer switcher folds.
    legend = page.locator("#map-legend")
    assert legend.locator('.legend-layer[data-layer="roads"]').count() == 1
    assert legend.locator('.legend-layer[data-layer="kelurahan"]').count() == 1
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Perbesar"
    page.click(".layers-toggle")
    assert "folded" in page.locator(".leaflet-control-layers").get_attribute("class")
    assert page.console_errors == []
    page.screenshot(path=str(ARTIFACTS / "map-labels-popup.png"))


def test_bpbd_sets_a_flood_level_that_reaches_another_open_map_without_reload(page, browser, live_server):
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    bpbd = other.new_page()
    bpbd.console_errors = []
    bpbd.on("pageerror", lambda e: bpbd.console_errors.append(str(e)))
    try:
        open_map(page, live_server)  # the dispatcher's map, open before the change
        users.wait_js(page, "window.peta112.state.streaming === true", timeout=10)
        page.evaluate("window.__notReloaded = true")
        assert not [h for h in features_at(page, *IN_TANJUNG_MAS) if h["layer"] == "flood_states"]

        users.browser_login(bpbd, live_server.url, role="bpbd")
        bpbd.evaluate("([lat, lon]) => window.peta112.map.setView([lat, lon], 15, {animate: false})",
                      list(IN_TANJUNG_MAS))
        users.wait_js(bpbd, "([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon))"
                            ".some(h => h.def.id === 'kelurahan')", arg=list(IN_TANJUNG_MAS))
        popup_at(bpbd, *IN_TANJUNG_MAS)
        bpbd.locator(".flood-control").wait_for()
        bpbd.click('.flood-control button[data-level="3"]')
        bpbd.locator(".toast").filter(has_text="level 3").wait_for()

        # The dispatcher's map draws it from the stream's "flood" event: no reload, no 15 s poll.
        users.wait_js(page, """([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon))
            .some(h => h.def.id === 'flood_states' && h.props.level === 3)""", arg=list(IN_TANJUNG_MAS), timeout=10)
        assert page.evaluate("window.__notReloaded === true")
        page.evaluate("([lat, lon]) => window.peta112.map.setView([lat, lon], 15, {animate: false})",
                      list(IN_TANJUNG_MAS))
        users.wait_js(page, """([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon))
            .some(h => h.def.id === 'flood_states')""", arg=list(IN_TANJUNG_MAS))
        popup = popup_at(page, *IN_TANJUNG_MAS)
        assert "71-150 cm" in popup.inner_text()
        assert popup.locator('a.popup-link[href^="/alerts/flood/"]').count() == 1
        page.screenshot(path=str(ARTIFACTS / "map-flood-second-browser.png"))

        # Cleared by BPBD: gone from the other map too.
        users.wait_js(bpbd, """([lat, lon]) => window.peta112.featuresAt(L.latLng(lat, lon))
            .some(h => h.def.id === 'flood_states')""", arg=list(IN_TANJUNG_MAS))
        popup_at(bpbd, *IN_TANJUNG_MAS)
        bpbd.locator(".flood-control .flood-clear").click()
        users.wait_js(page, """([lat, lon]) => !window.peta112.featuresAt(L.latLng(lat, lon))
            .some(h => h.def.id === 'flood_states')""", arg=list(IN_TANJUNG_MAS), timeout=10)
        assert bpbd.console_errors == [] and page.console_errors == []
    finally:
        other.close()
