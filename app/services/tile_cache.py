"""Basemap tiles kept in memory until the data under them changes.

Roads, kelurahan/kecamatan and landmarks change with an import, not with a call, and every
role sees the same tile (``Layer.shared``), so a rendered tile stays true until the next
import: each process keeps its tiles keyed by the basemap version its live hub counts
(``{"table": "basemap"}`` notices from triggers on ``road_edges``, ``admin_areas`` and
``places``, migration 0016) and serves them with their strong ETag without asking the
database.  While the hub is not listening (version None) nothing is kept.  Operational
layers (incidents, units, stations, floods) depend on the reader and the minute: they are
never cached here.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

MAX_BYTES = 64 * 1024 * 1024

Key = tuple[str, int, int, int]


def etag_of(data: bytes) -> str:
    """A strong validator from the bytes themselves: the same tile has the same ETag in every process."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class TileCache:
    """An LRU of encoded tiles bounded by bytes; an entry is good only under the version it was made in."""

    def __init__(self, version: Callable[[], int | None], max_bytes: int = MAX_BYTES) -> None:
        self._version = version
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[bytes, str, int]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get_or_render(self, key: Key, render: Callable[[], bytes]) -> tuple[bytes, str]:
        """(tile, etag): from memory when the basemap has not changed since it was rendered."""
        version = self._version()  # before rendering: a tile that raced an import is stored as stale
        if version is not None:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and hit[2] == version:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return hit[0], hit[1]
        data = render()  # may raise (app/db.NeedsThread: tried from memory on the event loop): not a miss yet
        self.misses += 1
        tag = etag_of(data)
        if version is not None:
            with self._lock:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= len(old[0])
                self._entries[key] = (data, tag, version)
                self._bytes += len(data)
                while self._bytes > self.max_bytes and self._entries:
                    _, (gone, _, _) = self._entries.popitem(last=False)
                    self._bytes -= len(gone)
        return data, tag
