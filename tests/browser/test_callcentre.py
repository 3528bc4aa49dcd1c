"""The call centre in a real Chromium: the dashboard's recap and Erlang C staffing grid."""

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
