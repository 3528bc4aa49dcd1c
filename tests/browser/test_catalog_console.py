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
