"""The server's hand-over to its pool threads (app/live/asgi.py, ``Server._pooled``): a request's
small body is read on the event loop and its answer sent whole; an answer past ``BUFFER`` streams,
and a large (or chunked) upload goes through a2wsgi as before.  On the real server, as `peta112 serve`."""

from __future__ import annotations

import uuid

import requests

from app.live import asgi
from tests import users

CALL = {"category": "kebakaran", "lat": -6.978, "lon": 110.431, "caller_phone": "0812 7000 111"}


def test_a_call_is_read_whole_and_answered_whole(live_server):
    headers = {**users.auth("call_taker"), "Idempotency-Key": f"asgi-pool-{uuid.uuid4()}"}
    res = requests.post(f"{live_server.url}/api/v1/incidents?recommend=0", json=CALL, headers=headers, timeout=30)
    assert res.status_code == 201 and res.headers["Location"] == f"/api/v1/incidents/{res.json()['id']}"
    assert int(res.headers["Content-Length"]) == len(res.content)
    assert res.json()["caller"]["phone"] == "08127000111"


def test_a_body_over_the_limit_is_refused_naming_it(live_server):
    res = requests.post(f"{live_server.url}/api/v1/incidents", data=b"x" * (2 * 1024 * 1024),
                        headers={**users.auth("call_taker"), "Content-Type": "application/json"}, timeout=30)
    assert res.status_code == 413


def test_an_answer_past_the_buffer_streams_the_same_bytes(live_server, monkeypatch):
    whole = requests.get(f"{live_server.url}/openapi.json", timeout=30)
    assert whole.status_code == 200 and len(whole.content) > 10_000
    monkeypatch.setattr(asgi, "BUFFER", 4096)
    streamed = requests.get(f"{live_server.url}/openapi.json", timeout=30)
    assert streamed.status_code == 200 and streamed.content == whole.content
    assert streamed.headers["Content-Type"] == whole.headers["Content-Type"]
