"""GET /api/v1/stream: Server-Sent Events of incident and unit changes, scoped to the reader.

This view authorises a stream like any other request (the role table, the credential,
the viewer) and then hands it to the process's live hub (app/live/hub.py), which holds the
one LISTEN connection and scopes every change once for all readers.  Under ``peta112 serve``
(app/live/asgi.py) the view only leaves a :class:`Grant` in the WSGI environ and the ASGI
server streams natively, so an open map holds no worker thread and no database connection.
Under a plain WSGI server (Flask's development server, the test server) the view streams
itself from a thread, from the same hub.

Each stream ends after ``STREAM_MAX_S``; EventSource reconnects by itself (after ``retry``)
with ``Last-Event-ID`` and gets what it missed.  Every ``RECHECK_S`` the reader's credential
is asked again: after a logout, a disabled account or a revoked token the stream says
``signed_out`` and ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request

from app.db import request_viewer
from app.db.engine import make_engine
from app.incidents.viewer import Viewer
from app.live.hub import Hub, ThreadStream, libpq_conninfo, reader_class, sse
from app.web.auth import credential_check

bp = Blueprint("stream", __name__)

HEARTBEAT_S = 15.0
STREAM_MAX_S = 600.0
RETRY_MS = 3000
RECHECK_S = 30.0  # how long a stream may outlive its session or token
KEEP_ALIVE = b": keep-alive\n\n"
_hub_lock = threading.Lock()


def opening(resync: bool) -> bytes:
    """The first bytes of every stream; ``resync``: what it missed cannot be replayed, reload."""
    return f"retry: {RETRY_MS}\n: listening\n\n".encode() + (sse("resync", "{}") if resync else b"")


@dataclass(frozen=True)
class Grant:
    """An authorised stream, left in the environ for the ASGI server to serve."""

    hub: Hub
    viewer: Viewer
    last_event_id: str | None
    still_valid: Callable[[], bool]


def hub_of(app: Flask, wait_s: float = 10.0) -> Hub:
    """The app's live hub, started on first use (and waited for, so no change slips past a new stream)."""
    hub = app.extensions.get("peta112.live")
    if hub is None:
        with _hub_lock:
            hub = app.extensions.get("peta112.live")
            if hub is None:
                url = app.extensions["peta112.engine"].url.render_as_string(hide_password=False)
                hub = Hub(make_engine(url, app_role=True, pool_size=1, max_overflow=2), libpq_conninfo(url))
                app.extensions["peta112.live"] = hub.start()
    hub.ready.wait(wait_s)
    return hub


def stop_hub(app: Flask) -> None:
    """Stop the app's hub, if it was started (server shutdown, test teardown)."""
    hub = app.extensions.pop("peta112.live", None)
    if hub is not None:
        hub.stop()


def relay(hub: Hub, viewer: Viewer, last_event_id: str | None = None, max_s: float = STREAM_MAX_S,
          heartbeat_s: float = HEARTBEAT_S, still_valid: Callable[[], bool] | None = None,
          recheck_s: float = RECHECK_S) -> Iterator[bytes]:
    """The stream as a generator for a WSGI thread: what ``viewer`` may see, until ``max_s`` has passed."""
    stream = ThreadStream(reader_class(viewer))
    got = hub.attach(stream, viewer, last_event_id)
    try:
        yield opening(got.resync)
        deadline = time.monotonic() + max_s
        recheck_at = time.monotonic() + recheck_s
        while time.monotonic() < deadline:
            if still_valid is not None and time.monotonic() >= recheck_at:
                if not still_valid():
                    yield sse("signed_out", "{}")
                    return
                recheck_at = time.monotonic() + recheck_s
            chunks = stream.take(min(heartbeat_s, max(0.05, deadline - time.monotonic())))
            if stream.dropped:
                return  # too slow: the browser reconnects and resumes from its last id
            yield b"".join(chunks) if chunks else KEEP_ALIVE
    finally:
        hub.detach(stream)


def _headers(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through unbuffered
    return resp


@bp.get("/api/v1/stream")
def events() -> Response:
    hub = hub_of(current_app._get_current_object())  # type: ignore[attr-defined]
    viewer = request_viewer()
    last = request.headers.get("Last-Event-ID") or None
    check = credential_check()
    if request.environ.get("peta112.stream") == "async":
        request.environ["peta112.stream.grant"] = Grant(hub, viewer, last, check)
        return _headers(Response(b"", mimetype="text/event-stream"))
    # No request context is kept: the generator needs only the hub and who is reading.
    return _headers(Response(relay(hub, viewer, last, still_valid=check), mimetype="text/event-stream"))


def grant_of(environ: dict) -> Grant | None:
    return environ.get("peta112.stream.grant")


__all__ = ["Grant", "bp", "grant_of", "hub_of", "opening", "relay", "stop_hub"]
