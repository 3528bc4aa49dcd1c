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


def test_bpbd_tunes_the_clusters_from_the_legend_and_the_cap_link_follows(browser, live_server):
    """Distance, minimum calls, window and within set in the clusters' legend entry: the layer is asked
    again with them, kept across a reload, and the cluster's CAP link carries the same parameters."""
    from tests.browser.test_console import api

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    asked: list[str] = []
    pg.on("request", lambda r: asked.append(r.url) if "/api/v1/analytics/clusters" in r.url else None)
    # Three flood calls in a row 350 m apart (nearer, the second and third would be duplicates of the
    # first, which no analytic counts): one cluster of 3 at eps 400 m, none at the default 100 m.
    made = [api(pg, live_server, "POST", "/api/v1/incidents", {"category": "banjir", "lat": lat, "lon": 110.431})
            for lat in (-6.9690, -6.97215, -6.9753)]

    def clusters_of(url: str) -> list[dict]:
        """What the API answers the page's own request (the status line must say as many)."""
        path = url.split(live_server.url, 1)[1]
        res = api(pg, live_server, "GET", path, role="bpbd")
        return res["features"]

    try:
        users.browser_login(pg, live_server.url, role="bpbd")
        pg.evaluate("() => { window.peta112.state.overlays.clusters.addTo(window.peta112.map); }")
        form = pg.locator('#map-legend form.layer-params[data-layer="clusters"]')
        form.wait_for()
        assert form.locator('input[name="eps_m"]').input_value() == "100"       # the API's defaults
        assert form.locator('input[name="min_points"]').input_value() == "5"
        assert form.locator('select[name="within"]').input_value() == "kelurahan"
        users.wait_js(pg, "window.peta112.state.analytic.clusters.loading === false")
        assert "eps_m=100" in asked[-1] and "min_points=5" in asked[-1]
        by_default = clusters_of(asked[-1])
        assert form.locator(".params-status").inner_text() == f"{len(by_default)} klaster"

        # Out of bounds: said in words, nothing asked.
        n = len(asked)
        form.locator('input[name="eps_m"]').fill("5")
        form.locator(".params-apply").click()
        form.locator(".params-status").filter(has_text="isi angka 10 sampai 5.000").wait_for()
        assert len(asked) == n

        form.locator('input[name="eps_m"]').fill("400")
        form.locator('input[name="min_points"]').fill("3")
        form.locator('input[name="window_days"]').fill("7")
        form.locator('select[name="within"]').select_option("city")
        n = len(asked)
        form.locator(".params-apply").click()
        users.wait_js(pg, "window.peta112.state.analytic.clusters.loading === false")
        last = asked[-1]
        assert len(asked) == n + 1
        assert "eps_m=400" in last and "min_points=3" in last and "within=city" in last and "window_days" not in last
        tuned = clusters_of(last)
        assert any(f["properties"]["count"] >= 3 for f in tuned), last  # our three calls
        assert form.locator(".params-status").inner_text() == f"{len(tuned)} klaster"

        # Kept in this browser: after a reload the layer asks with them at once.
        pg.reload()
        pg.wait_for_selector("body.ready", timeout=30_000)
        asked.clear()
        pg.evaluate("() => { window.peta112.state.overlays.clusters.addTo(window.peta112.map); }")
        form.locator(".params-status").filter(has_text=f"{len(tuned)} klaster").wait_for()
        assert form.locator('input[name="eps_m"]').input_value() == "400"
        assert "eps_m=400" in asked[-1] and "min_points=3" in asked[-1]

        # The cluster's popup links its CAP alert with the same parameters (the same cluster number).
        pg.evaluate("""() => { const g = window.peta112.state.overlays.clusters;
            g.eachLayer(l => l.openPopup()); }""")
        href = pg.locator('.leaflet-popup-content a.popup-link[href^="/alerts/cluster/"]').get_attribute("href")
        assert "eps_m=400" in href and "min_points=3" in href and "within=city" in href
        cap = pg.request.get(live_server.url + href)
        assert cap.ok, (href, cap.status)

        form.locator(".params-reset").click()
        users.wait_js(pg, "window.peta112.state.analytic.clusters.loading === false")
        assert "eps_m=100" in asked[-1] and "within=kelurahan" in asked[-1]
        assert form.locator('input[name="eps_m"]').input_value() == "100"
        pg.screenshot(path=str(ARTIFACTS / "map-cluster-params.png"))
        assert errors == []
    finally:
        for inc in made:
            api(pg, live_server, "PATCH", f"/api/v1/incidents/{inc['id']}", {"status": "cancelled"})
        ctx.close()


def test_a_role_that_may_not_ask_for_clusters_gets_no_parameter_form(page, browser, live_server):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    pg = ctx.new_page()
    try:
        users.browser_login(pg, live_server.url, role="call_taker")
        pg.evaluate("() => { window.peta112.state.overlays.clusters.addTo(window.peta112.map); }")
        pg.locator('#map-legend .legend-layer[data-layer="clusters"]').wait_for()
        assert pg.locator("#map-legend form.layer-params").count() == 0
        # The dispatcher (an analyst) gets it.
        page.evaluate("() => { window.peta112.state.overlays.clusters.addTo(window.peta112.map); }")
        page.locator('#map-legend form.layer-params[data-layer="clusters"]').wait_for()
    finally:
        ctx.close()
