"""Recently confirmed sessions and API tokens, so that most requests ask the database nothing.

Checking a credential is one indexed read (at the start of the request's transaction, as
anonymous), on every request: for a tile or a small JSON answer it was most of the work.
A process keeps what it confirmed for at most ``TTL_S`` (bounded staleness for what no
notice announces: idle and absolute timeouts, token expiry, ``last_seen_at``) and only while
nothing ended a credential since: every change that ends one (sign-out, a disabled user, a
new password or role, a revoked token) fires ``pg_notify('peta112', '{"table": "auth"}')``
from a trigger (migration 0016), the process's live hub (app/live/hub.py) bumps its
``auth`` version and every entry filled under the old version is dead at once.  The
version is read *before* the database is asked, so a lookup that raced a revocation is
stored under the old version and never served.  While the hub is not listening (starting,
or its connection lost) nothing is cached: every request asks the database, as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

TTL_S = 10.0
MAX_ENTRIES = 20_000
_MISS = object()


class CredentialCache:
    """``(kind, key) -> value`` with a version and an age; ``version()`` is None when caching is off."""

    def __init__(self, version: Callable[[], int | None], ttl_s: float = TTL_S,
                 max_entries: int = MAX_ENTRIES) -> None:
        self._version = version
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[Any, int, float]] = OrderedDict()
        self._local = 0  # bumped by this process's own changes, before any notice arrives
        self.hits = self.misses = 0

    def version(self) -> int | None:
        v = self._version()
        return None if v is None else v * 1_000_003 + self._local

    def lookup(self, kind: str, key: str, load: Callable[[], Any]) -> Any:
        """The cached value, or ``load()`` (stored when caching is on and it found something)."""
        version = self.version()
        if version is not None:
            with self._lock:
                hit = self._entries.get((kind, key), _MISS)
                if hit is not _MISS:
                    value, v, at = hit  # type: ignore[misc]
                    if v == version and time.monotonic() - at < self.ttl_s:
                        self.hits += 1
                        return value
                    del self._entries[(kind, key)]
        value = load()  # may raise (app/db.NeedsThread: tried from memory on the event loop): not a miss yet
        self.misses += 1
        if version is not None and value is not None:
            with self._lock:
                self._entries[(kind, key)] = (value, version, time.monotonic())
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def bump(self) -> None:
        """Forget everything now (this process changed a credential; the notice reaches the others)."""
        with self._lock:
            self._local += 1
            self._entries.clear()
