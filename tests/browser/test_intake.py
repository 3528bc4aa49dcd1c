"""The call-taker's form in a real Chromium against a real server (issue 15: intake).

Location precision (Enter alone never saves an approximate place), duplicates before save
with merge, a call saved while the server is unreachable kept in the browser and stored
exactly once, and the form on a phone.  What was stored is checked in the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests import users
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PASAR_JOHAR = (-6.975, 110.430)  # a landmark of tests/tinycity.py
TANJUNG_MAS_CENTRE = (-6.98, 110.43)  # the kelurahan's place point: an approximation


@pytest.fixture()
def call_taker(browser, live_server) -> Iterator[object]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    users.browser_login(pg, live_server.url, role="call_taker")
    yield pg
    ctx.close()


def stored(live_server, phone: str) -> list:
    with live_server.engine.connect() as conn:
        return conn.execute(text(
            "SELECT id, ST_Y(geom) AS lat, ST_X(geom) AS lon, category_code, description FROM incidents "
            "WHERE caller_phone = :p ORDER BY id"), {"p": phone}).all()


def click_map_at(page, lat: float, lon: float) -> None:
    """Bring (lat, lon) into view at street zoom and click the map there, where Leaflet draws it."""
    pt = page.evaluate("([lat, lon]) => { const m = window.peta112.map; m.setView([lat, lon], 17, "
                       "{animate: false}); const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                       [lat, lon])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


def tab_to(page, element_id: str, limit: int = 300) -> None:
    """Press Tab until the element has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} not reached by Tab")


def pick_suggestion_by_keyboard(page, query: str, expect: str) -> str:
    """Type an address, wait for the suggestions, move down to the one named ``expect``, press Enter."""
    page.keyboard.type(query, delay=20)
    page.locator("#address-suggestions li[role=option]").first.wait_for(timeout=10_000)
    names = page.locator("#address-suggestions li[role=option]").all_inner_texts()
    index = next(i for i, n in enumerate(names) if expect in n)
    for _ in range(index + 1):
        page.keyboard.press("ArrowDown")
    chosen = names[index]
    page.keyboard.press("Enter")
    assert page.locator("#address-suggestions").is_hidden()
    return chosen


def test_call_taker_logs_a_call_by_keyboard_alone(call_taker, live_server):
    page, phone = call_taker, "081355550001"
    tab_to(page, "tab-new")
    page.keyboard.press("Enter")
    users.wait_js(page, "() => document.activeElement.id === 'c-category'")
    page.keyboard.type("Keb")  # a focused select jumps to the option typed
    assert page.locator("#c-category").input_value() == "kebakaran"
    tab_to(page, "c-address")
    chosen = pick_suggestion_by_keyboard(page, "pasar johar", "Pasar Johar")
    assert "patokan" in chosen  # each suggestion states its precision
    assert "patokan" in page.locator("#loc-precision").inner_text()
    assert page.locator("#loc-confirm").is_hidden()  # precise: nothing to confirm
    tab_to(page, "c-caller-name")
    page.keyboard.type("Pak Harjo")
    page.keyboard.press("Tab")
    page.keyboard.type(phone)
    page.keyboard.press("Tab")
    page.keyboard.type("asap hitam dari kios")
    tab_to(page, "c-submit")
    page.keyboard.press("Enter")
    page.locator("#view-detail").wait_for(state="visible")
    rows = stored(live_server, phone)
    assert len(rows) == 1
    assert (rows[0].lat, rows[0].lon) == pytest.approx(PASAR_JOHAR, abs=1e-6)
    assert rows[0].category_code == "kebakaran"
    # What happened stays on screen (no toast that vanishes after 6 s).
    assert f"#{rows[0].id}" in page.locator("#last-saved").inner_text()
    assert page.locator(".toast").count() == 0
    assert page.console_errors == []


