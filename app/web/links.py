"""Absolute links from the configured base URL (``PETA112_BASE_URL``), never from the Host header.

Feeds, discovery documents and paging links are copied, cached and published; one
built from the request's Host header let anyone who can reach the server (or poison
a cache in front of it) make the CAP feed and Open311 discovery point elsewhere.
Query strings are rebuilt with urlencode, so a parameter cannot smuggle ``&``, ``#``
or a newline into a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode

from flask import current_app, request


def base_url() -> str:
    """The public root of this deployment, without a trailing slash."""
    return current_app.extensions["peta112.settings"].public_url


def absolute(path: str) -> str:
    """``path`` (starting with /) under the base URL."""
    return base_url() + quote(path, safe="/{}")


def with_query(path: str, params: Iterable[tuple[str, str]]) -> str:
    """An absolute link to ``path`` with the query ``params`` re-encoded."""
    query = urlencode(list(params))
    return absolute(path) + ("?" + query if query else "")


def this_page(**changes: object) -> str:
    """The current request's URL under the base URL, with some query parameters replaced."""
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    params += [(k, str(v)) for k, v in changes.items()]
    return with_query(request.path, params)
