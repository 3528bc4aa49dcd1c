"""Signing out in a real browser ends the session on the server, for the browser and any copy of its cookie."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.browser


def test_sign_out_ends_the_session_everywhere(page, live_server):
    cookie = next(c for c in page.context.cookies() if c["name"] == "peta112_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "peta112_session" not in page.evaluate("document.cookie")  # page scripts cannot read it
    me = requests.get(live_server.url + "/api/v1/me", cookies={"peta112_session": cookie["value"]}, timeout=30)
    assert me.status_code == 200 and me.json()["user"]["username"] == "t_dispatcher"
    page.click("form.logout button[type=submit]")
    page.wait_for_url("**/login", wait_until="commit")
    page.goto(live_server.url + "/map")
    page.wait_for_url("**/login?next=/map", wait_until="commit")
    copied = requests.get(live_server.url + "/api/v1/me", cookies={"peta112_session": cookie["value"]}, timeout=30)
    assert copied.status_code == 401
    # (The map's requests still in flight at sign-out rightly get 401s: console errors are not checked here.)
    assert not [e for e in page.console_errors if "401" not in e], page.console_errors