def test_enter_alone_never_saves_an_approximate_location(call_taker, live_server):
    page, phone = call_taker, "081355550002"
    page.click("#tab-new")
    page.select_option("#c-category", "pohon_tumbang")
    page.fill("#c-caller-phone", phone)
    # Typed but nothing picked: Enter does not fall back to the best guess.
    page.focus("#c-address")
    page.keyboard.type("tanjung mas", delay=20)
    page.locator("#address-suggestions li[role=option]").first.wait_for()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.locator("#err-location").wait_for(state="visible")
    assert "Lokasi belum dipilih" in page.locator("#err-location").inner_text()
    # The kelurahan picked: a centre, stated as such; Enter again still does not save it.
    page.fill("#c-address", "")
    page.focus("#c-address")
    chosen = pick_suggestion_by_keyboard(page, "tanjung mas", "Tanjung Mas")
    assert "perkiraan" in chosen
    assert "perkiraan" in page.locator("#loc-precision").inner_text()
    page.focus("#c-caller-phone")
    page.keyboard.press("Enter")
    page.locator("#err-location").wait_for(state="visible")
    assert "hanya perkiraan" in page.locator("#err-location").inner_text()
    assert page.evaluate("() => document.activeElement.id") == "c-confirm-approx"
    page.wait_for_timeout(300)
    assert stored(live_server, phone) == []
    # An explicit confirmation (Space on the focused box) and Enter: saved at the centre, knowingly.
    page.keyboard.press("Space")
    page.focus("#c-caller-phone")
    page.keyboard.press("Enter")
    page.locator("#view-detail").wait_for(state="visible")
    rows = stored(live_server, phone)
    assert len(rows) == 1 and (rows[0].lat, rows[0].lon) == pytest.approx(TANJUNG_MAS_CENTRE, abs=1e-6)
    # A map click makes any location precise: no confirmation asked.
    page.click("#tab-new")
    page.select_option("#c-category", "pohon_tumbang")
    page.fill("#c-caller-phone", "081355550003")
    click_map_at(page, -6.972, 110.437)
    assert "titik di peta" in page.locator("#loc-precision").inner_text()
    page.click("#c-submit")
    page.locator("#view-detail").wait_for(state="visible")
    assert len(stored(live_server, "081355550003")) == 1
    assert page.console_errors == []


def test_open_call_nearby_is_shown_before_saving_and_the_caller_merged(call_taker, live_server):
    page = call_taker
    resp = page.request.post(live_server.url + "/api/v1/incidents?recommend=0", data=json.dumps({
        "category": "kebakaran", "lat": -6.962, "lon": 110.436, "caller": {"phone": "081355550010"},
        "description": "gudang terbakar"}), headers={"Content-Type": "application/json", **users.auth("dispatcher")})
    first = resp.json()["id"]
    page.click("#tab-new")
    page.select_option("#c-category", "ambulans")  # related: people hurt in the fire
    click_map_at(page, -6.9625, 110.4367)  # ~95 m from it
    item = page.locator(f'#dup-list li[data-id="{first}"]')
    item.wait_for(timeout=10_000)
    assert "Kebakaran" in item.inner_text() and " m" in item.inner_text()
    page.fill("#c-caller-name", "Bu Wati")
    page.fill("#c-caller-phone", "081355550011")
    page.fill("#c-description", "tetangga sesak napas")
    page.screenshot(path=str(ARTIFACTS / "intake-duplicates.png"))
    item.locator("[data-merge]").click()
    page.locator("#view-detail").wait_for(state="visible")
    assert f"#{first}" in page.locator("#detail h2").inner_text()
    users.wait_js(page, "id => (window.peta112.state.incidents.get(id) || {}).report_count === 2", arg=first)
    assert "2 pelapor" in page.locator("#last-saved").inner_text()
    with live_server.engine.connect() as conn:
        reports = conn.execute(text("SELECT caller_name, caller_phone, description FROM incident_reports "
                                    "WHERE incident_id = :i"), {"i": first}).all()
        assert reports == [("Bu Wati", "081355550011", "tetangga sesak napas")]
    assert stored(live_server, "081355550011") == []  # no second incident
    # The detail lists the second caller; the list shows the count.
    users.wait_js(page, "() => document.querySelector('#detail').innerText.includes('Bu Wati')")
    page.click("#tab-list")
    page.locator(f'#incident-list li[data-id="{first}"] .report-badge').wait_for(timeout=10_000)
    assert page.console_errors == []


