"""GET /api/v1/stream: Server-Sent Events of incident and unit changes.

The database announces every committed change itself (``pg_notify('peta112', ...)``
from the triggers of migration 0004), so this view only relays: one LISTEN
connection per browser, outside the request pool so that open maps never starve
the API of connections.  Messages are small (ids, status, unit positions); the
page fetches an incident's details when told it changed.

Each stream ends after ``STREAM_MAX_S``; EventSource reconnects by itself (after
``retry``), which bounds how long a worker thread is held by a vanished client.

The LISTEN connection is the connecting role's own (the tables' owner, not under
row-level security), so the relay applies visibility itself: the viewer is taken
when the request starts, and each incident notification is relayed only if the
database's one visibility rule, ``peta112_incident_visible``, says this viewer may
see that incident (asked on the same connection).  Notifications carry ids, status
and category, never callers' data; unit positions are relayed to every signed-in
reader, as the unit board shows them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import psycopg
from flask import Blueprint, Response
from sqlalchemy.engine import make_url

from app.db import get_engine, request_viewer, sqlfiles
from app.incidents.viewer import Viewer
from app.web.auth import credential_check

bp = Blueprint("stream", __name__)

CHANNEL = "peta112"
HEARTBEAT_S = 15.0
STREAM_MAX_S = 600.0
RETRY_MS = 3000
RECHECK_S = 30.0  # how long a stream may outlive its session or token
EVENT_OF_TABLE = {"incidents": "incident", "units": "unit"}


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The engine's URL as libpq understands it (no ``+psycopg`` driver suffix)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def sse(event: str | None, data: str) -> str:
    """One SSE message; ``data`` must be a single line (JSON from pg_notify is)."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n"


def _visible(conn: psycopg.Connection, viewer: Viewer, incident_id: object) -> bool:
    if isinstance(incident_id, bool) or not isinstance(incident_id, int):
        return False
    row = conn.execute(sqlfiles.raw("app.incidents", "sql/queries.sql", "stream_visible"),
                       {"incident": incident_id, "role": viewer.role, "agency": viewer.agency}).fetchone()
    return bool(row and row[0])


def relay(conninfo: str, viewer: Viewer, max_s: float = STREAM_MAX_S,
          heartbeat_s: float = HEARTBEAT_S, still_valid: Callable[[], bool] | None = None,
          recheck_s: float = RECHECK_S) -> Iterator[str]:
    """Yield SSE text for every NOTIFY on ``peta112`` that ``viewer`` may see, until ``max_s`` has passed.

    Every ``recheck_s`` the reader's credential is asked again (``still_valid``): after a
    logout, a disabled account or a revoked token the stream says ``signed_out`` and ends.
    """
    conn = psycopg.connect(conninfo, autocommit=True, application_name="peta112-stream")
    try:
        conn.execute(f"LISTEN {CHANNEL}")
        yield f"retry: {RETRY_MS}\n: listening\n\n"
        deadline = time.monotonic() + max_s
        recheck_at = time.monotonic() + recheck_s
        while time.monotonic() < deadline:
            if still_valid is not None and time.monotonic() >= recheck_at:
                if not still_valid():
                    yield sse("signed_out", "{}")
                    return
                recheck_at = time.monotonic() + recheck_s
            # Take what has arrived before asking anything on this connection: psycopg holds the
            # connection while the notifies() generator runs (later notifications wait in its backlog).
            wait = min(heartbeat_s, max(0.1, deadline - time.monotonic()))
            notes = list(conn.notifies(timeout=wait, stop_after=1))
            for note in notes:
                try:
                    data = json.loads(note.payload)
                except ValueError:
                    continue
                event = EVENT_OF_TABLE.get(data.get("table") if isinstance(data, dict) else None)
                if event is None:
                    continue
                if event == "incident" and not _visible(conn, viewer, data.get("id")):
                    continue
                yield sse(event, note.payload)
            if not notes:
                # A comment line: keeps proxies from closing an idle stream and detects gone clients.
                yield ": keep-alive\n\n"
    except psycopg.OperationalError:
        return  # the database went away (restart, dropped test database): the browser reconnects
    finally:
        conn.close()


@bp.get("/api/v1/stream")
def events() -> Response:
    conninfo = libpq_conninfo(get_engine().url.render_as_string(hide_password=False))
    # No request context is kept: the generator needs only the conninfo and who is reading.
    resp = Response(relay(conninfo, request_viewer(), still_valid=credential_check()), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through unbuffered
    return resp
