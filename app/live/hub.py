"""One LISTEN per server process, fanned out to every stream that process serves.

The database announces every committed change itself (``pg_notify('peta112', ...)`` from
the triggers of migration 0004 and later), so a process needs one listening connection,
not one per open map: this hub holds it in a thread of its own and hands each change to
every stream of the process.  A change is scoped once per batch, not once per listener:
for an incident the hub reads its summary through the read model (``incident_facts``, as
the system viewer) and asks the one visibility rule, ``peta112_incident_visible``, for
every *reader class* (a role, or an agency role with its agency) at once; each stream then
only compares its class with the event's audience.  The summary carries what the map draws
(the list's shape, with tasks and assignments, never callers' fields), so no browser asks
again and no 'viewed' audit row is written per change per map.  Calls and conversations
(app/calls) carry callers' numbers and words: their summary (what ``GET /api/v1/calls/<id>``
answers, the conversation's list item) is read once per batch the same way and sent only to
the desk's classes, those whose role may see callers' data.  A process with no stream open
reads nothing for these (``RESUME_S``): it marks the gap, and a map returning later reloads.

Events get ids (``<boot>-<n>``) and the last ``REPLAY`` stay in a buffer, so a stream that
reconnects with ``Last-Event-ID`` gets what it missed; an id from another process or
older than the buffer gets ``resync`` (reload your list) instead.  Each stream has a
bounded queue: a client that does not keep up is dropped (its browser reconnects and
resumes) and never slows the others.  Notices that are not for maps (``auth``: a session
or token ended; ``basemap``: roads, areas or places changed; ``stations``) bump a version
here that the caches of the process check (``app.live.live_version``): credentials
(app/services/credential_cache.py), basemap tiles (app/services/tile_cache.py), the city's
box.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from datetime import time as clock_time
from decimal import Decimal
from typing import Any, Protocol

import orjson
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.db import sqlfiles
from app.incidents import queries
from app.incidents.viewer import AGENCY_ROWS, ALL_ROWS, SYSTEM_VIEWER, Viewer

log = logging.getLogger(__name__)

CHANNEL = "peta112"
# Tables whose notifications reach maps, and the SSE event each becomes: incidents scoped per reader,
# calls and conversations to the desk only, the others to every signed-in reader.  Deny by default: a table
# whose notices carry something not every reader may see must not be relayed until it is scoped here.
EVENT_OF_TABLE = {"incidents": "incident", "units": "unit", "flood_states": "flood", "calls": "call",
                  "conversations": "conversation"}
# Events only the desk receives (app/calls): a line rang, was answered or ended, or an AML fix came
# (``call``, with the number, its history and position); a chat, SMS or web report arrived or changed
# (``conversation``).  They carry callers' data, so they go to the reader classes that may see it.
DESK_ONLY = frozenset({"call", "conversation"})
SCOPED = DESK_ONLY | {"incident"}  # events read from the database per batch before they are sent
LIVE_CALL_MINUTES = 10  # an ended call's changes reach consoles for this long (a disposition, a late AML fix)
DESK_BATCH = 100  # call summaries read per batch at most: no 112 centre has more lines ringing at once
CONTROL = frozenset({"auth", "basemap", "stations"})  # notices for the process's caches, not for maps
REPLAY = 4096  # events kept for Last-Event-ID
QUEUE = 512  # events a stream may lag behind before it is dropped
BATCH = 500  # notifications scoped together
# Scoping a batch costs ~3 ms of CPU (a session, the summaries, the audience) whatever its size, and
# each server process scopes every change: after a quiet moment a notification is scoped at once
# (GATHER_S for what came with it); within a burst (intake at tens of calls a second) the hub waits
# up to BURST_GATHER_S for more and scopes them together, which divides that cost by the batch.
GATHER_S = 0.002
BURST_GATHER_S = 0.025
BURST_GAP_S = 0.1  # a notification this soon after the previous batch began is part of a burst
# A process with no map open does not scope changes at all (most of intake's server CPU went here
# when each of the server's processes scoped every call for maps it did not have).  For this long
# after its last stream was opened or closed it still does, so a map that reconnects (EventSource
# waits a few seconds) resumes by Last-Event-ID; later, such an id gets ``resync`` (reload).
RESUME_S = 60.0


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The engine's URL as libpq understands it (no ``+psycopg`` driver suffix)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def reader_class(viewer: Viewer) -> str:
    """Readers that see the same incidents share a class: the role, and the agency where it scopes."""
    return f"{viewer.role}:{viewer.scoped_agency or ''}"


@dataclass(frozen=True)
class Event:
    seq: int
    name: str
    message: bytes  # the whole SSE message, id included
    audience: frozenset[str] | None  # reader classes that may see it; None: every signed-in reader

    def for_class(self, key: str) -> bool:
        return self.audience is None or key in self.audience


def sse(event: str | None, data: str | bytes, event_id: str | None = None) -> bytes:
    """One SSE message; ``data`` must be a single line (JSON is)."""
    head = (f"id: {event_id}\n" if event_id else "") + (f"event: {event}\n" if event else "")
    body = data if isinstance(data, bytes) else data.encode()
    return head.encode() + b"data: " + body + b"\n\n"


class Sink(Protocol):
    def deliver(self, events: list[Event]) -> None: ...


@dataclass
class Attachment:
    """What a stream gets when it attaches: events to replay first, and whether it must reload."""

    replay: list[Event]
    resync: bool
    last_seq: int


@dataclass
class Hub:
    """The process's listener; ``start()`` once, then ``attach``/``detach`` streams (any thread)."""

    engine: Engine  # runs as peta112_app; the hub reads as the system viewer
    conninfo: str  # for the LISTEN connection
    replay_size: int = REPLAY
    boot: str = field(default_factory=lambda: secrets.token_hex(3))
    versions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONTROL, 0))
    connected: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._buffer: deque[Event] = deque(maxlen=self.replay_size)
        self._sinks: set[Any] = set()
        self._classes: dict[str, Viewer] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.delivered_batches = 0
        self.skipped_batches = 0  # batches not scoped because no map was open
        self._streams_seen = float("-inf")  # when a stream was last opened or closed

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> Hub:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="peta112-live-hub", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.engine.dispose()

    def usable(self) -> bool:
        """True while the LISTEN connection is up: only then may caches trust the versions."""
        return self.connected and not self._stop.is_set()

    # -- streams ---------------------------------------------------------------------------------
    def attach(self, sink: Any, viewer: Viewer, last_event_id: str | None = None) -> Attachment:
        """Register ``sink`` for ``viewer``'s class and say what it missed since ``last_event_id``."""
        key = reader_class(viewer)
        with self._lock:
            new_class = key not in self._classes
            self._classes.setdefault(key, viewer)
            self._sinks.add(sink)
            self._streams_seen = time.monotonic()
            last = self._seq
            replay, resync = self._since(last_event_id, key)
            got = Attachment(replay, resync or (new_class and last_event_id is not None), last)
            prime = getattr(sink, "prime", None)
            if prime is not None:  # under the lock: no event can reach the sink before its replay
                prime(got)
        # A class never seen before may have missed an event scoped while it was unknown: reload.
        return got

    def detach(self, sink: Any) -> None:
        with self._lock:
            self._sinks.discard(sink)
            self._streams_seen = time.monotonic()

    def stream_closed(self) -> None:
        """A stream of a sink that stays attached (a loop's fan-out) ended: its map may reconnect."""
        with self._lock:
            self._streams_seen = time.monotonic()

    def _since(self, last_event_id: str | None, key: str) -> tuple[list[Event], bool]:
        if not last_event_id:
            return [], False
        boot, _, n = last_event_id.strip().partition("-")
        if boot != self.boot or not n.isdigit():
            return [], True
        seq = int(n)
        if seq > self._seq:
            return [], True
        if seq == self._seq:
            return [], False
        if not self._buffer or self._buffer[0].seq > seq + 1:
            return [], True  # older than the buffer
        return [e for e in self._buffer if e.seq > seq and e.for_class(key)], False

    @property
    def stream_count(self) -> int:
        with self._lock:
            return self._stream_count()

    def _stream_count(self) -> int:
        return sum(getattr(s, "count", 1) for s in self._sinks)

    # -- the listening thread ----------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.5
        first = True
        while not self._stop.is_set():
            try:
                self._preload_classes()
                with psycopg.connect(self.conninfo, autocommit=True, application_name="peta112-live") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._bump_all()  # anything cached before this moment may be stale
                    self.connected = True
                    self.ready.set()
                    if not first:  # notifications sent while we were away are lost: maps must reload
                        self._publish([("resync", b"{}", None)])
                    first, backoff = False, 0.5
                    self._listen(conn)
            except Exception:  # the database restarted, a network blip: keep serving, reconnect
                log.warning("live hub: listening connection lost; reconnecting", exc_info=True)
            finally:
                self.connected = False
                self._bump_all()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _listen(self, conn: psycopg.Connection) -> None:
        last_batch = -1e9
        while not self._stop.is_set():
            notes = list(conn.notifies(timeout=1.0, stop_after=1))
            if not notes:
                continue
            # Take what else arrives meanwhile (a burst of intake) and scope it as one batch.
            now = time.monotonic()
            gather = BURST_GATHER_S if now - last_batch < BURST_GAP_S else GATHER_S
            last_batch = now
            notes += list(conn.notifies(timeout=gather, stop_after=BATCH))
            self.handle([n.payload for n in notes], only_if_watched=True)

    def _preload_classes(self) -> None:
        """Every role and every agency is a class from the start, so events carry their audience."""
        from app.domain.roles import ROLES

        with self.engine.connect() as conn:
            agencies = [r[0] for r in conn.execute(text("SELECT code FROM agencies ORDER BY code"))]
        with self._lock:
            for role in ROLES:
                if role in AGENCY_ROWS:
                    for code in agencies:
                        self._classes.setdefault(f"{role}:{code}", Viewer(role, code))
                elif role in ALL_ROWS:
                    self._classes.setdefault(f"{role}:", Viewer(role))

    def _known_classes(self) -> dict[str, Viewer]:
        with self._lock:
            return dict(self._classes)

    def _bump_all(self) -> None:
        for k in self.versions:
            self.versions[k] += 1

    # -- one batch -------------------------------------------------------------------------------
    def handle(self, payloads: Iterable[str], only_if_watched: bool = False) -> list[Event]:
        """Scope and publish a batch of notification payloads (the thread calls this; so may tests).

        ``only_if_watched`` (the listening thread): with no stream open in this process, nor one
        opened or closed in the last ``RESUME_S``, changes that need scoping (incidents, calls,
        conversations) are not read at all; the event ids jump and the replay buffer is emptied,
        so a map that comes back later with an older Last-Event-ID is told to reload
        (``resync``) instead of missing them.
        """
        parsed: list[tuple[str, dict[str, Any], str]] = []
        for raw in payloads:
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(data, dict):
                continue
            table = data.get("table")
            if table in CONTROL:
                self.versions[table] += 1
                continue
            name = EVENT_OF_TABLE.get(table) if isinstance(table, str) else None
            if name is None:
                continue
            parsed.append((name, data, raw))
        if not parsed:
            return []
        if only_if_watched and self._unwatched(parsed):
            parsed = [p for p in parsed if p[0] not in SCOPED]
            if not parsed:
                return []
        ids = sorted({d["id"] for n, d, _ in parsed if n == "incident" and _is_id(d.get("id"))})
        summaries, audience = self._scope(ids) if ids else ({}, {})
        desk_keys = sorted({(n, d["id"]) for n, d, _ in parsed if n in DESK_ONLY and _is_id(d.get("id"))})
        desk_summaries = self._desk_summaries(desk_keys) if desk_keys else {}
        desk = frozenset(k for k, v in self._known_classes().items() if v.personal_data)
        specs: list[tuple[str, bytes, frozenset[str] | None]] = []
        desk_done: set[tuple[str, int]] = set()
        desk_ops: dict[tuple[str, Any], set[Any]] = {}
        for n, d, _ in parsed:
            if n in DESK_ONLY:
                desk_ops.setdefault((n, d.get("id")), set()).add(d.get("op"))
        for name, data, raw in parsed:
            if name in DESK_ONLY:
                key = (name, data.get("id"))
                if key in desk_done or key not in desk_summaries:
                    continue  # one event per call or conversation and batch, with its newest state
                desk_done.add(key)
                body = {k: data[k] for k in ("table", "op", "id") if k in data}
                if "insert" in desk_ops[key]:
                    body["op"] = "insert"  # a ring stays a ring when its answer came in the same batch
                body[name] = desk_summaries[key]
                specs.append((name, orjson.dumps(body, default=_json_default), desk))
                continue
            if name != "incident":
                specs.append((name, raw.encode(), None))
                continue
            iid = data.get("id")
            if not _is_id(iid) or iid not in summaries:
                continue  # gone since (or never visible to anyone): nothing to draw
            body = {k: data[k] for k in ("table", "op", "id", "status", "category") if k in data}
            body["incident"] = summaries[iid]
            specs.append((name, orjson.dumps(body), frozenset(audience.get(iid, ()))))
        return self._publish(specs)

    def _unwatched(self, parsed: list[tuple[str, dict[str, Any], str]]) -> bool:
        """No map to scope for: if this batch has changes to scope, mark the gap and say so."""
        if not any(name in SCOPED for name, _, _ in parsed):
            return False
        with self._lock:  # decided with attach() excluded: a stream opening now sees the gap or the events
            if self._stream_count() or time.monotonic() - self._streams_seen < RESUME_S:
                return False
            self._seq += 1  # ids before this cannot be replayed: such a stream gets resync
            self._buffer.clear()
        self.skipped_batches += 1
        return True

    def _scope(self, ids: list[int]) -> tuple[dict[int, dict[str, Any]], dict[int, set[str]]]:
        from sqlalchemy.orm import Session

        from app.incidents.facts import apply_viewer

        with self._lock:
            classes = dict(self._classes)
        keys = list(classes)
        with Session(self.engine) as s:
            apply_viewer(s, SYSTEM_VIEWER)
            # The same few statements every batch, by primary key: plan them once (prepared, generic),
            # not again for each batch as the read model's views cost to plan more than to run.
            sqlfiles.dbapi(s).execute("SET LOCAL plan_cache_mode = force_generic_plan")
            summaries = {d["id"]: d for d in queries.summaries(s, ids)}
            rows = sqlfiles.rows(s, sqlfiles.raw("app.live", "sql/stream.sql", "visible_to"),
                                 {"ids": ids, "keys": keys, "roles": [classes[k].role for k in keys],
                                  "agencies": [classes[k].agency for k in keys]})
            s.commit()  # nothing written; a rollback would make psycopg drop every prepared statement
        audience: dict[int, set[str]] = {}
        for r in rows:
            audience.setdefault(r["id"], set()).add(r["class"])
        return summaries, audience

    def _desk_summaries(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """What a desk console draws for each call (number, history, AML position: the answer of
        ``GET /api/v1/calls/<id>``) and conversation (an item of ``GET /api/v1/conversations``),
        read once per batch as the system viewer; only desk classes ever receive it."""
        from sqlalchemy.orm import Session

        from app.calls import channels
        from app.calls import queries as call_queries
        from app.incidents.facts import apply_viewer
        from app.services.errors import NotFound

        out: dict[tuple[str, int], dict[str, Any]] = {}
        with Session(self.engine) as s:
            apply_viewer(s, SYSTEM_VIEWER)
            call_ids = [oid for name, oid in keys if name == "call"]
            live = set(s.execute(sqlfiles.statement("app.live", "sql/stream.sql", "live_calls"),
                                 {"ids": call_ids, "minutes": LIVE_CALL_MINUTES}).scalars()) if call_ids else set()
            if len(live) > DESK_BATCH:
                log.warning("live hub: %d live calls in one batch; the newest %d are sent", len(live), DESK_BATCH)
                live = set(sorted(live)[-DESK_BATCH:])
            for oid in sorted(live):
                with contextlib.suppress(NotFound):
                    out[("call", oid)] = call_queries.get_call(s, oid)
            conv_ids = [oid for name, oid in keys if name == "conversation"]
            for item in channels.conversation_items(s, conv_ids) if conv_ids else ():
                out[("conversation", item["id"])] = item
            s.commit()  # nothing written; a rollback would make psycopg drop every prepared statement
        return out

    def _publish(self, specs: list[tuple[str, bytes, frozenset[str] | None]]) -> list[Event]:
        events: list[Event] = []
        with self._lock:
            for name, data, audience in specs:
                self._seq += 1
                ev = Event(self._seq, name, sse(name, data, f"{self.boot}-{self._seq}"), audience)
                self._buffer.append(ev)
                events.append(ev)
            sinks = list(self._sinks)
        if events:
            for sink in sinks:
                try:
                    sink.deliver(events)
                except Exception:  # one broken sink must not starve the rest
                    log.exception("live hub: a stream failed to take events")
            self.delivered_batches += 1
        return events


def _json_default(v: object) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (date, clock_time)):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _is_id(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# -- streams ---------------------------------------------------------------------------------------
class ThreadStream:
    """A stream read by a thread (the WSGI fallback: Flask's development server, the test server)."""

    def __init__(self, key: str, limit: int = QUEUE) -> None:
        self.key, self.limit = key, limit
        self.pending: deque[bytes] = deque()
        self.last_seq = 0
        self.dropped = False
        self._cond = threading.Condition()

    def prime(self, got: Attachment) -> None:
        with self._cond:
            self.last_seq = got.last_seq
            self.pending.extend(e.message for e in got.replay)

    def deliver(self, events: list[Event]) -> None:
        with self._cond:
            _offer(self, events)
            self._cond.notify()

    def take(self, timeout: float) -> list[bytes]:
        """Everything queued, waiting up to ``timeout`` for something; [] on a quiet timeout."""
        with self._cond:
            if not self.pending and not self.dropped:
                self._cond.wait(timeout)
            out = list(self.pending)
            self.pending.clear()
            return out


class LoopStream:
    """A stream served by an asyncio task; filled by its loop's :class:`LoopFanout`."""

    def __init__(self, key: str, limit: int = QUEUE) -> None:
        self.key, self.limit = key, limit
        self.pending: deque[bytes] = deque()
        self.last_seq = 0
        self.dropped = False
        self.gone = False  # the client disconnected
        self.sent_at = 0.0  # monotonic time of the last bytes sent
        self.wake = asyncio.Event()

    async def take(self, timeout: float) -> list[bytes]:
        if not self.pending and not self.dropped and not self.gone:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
        self.wake.clear()
        out = list(self.pending)
        self.pending.clear()
        return out


def _offer(stream: ThreadStream | LoopStream, events: list[Event]) -> None:
    if stream.dropped:
        return
    for ev in events:
        if ev.seq <= stream.last_seq:
            continue  # already replayed to it
        stream.last_seq = ev.seq
        if not ev.for_class(stream.key):
            continue
        if len(stream.pending) >= stream.limit:
            stream.dropped = True  # too slow: it reconnects and resumes from its last id
            stream.pending.clear()
            return
        stream.pending.append(ev.message)


class LoopFanout:
    """One hub sink per event loop: the hub thread hands it a batch, the loop hands it to each stream.

    Waking every stream costs the same for one event as for twenty, so under a burst (intake at
    tens of calls a second) events are gathered for at most ``FLUSH_S`` and each stream is woken
    once per flush; a change after a quiet moment goes out at once.
    """

    FLUSH_S = 0.05

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub, self.loop = hub, loop
        self.streams: set[LoopStream] = set()
        self._pending: list[Event] = []
        self._flush_scheduled = False
        self._flushed_at = 0.0

    @property
    def count(self) -> int:
        return len(self.streams)

    def deliver(self, events: list[Event]) -> None:
        self.loop.call_soon_threadsafe(self._gather, events)

    def _gather(self, events: list[Event]) -> None:
        self._pending.extend(events)
        if self._flush_scheduled:
            return
        self._flush_scheduled = True
        wait = self._flushed_at + self.FLUSH_S - self.loop.time()
        if wait <= 0:
            self.loop.call_soon(self._flush)
        else:
            self.loop.call_later(wait, self._flush)

    def _flush(self) -> None:
        events, self._pending = self._pending, []
        self._flush_scheduled = False
        self._flushed_at = self.loop.time()
        self._dispatch(events)

    def _dispatch(self, events: list[Event]) -> None:
        for s in list(self.streams):
            before = len(s.pending)
            _offer(s, events)
            if s.dropped or len(s.pending) != before:
                s.wake.set()

    def attach(self, viewer: Viewer, last_event_id: str | None) -> tuple[LoopStream, Attachment]:
        """Call in the loop's thread."""
        stream = LoopStream(reader_class(viewer))
        got = self.hub.attach(self, viewer, last_event_id)
        stream.last_seq = got.last_seq
        stream.pending.extend(e.message for e in got.replay)
        self.streams.add(stream)
        return stream, got

    def detach(self, stream: LoopStream) -> None:
        self.streams.discard(stream)
        self.hub.stream_closed()

