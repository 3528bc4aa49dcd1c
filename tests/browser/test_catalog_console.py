"""A retired category in the console: the intake form no longer offers it, the list filter still does."""

from __future__ import annotations

import json

import pytest

from app.city import catalog
from geodata.demo.catalog import CATALOG_FILE
from tests import users

pytestmark = pytest.mark.browser


def test_the_intake_form_offers_no_retired_category(page, live_server):
    res = page.request.fetch(live_server.url + "/api/v1/incidents", method="POST",
                             data=json.dumps({"category": "narkoba", "lat": -6.978, "lon": 110.431}),
                             headers={"Content-Type": "application/json", **users.auth("dispatcher")})
    assert res.ok, res.text()[:300]
    doc = "\n[[".join(b for b in CATALOG_FILE.read_text(encoding="utf-8").split("\n[[")
                      if 'code = "narkoba"' not in b).replace('"narkoba", ', "").replace(', "narkoba"', "")
    try:
        with live_server.engine.begin() as conn:
            changes = catalog.apply(conn, catalog.parse(doc.encode(), "kota.toml"), "test")
        assert [(c.action, c.code) for c in changes if c.action != "change"] == [("retire", "narkoba")]
        page.goto(live_server.url + "/")
        users.wait_js(page, "() => document.querySelectorAll('#c-category option').length > 5")
        offered = page.eval_on_selector_all("#c-category option", "os => os.map(o => o.value)")
        filters = page.eval_on_selector_all("#f-category option", "os => os.map(o => o.value)")
        assert "narkoba" not in offered and "kebakaran" in offered
        assert "narkoba" in filters  # old calls of the category can still be found
        assert page.console_errors == []
    finally:
        with live_server.engine.begin() as conn:
            catalog.apply(conn, catalog.load(CATALOG_FILE), "test")
        page.request.fetch(live_server.url + f"/api/v1/incidents/{res.json()['id']}", method="PATCH",
                           data=json.dumps({"status": "cancelled"}),
                           headers={"Content-Type": "application/json", **users.auth("dispatcher")})


def test_the_conversation_converter_offers_no_retired_category(page, live_server):
    """A chat in the desk's Pesan tab is made an incident of a category the city still takes, never a retired one."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from app.calls import channels

    desk = {"Content-Type": "application/json", **users.auth("dispatcher")}
    res = page.request.fetch(live_server.url + "/api/v1/incidents", method="POST",
                             data=json.dumps({"category": "narkoba", "lat": -6.978, "lon": 110.431}), headers=desk)
    assert res.ok, res.text()[:300]
    doc = "\n[[".join(b for b in CATALOG_FILE.read_text(encoding="utf-8").split("\n[[")
                      if 'code = "narkoba"' not in b).replace('"narkoba", ', "").replace(', "narkoba"', "")
    conv = None
    try:
        with live_server.engine.begin() as conn:
            changes = catalog.apply(conn, catalog.parse(doc.encode(), "kota.toml"), "test")
        assert ("retire", "narkoba") in [(c.action, c.code) for c in changes]
        page.goto(live_server.url + "/map")
        page.wait_for_selector("body.ready", timeout=30_000)
        page.wait_for_function("window.peta112 && window.peta112.state.streaming === true", timeout=30_000)
        page.click("#tab-chat")
        chat = int(datetime.now(UTC).timestamp() * 1000)
        with Session(live_server.engine) as s:
            msg = channels.parse_telegram({"update_id": chat, "message": {
                "message_id": 1, "date": int(datetime.now(UTC).timestamp()), "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Sari", "last_name": "Katalog"},
                "text": "Ada transaksi mencurigakan di gang"}})
            conv = channels.receive(s, msg, "telegram")["conversation"]
        item = page.locator(".chat-item", has_text="Sari Katalog")
        item.locator(".chat-category").wait_for(state="attached", timeout=20_000)
        offered = item.locator(".chat-category option").evaluate_all("os => os.map(o => o.value)")
        assert "narkoba" not in offered and "kebakaran" in offered and "pohon_tumbang" in offered
        assert page.console_errors == []
    finally:
        with live_server.engine.begin() as conn:
            catalog.apply(conn, catalog.load(CATALOG_FILE), "test")
        page.request.fetch(live_server.url + f"/api/v1/incidents/{res.json()['id']}", method="PATCH",
                           data=json.dumps({"status": "cancelled"}), headers=desk)
        if conv is not None:
            page.request.fetch(live_server.url + f"/api/v1/conversations/{conv}/close", method="POST",
                               data=json.dumps({"disposition": "tes"}), headers=desk)
