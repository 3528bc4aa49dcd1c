"""Cache-Control for answers that depend on who asks (and one ``Date``, the server's).

Row-level security makes most answers reader-specific: an agency officer's incident
list, tile or feature page differs from a dispatcher's, and a dispatcher's carries
callers' phones.  A shared proxy that keeps one of them could hand it to the next
reader, so every answer to a signed-in reader is ``private`` and varies by the
credentials (``Vary: Authorization, Cookie``), unless the view itself declared it the
same for everyone (basemap tiles: ``public``).
"""

from __future__ import annotations

from flask import Flask, Response, g

VARY = ("Authorization", "Cookie")


def _private(resp: Response) -> Response:
    if g.get("user") is None:
        return resp
    cc = resp.cache_control
    if cc.public:  # the view decided: the same for every reader
        return resp
    cc.private = True
    if cc.max_age is None and not cc.no_cache and not cc.no_store:
        cc.no_cache = True  # revalidate (ETag) rather than reuse a stale reader-specific answer
    resp.vary.update(VARY)
    return resp


def _no_date(resp: Response) -> Response:
    """The server writes ``Date`` on every answer (uvicorn; werkzeug's development server when
    none is there); werkzeug's ``make_conditional`` (tiles, ETags) adds one of its own and uvicorn
    does not look, so a tile went out with two.  The app leaves it to the server."""
    resp.headers.pop("Date", None)
    return resp


def init_app(app: Flask) -> None:
    app.after_request(_private)
    app.after_request(_no_date)
