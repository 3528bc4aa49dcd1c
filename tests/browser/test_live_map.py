"""The map draws a stream event from the summary it carries: no request for the incident, no 'viewed' row."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests import users
from tests.browser.test_map import open_map

pytestmark = pytest.mark.browser


def test_stream_event_is_drawn_from_its_summary_without_fetching_the_incident(page, live_server):
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    open_map(page, live_server)
    users.wait_js(page, "window.peta112.state.streaming === true", timeout=10)
    api = {"Content-Type": "application/json", **users.auth("dispatcher")}
    inc = page.request.post(live_server.url + "/api/v1/incidents", headers=api, data=json.dumps({
        "category": "pohon_tumbang", "lat": -6.968, "lon": 110.436})).json()
    page.locator(f'#incident-list li[data-id="{inc["id"]}"]').wait_for(timeout=10_000)
    res = page.request.patch(f"{live_server.url}/api/v1/incidents/{inc['id']}", headers=api,
                             data=json.dumps({"status": "verified"}))
    assert res.status == 200, res.text()
    users.wait_js(page, f"window.peta112.state.incidents.get({inc['id']}).status === 'verified'", timeout=10)
    drawn = page.evaluate(f"window.peta112.state.incidents.get({inc['id']})")
    assert drawn["is_open"] is True and [t["agency"] for t in drawn["tasks"]] == [t["agency"] for t in inc["tasks"]]
    assert not [u for u in asked if u.split("?")[0].endswith(f"/api/v1/incidents/{inc['id']}")]
    with live_server.engine.connect() as conn:
        viewed = conn.execute(text("SELECT count(*) FROM incident_events WHERE incident_id = :i AND kind = 'viewed'"),
                              {"i": inc["id"]}).scalar_one()
    assert viewed == 0  # an open map no longer writes an audit row per change
    assert page.console_errors == []
