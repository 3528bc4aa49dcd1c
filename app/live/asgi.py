"""The server process: the Flask app on a thread pool, and the live stream natively on asyncio.

``peta112 serve`` runs this under uvicorn. Every request but the stream goes to the Flask app on
a thread pool (a2wsgi's, handed over once each way: ``Server._pooled``), exactly as under a WSGI
server, except a basemap tile GET, which the Flask app first tries on the event loop from memory
alone (``Server._from_memory``: a warm tile with a cached credential; anything needing the
database goes to the pool). ``GET /api/v1/stream`` also passes through Flask first (the same
authentication, role table and headers), but the view only leaves a grant; this module then
serves the stream from the event loop, fed by the process's one live hub. An open map therefore
costs a coroutine and a socket, not a worker thread and a database connection, so one process
holds hundreds of them while intake and the API keep their threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import io
import random
import time
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask

from app.db import FROM_MEMORY, NEEDS_THREAD
from app.layers import registry
from app.live.hub import LoopFanout, LoopStream
from app.services.analytics.refresher import Refresher
from app.web import stream as stream_view

STREAM_PATH = "/api/v1/stream"
TILES_PATH = "/tiles/"  # basemap tiles may be answered from memory on the event loop (Server._from_memory)
THREADS = 32  # Flask requests at once per process (the gthread setting it replaces)
SMALL_BODY = 256 * 1024  # request bodies read on the event loop before the pool thread starts
BUFFER = 1024 * 1024  # answers up to this size are sent whole once the app is done; larger ones stream


class _Reply:
    """The answer of one request, made in a pool thread: kept whole while small, else streamed to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Any) -> None:
        self.loop, self.send = loop, send
        self.start: dict[str, Any] | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.streaming = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and self.streaming:  # too late to change the status: fail the response
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {"type": "http.response.start", "status": int(status.split(" ", 1)[0]),
                      "headers": [(k.strip().encode("latin-1").lower(), v.strip().encode("latin-1"))
                                  for k, v in headers]}
        return self.write

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.streaming:
            self._to_loop({"type": "http.response.body", "body": chunk, "more_body": True})
            return
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > BUFFER:
            self.streaming = True
            self._to_loop(self.start)
            self._to_loop({"type": "http.response.body", "body": b"".join(self.chunks), "more_body": True})
            self.chunks = []

    def _to_loop(self, message: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

    def run(self, app: Flask, environ: dict[str, Any]) -> None:
        body = app(environ, self.start_response)
        try:
            for chunk in body:
                self.write(chunk)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        if self.streaming:
            self._to_loop({"type": "http.response.body", "body": b""})

    async def finish(self) -> None:
        if self.streaming:
            return
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": b"".join(self.chunks)})


class Server:
    """An ASGI application wrapping one Flask app."""

    def __init__(self, flask_app: Flask, threads: int = THREADS, heartbeat_s: float = stream_view.HEARTBEAT_S,
                 max_s: float = stream_view.STREAM_MAX_S, recheck_s: float = stream_view.RECHECK_S) -> None:
        self.flask = flask_app
        self.wsgi = WSGIMiddleware(flask_app, workers=threads)
        self.heartbeat_s, self.max_s, self.recheck_s = heartbeat_s, max_s, recheck_s
        self._fanout: LoopFanout | None = None
        self._refresher: Refresher | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == STREAM_PATH and scope["method"] == "GET":
            await self._stream(scope, receive, send)
        elif not (self._from_memory_candidate(scope) and await self._from_memory(scope, send)):
            await self._pooled(scope, receive, send)

    async def _pooled(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """An ordinary request in a pool thread, handed over once there and once back.

        a2wsgi hands every piece across threads and waits for the loop each time (reading the
        body, the status line, each chunk, the end): four round trips between the pool thread and
        the event loop for an intake, each two thread wake-ups, which cost a fifth of the server's
        CPU per call.  Here a small body (``SMALL_BODY``, with a Content-Length) is read on the loop
        first, and the answer is kept in the thread until the app is done, then sent at once; an
        answer that grows past ``BUFFER`` is streamed as a2wsgi does.  A chunked or large upload
        goes through a2wsgi unchanged.
        """
        length = 0
        for name, value in scope["headers"]:
            if name == b"transfer-encoding" or (name == b"content-length" and not value.isdigit()):
                length = -1
                break
            if name == b"content-length":
                length = int(value)
        if not 0 <= length <= SMALL_BODY:
            await self.wsgi(scope, receive, send)
            return
        parts: list[bytes] = []
        more = length > 0
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parts.append(message.get("body", b""))
            more = message.get("more_body", False)
        environ = build_environ(scope, io.BytesIO(b"".join(parts)))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        reply = _Reply(loop, send)
        await loop.run_in_executor(self.wsgi.executor, contextvars.copy_context().run, reply.run, self.flask, environ)
        await reply.finish()

    def _from_memory_candidate(self, scope: dict[str, Any]) -> bool:
        """A GET of a basemap tile (a shared layer: ``app/services/tile_cache.py``) without a body.

        Operational tiles always need the database, and a rate-limited endpoint would count a
        retried request twice: those go straight to the pool.
        """
        path = scope["path"]
        if scope["method"] != "GET" or not path.startswith(TILES_PATH):
            return False
        layer = registry().get(path[len(TILES_PATH):].split("/", 1)[0])
        if layer is None or not layer.shared or "tiles.tile" in self.flask.config.get("PETA112_RATE_LIMITS", {}):
            return False
        return not any(k in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])

    async def _from_memory(self, scope: dict[str, Any], send: Any) -> bool:
        """Answer on the event loop, if the app can from memory alone; False: it needs a pool thread.

        A cached basemap tile with a cached credential is a few hundred microseconds of Python:
        handing it to a pool thread and back (two thread wake-ups, each waiting for a core on a
        busy machine) cost more than the answer.  The request still goes through the whole Flask
        app (the door, sign-in, the role table, the layer's roles, ETag/304, headers); only the
        database is out of reach (app/db.get_session raises NeedsThread before taking a
        connection), and then nothing has been sent yet and the request is asked again the
        ordinary way.
        """
        environ = build_environ(scope, io.BytesIO(b""))  # type: ignore[arg-type]
        environ[FROM_MEMORY] = True
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers
            return lambda _data: None

        body_iter = self.flask(environ, start_response)
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        if environ.get(NEEDS_THREAD):
            return False
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]]
        await send({"type": "http.response.start", "status": answer["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _lifespan(self, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                # Listen from the start: the credential and tile caches of this process follow its notices.
                await loop.run_in_executor(self.wsgi.executor, stream_view.hub_of, self.flask)
                self._refresher = _start_refresher(self.flask)
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self._refresher is not None:
                    await loop.run_in_executor(None, self._refresher.stop)
                await loop.run_in_executor(None, stream_view.stop_hub, self.flask)
                await loop.run_in_executor(None, self.flask.extensions["peta112.engine"].dispose)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _stream(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, io.BytesIO(b""))  # type: ignore[arg-type]
        environ["peta112.stream"] = "async"
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers
            return lambda _data: None

        def authorise() -> bytes:  # in a pool thread: Flask, the database, the role table
            body = self.flask(environ, start_response)
            try:
                return b"".join(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        body = await loop.run_in_executor(self.wsgi.executor, authorise)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]]
        grant = stream_view.grant_of(environ)
        streaming = grant is not None and answer["status"] == 200
        if streaming:  # Flask measured the empty placeholder body; the stream has no length
            headers = [(k, v) for k, v in headers if k != b"content-length"]
        await send({"type": "http.response.start", "status": answer["status"], "headers": headers})
        if not streaming:
            await send({"type": "http.response.body", "body": body})
            return
        await self._serve(grant, receive, send)

    def _fanout_for(self, grant: stream_view.Grant) -> LoopFanout:
        if self._fanout is None or self._fanout.hub is not grant.hub:
            self._fanout = LoopFanout(grant.hub, asyncio.get_running_loop())
        return self._fanout

    async def _serve(self, grant: stream_view.Grant, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        fanout = self._fanout_for(grant)
        stream, got = fanout.attach(grant.viewer, grant.last_event_id)
        watcher = asyncio.create_task(_until_disconnect(receive, stream))
        now = time.monotonic()
        deadline = now + self.max_s
        # Spread the credential checks of streams opened together over the first interval.
        recheck_at = now + self.recheck_s * random.uniform(0.5, 1.0)
        try:
            await send({"type": "http.response.body", "body": stream_view.opening(got.resync), "more_body": True})
            while not stream.gone and time.monotonic() < deadline:
                if time.monotonic() >= recheck_at:
                    if not await loop.run_in_executor(self.wsgi.executor, grant.still_valid):
                        await send({"type": "http.response.body", "body": stream_view.sse("signed_out", "{}"),
                                    "more_body": True})
                        break
                    recheck_at = time.monotonic() + self.recheck_s
                wait = min(self.heartbeat_s, max(0.05, min(deadline, recheck_at) - time.monotonic()))
                chunks = await stream.take(wait)
                if stream.dropped or stream.gone:
                    break
                if chunks or time.monotonic() - stream.sent_at >= self.heartbeat_s * 0.9:
                    data = b"".join(chunks) if chunks else stream_view.KEEP_ALIVE
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                    stream.sent_at = time.monotonic()
        except OSError:
            pass  # the client went away mid-write
        finally:
            fanout.detach(stream)
            watcher.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnect(receive: Any, stream: LoopStream) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            stream.gone = True
            stream.wake.set()
            return


def _start_refresher(flask: Any) -> Refresher | None:
    """The agency-performance rollup's refresher (app/services/analytics/refresher.py), if enabled."""
    every = flask.extensions["peta112.settings"].rollup_refresh_s
    if not every:
        return None
    url = flask.extensions["peta112.engine"].url.render_as_string(hide_password=False)
    return Refresher(url, every).start()


def server_argv(host: str, port: int, workers: int, *, access_log: bool = True,
                log_level: str = "info") -> list[str]:
    """The command ``peta112 serve`` runs (tests and benchmarks start the same server)."""
    import sys

    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.live.asgi:make", "--host", host,
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
            "--timeout-graceful-shutdown", "3", "--no-server-header", "--log-level", log_level]
    return argv if access_log else [*argv, "--no-access-log"]


def make() -> Server:
    """The uvicorn factory (``uvicorn --factory app.live.asgi:make``): settings from the environment."""
    from app import create_app

    return Server(create_app())
