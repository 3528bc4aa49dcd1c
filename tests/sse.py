"""Many SSE clients of /api/v1/stream in one asyncio loop, for the fan-out test and the benchmark.

Each client is a raw HTTP/1.1 connection (no library between us and the bytes) that records
every message with the moment it arrived, so a test can check who got what and a benchmark
how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Client:
    who: str
    headers: dict[str, str]
    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)  # (event, data, arrived)
    raw: bytearray = field(default_factory=bytearray)
    status: int = 0
    ended: bool = False
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def incident_ids(self) -> set[int]:
        return {d["id"] for e, d, _ in self.events if e == "incident"}

    def arrival(self, event: str, pred: Any) -> float | None:
        for e, d, t in self.events:
            if e == event and pred(d):
                return t
        return None


async def run_client(host: str, port: int, c: Client, stop: asyncio.Event) -> None:
    """Open the stream and record messages until ``stop`` is set or the server ends it."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in {**c.headers, "Accept": "text/event-stream"}.items())
        writer.write(f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
        c.status = int(status_line.split()[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # headers
        if c.status != 200:
            c.opened.set()
            return
        reading = asyncio.ensure_future(_read(reader, c))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reading, stopping):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    finally:
        c.opened.set()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _read(reader: asyncio.StreamReader, c: Client) -> None:
    """Chunked transfer: de-chunk, split into SSE messages."""
    buf = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            break
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            break
        chunk = await reader.readexactly(size + 2)
        now = time.perf_counter()
        c.raw += chunk[:-2]
        buf += chunk[:-2]
        while b"\n\n" in buf:
            msg, buf = buf.split(b"\n\n", 1)
            event, data = None, []
            for line in msg.decode().split("\n"):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line.startswith("retry: "):
                    c.opened.set()
            if event:
                c.events.append((event, json.loads("\n".join(data)), now))
    c.ended = True


def run_in_own_loop(make_coro: Any) -> Any:
    """Run ``make_coro()`` to completion on a new event loop in a thread of its own.

    The suite's main thread may already run a loop (Playwright's sync API keeps one for the
    session's browser), where ``asyncio.run`` refuses to start another.
    """
    import threading

    out: dict[str, Any] = {}

    def main() -> None:
        try:
            out["value"] = asyncio.run(make_coro())
        except BaseException as exc:  # handed to the caller's thread below
            out["error"] = exc

    t = threading.Thread(target=main, name="sse-clients")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")