def test_call_saved_while_the_server_is_unreachable_is_stored_exactly_once(call_taker, live_server):
    page, phone = call_taker, "081355550020"
    intake = re.compile(r".*/api/v1/incidents$")
    attempts = {"n": 0}

    def unreachable(route):
        if route.request.method != "POST":
            route.continue_()
            return
        attempts["n"] += 1
        if attempts["n"] == 1:
            # The worst case first: the server stores the call, and its answer is lost on the way back.
            route.fetch()
        route.abort("internetdisconnected")

    page.route(intake, unreachable)
    page.click("#tab-new")
    page.select_option("#c-category", "kecelakaan")
    click_map_at(page, -6.968, 110.405)
    page.fill("#c-caller-phone", phone)
    page.fill("#c-description", "motor jatuh, pengendara luka")
    page.click("#c-submit")
    pending = page.locator("#pending-list li")
    pending.first.wait_for(timeout=10_000)
    assert "tertunda" in pending.first.inner_text()
    # The form is free for the next call once the first attempt has failed (the retry timer may list
    # the call as pending while that attempt is still on its way).
    users.wait_js(page, "() => document.getElementById('c-caller-phone').value === ''", timeout=20)
    # A reload (or a crashed tab) keeps it: it is in IndexedDB, not in the page.
    page.reload()
    page.wait_for_selector("body.ready")
    page.locator("#pending-list li").first.wait_for(timeout=10_000)
    assert page.locator("#pending-list li").count() == 1
    tries = attempts["n"]
    page.wait_for_timeout(6000)  # the retry timer keeps trying while the server is unreachable
    assert attempts["n"] > tries
    # The server is back: the pending call goes out on its own, with its first Idempotency-Key.
    page.unroute(intake, unreachable)
    users.wait_js(page, "() => document.getElementById('pending-calls').hidden", timeout=20)
    rows = stored(live_server, phone)
    assert len(rows) == 1, rows  # stored once although the first attempt reached the server
    assert rows[0].description == "motor jatuh, pengendara luka"
    assert f"#{rows[0].id}" in page.locator("#last-saved").inner_text()
    with live_server.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM incident_events WHERE incident_id = :i AND kind = 'created'"),
                         {"i": rows[0].id}).scalar_one()
    assert n == 1
    page.reload()
    page.wait_for_selector("body.ready")
    page.wait_for_timeout(500)
    assert page.locator("#pending-calls").is_hidden()
    assert [e for e in page.console_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_phone_form_fits_and_save_is_in_reach(browser, live_server):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="id-ID")
    page = ctx.new_page()
    try:
        users.browser_login(page, live_server.url, role="call_taker")
        page.click("#tab-new")

        def inside(selector: str) -> dict:
            b = page.locator(selector).bounding_box()
            assert b is not None, selector
            right, bottom = b["x"] + b["width"], b["y"] + b["height"]
            assert b["x"] >= 0 and b["y"] >= 0 and right <= 390.5 and bottom <= 844.5, (selector, b)
            return b

        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        inside("#c-submit")  # in view without scrolling
        inside("#c-category")
        page.tap("#c-address")
        page.keyboard.type("jl merdeka", delay=20)
        page.locator("#address-suggestions li[role=option]").first.wait_for()
        for i in range(page.locator("#address-suggestions li").count()):
            inside(f"#address-suggestions li >> nth={i}")
        page.screenshot(path=str(ARTIFACTS / "intake-390x844-suggestions.png"))
        page.locator("#address-suggestions li[role=option]").first.tap()
        page.fill("#c-description", "pohon tumbang menutup jalan")
        inside("#c-submit")
        page.locator("#c-description").focus()
        inside("#c-submit")  # still there at the end of the form
        page.screenshot(path=str(ARTIFACTS / "intake-390x844.png"))
    finally:
        ctx.close()
