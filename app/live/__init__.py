"""Live updates: one LISTEN per server process, fanned out to every open map.

``hub`` listens and scopes each change to the readers who may see it; ``asgi`` serves the
stream natively (no worker thread or database connection per open map) in front of the
Flask app; ``app.web.stream`` authorises a stream like any other request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def live_version(app: Any, topic: str) -> int | None:
    """How many ``topic`` notices the app's live hub has seen, or None while no hub listens.

    Caches of the process compare this with the version they were filled under; None means
    "nothing may be cached now" (no hub yet, or its connection is down).
    """
    hub = app.extensions.get("peta112.live")
    return hub.versions[topic] if hub is not None and hub.usable() else None


def per_version(app: Any, topic: str, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per version of ``topic`` in this process (every time while no hub listens)."""
    version = live_version(app, topic)  # before computing: a value that raced a change is stored as stale
    if version is None:
        return compute()
    memo: dict[str, tuple[int, Any]] = app.extensions.setdefault("peta112.per_version", {})
    hit = memo.get(name)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = compute()
    memo[name] = (version, value)
    return value
