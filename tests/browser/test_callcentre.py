"""The call centre in a real Chromium: a ring pops the caller's history and AML circle in an open console;
the dashboard's monthly recap and Erlang C staffing grid."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests import users

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def contacts(browser, live_server) -> int:
    """A handful of answered contacts of the last hour, logged by the desk."""
    ctx = browser.new_context()
    now = datetime.now(UTC)
    try:
        for i, disposition in enumerate(("informasi", "iseng", "salah_sambung", "tes")):
            offered = now - timedelta(minutes=30 - i)
            resp = ctx.request.post(live_server.url + "/api/v1/calls", data=json.dumps({
                "caller_phone": f"08123000000{i}", "offered_at": offered.isoformat(),
                "answered_at": (offered + timedelta(seconds=5)).isoformat(),
                "ended_at": (offered + timedelta(seconds=65)).isoformat(), "disposition": disposition}),
                headers={"Content-Type": "application/json", **users.auth("dispatcher")})
            assert resp.status == 201, resp.text()
    finally:
        ctx.close()
    return 4


def test_dashboard_shows_the_staffing_grid_and_the_monthly_recap(page, live_server, contacts):
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("#callcentre:not([hidden]) #cc-staffing", timeout=20_000)
    assert page.locator("#cc-staffing tbody tr").count() == 7
    assert page.locator("#cc-staffing tbody tr").first.locator("td").count() == 24
    cells = page.locator("#cc-staffing tbody td").all_inner_texts()
    assert all(c.isdigit() and int(c) >= 1 for c in cells)  # 112 is never unstaffed
    assert "Kebutuhan operator per jam" in page.locator("#callcentre").inner_text()
    href = page.locator("#cc-csv").get_attribute("href")
    assert href.startswith("/api/v1/reports/monthly?month=") and href.endswith("&format=csv")
    page.click("#lang-switch")
    page.wait_for_function("document.querySelector('#callcentre').innerText.includes('Operators needed per hour')")
    assert page.console_errors == []


def test_a_ring_pops_the_prank_history_and_the_aml_circle_in_an_open_console(page, live_server):
    number = "+6281299997777"
    headers = {"Content-Type": "application/json", **users.auth("dispatcher")}
    now = datetime.now(UTC)
    for i in range(3):  # a known prankster
        resp = page.request.post(live_server.url + "/api/v1/calls", data=json.dumps({
            "caller_phone": number, "offered_at": (now - timedelta(days=i + 1)).isoformat(),
            "answered_at": (now - timedelta(days=i + 1) + timedelta(seconds=4)).isoformat(),
            "ended_at": (now - timedelta(days=i + 1) + timedelta(seconds=30)).isoformat(), "disposition": "iseng"}),
            headers=headers)
        assert resp.status == 201, resp.text()
    asked: list[str] = []  # the stream's event carries the call: the console asks the API for nothing more
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/calls/" in r.url else None)
    page.goto(live_server.url + "/map")
    page.wait_for_selector("body.ready", timeout=30_000)
    page.wait_for_function("window.peta112 && window.peta112.state.streaming === true", timeout=30_000)
    ring = page.request.post(live_server.url + "/api/v1/calls/events", headers=headers, data=json.dumps(
        {"event": "ring", "call_id": f"BROWSER-{now.timestamp()}", "from": number, "to": "112"}))
    assert ring.status == 201, ring.text()
    page.wait_for_selector("#call-pop:not([hidden])", timeout=20_000)
    text = page.locator("#call-pop").inner_text()
    assert number in text and "Riwayat iseng: 3×" in text and "sering iseng" in text
    # The handset's AML SMS arrives: the caller's position with its accuracy circle.
    top = (now - timedelta(seconds=10)).strftime("%Y%m%d%H%M%S")
    aml = (f'A"ML=1;lt=-6.98200;lg=+110.43100;rd=35;top={top};lc=68;pm=G;si=510100000000000;'
           "ei=356708041746734;mcc=510;mnc=10;ml=124")
    res = page.request.post(live_server.url + f"/api/v1/aml?from={number.replace('+', '%2B')}", data=aml,
                            headers={"Content-Type": "text/plain", **users.auth("dispatcher")})
    assert res.status == 201, res.text()
    page.wait_for_selector("path.caller-location", timeout=20_000)
    assert "±35 m" in page.locator("#call-pop").inner_text()
    page.click("#call-use")
    assert page.input_value("#c-lat") == "-6.982000" and page.input_value("#c-lon") == "110.431000"
    assert page.input_value("#c-caller-phone") == number
    assert page.locator("#loc-confirm").is_hidden()  # ±35 m: a point, nothing to confirm
    # A newer fix from the cell network (±1,200 m) replaces the circle; as a location it needs confirming.
    newer = (now - timedelta(seconds=2)).strftime("%Y%m%d%H%M%S")
    aml = aml.replace(f"top={top}", f"top={newer}").replace("rd=35", "rd=1200").replace("pm=G", "pm=C")
    res = page.request.post(live_server.url + f"/api/v1/aml?from={number.replace('+', '%2B')}", data=aml,
                            headers={"Content-Type": "text/plain", **users.auth("dispatcher")})
    assert res.status == 201, res.text()
    page.locator("#call-pop", has_text="±1.200 m").wait_for(timeout=20_000)
    assert page.locator("path.caller-location").count() == 1
    page.click("#call-use")
    assert page.locator("#loc-confirm").is_visible()
    assert asked == []
    assert page.console_errors == []


def test_a_telegram_location_appears_in_the_desk_console_and_the_operator_converts_it(page, live_server):
    """A Telegram chat (text, then its location: the webhook's own code path) appears in the open console's
    Pesan tab by the stream alone; the operator shows it on the map and makes it an incident there."""
    from sqlalchemy.orm import Session

    from app.calls import channels

    page.goto(live_server.url + "/map")
    page.wait_for_selector("body.ready", timeout=30_000)
    page.wait_for_function("window.peta112 && window.peta112.state.streaming === true", timeout=30_000)
    assert page.locator("#tab-chat").is_visible()
    page.click("#tab-chat")
    chat = int(datetime.now(UTC).timestamp() * 1000)
    lat, lon = -6.9876, 110.4123
    with Session(live_server.engine) as s:  # as the webhook stores them (the owner: the system's writer)
        for i, content in enumerate(({"text": "Ada pohon tumbang menutup jalan"},
                                     {"location": {"latitude": lat, "longitude": lon}})):
            msg = channels.parse_telegram({"update_id": chat + i, "message": {
                "message_id": i + 1, "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Budi", "last_name": "Peramban"}, **content}})
            channels.receive(s, msg, "telegram")
    item = page.locator(".chat-item", has_text="Budi Peramban")
    item.locator(".chat-show").wait_for(timeout=20_000)  # the location arrived with the second message
    assert "Ada pohon tumbang" in item.inner_text() and "2 pesan" in item.inner_text()
    assert page.locator("#tab-chat").inner_text().startswith("Pesan (")
    assert page.locator("#call-pop").count() == 0  # a chat is no ringing line: no pop over the panel
    item.locator(".chat-show").click()
    page.wait_for_selector("path.chat-location", timeout=10_000)
    # The operator reads the thread and answers; the reply is queued for the chat and joins the thread.
    item.locator("summary").click()
    item.locator(".chat-msg", has_text="Ada pohon tumbang").wait_for(timeout=10_000)
    item.locator(".chat-category").select_option("pohon_tumbang")  # chosen before the reply redraws the item
    item.locator(".chat-reply-text").fill("Terima kasih, petugas kami cek.")
    item.locator(".chat-reply").click()
    item.locator(".chat-msg.chat-out", has_text="petugas kami cek").wait_for(timeout=10_000)
    assert item.locator(".chat-reply-text").input_value() == ""
    assert item.locator(".chat-category").input_value() == "pohon_tumbang"
    item.locator(".chat-convert").click()
    page.wait_for_selector("#view-detail:not([hidden])", timeout=20_000)
    page.locator(".chat-item", has_text="Budi Peramban").wait_for(state="detached", timeout=10_000)
    incidents = page.request.get(live_server.url + "/api/v1/incidents?category=pohon_tumbang&limit=5",
                                 headers=users.auth("dispatcher")).json()["items"]
    mine = [i for i in incidents if i.get("caller", {}).get("name") == "Budi Peramban"]
    assert len(mine) == 1 and mine[0]["lat"] == pytest.approx(lat) and mine[0]["lon"] == pytest.approx(lon)
    assert page.console_errors == []


def test_agency_consoles_have_no_messages_tab(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    try:
        pg = ctx.new_page()
        users.browser_login(pg, live_server.url, "agency")
        assert pg.locator("#tab-chat").is_hidden() and pg.locator("#call-pop").count() == 0
    finally:
        ctx.close()
