"""Mixed load over loopback on the server `make run` starts: what a busy night at the call center looks like.

The small demo city (``geodata.demo``, seed 112, a quarter year of calls) in a
scratch database, ``peta112 serve`` with its defaults (2 uvicorn processes, 32 Flask
threads each, as on the 2-core target machine) and our own open-loop client: requests are *scheduled* at a fixed rate
(a late server does not slow the arrivals down) and spread over keep-alive
connections, in a fixed mix of intake POSTs, nearest-responder queries, road
vector tiles at z15 and incident-list pages, while two browsers hold the SSE
stream open and count the incident events they are pushed.

Full run (``make bench``): 200 req/s for 60 s, figures under ``load_mixed`` in
bench/results.json.  In ``make test``: 3 s at 20 req/s, as a smoke test.
Loopback only, bounded by the schedule; it stops by itself.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import random
import socket
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from geodata.demo import generate, load
from tests import users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import serve
from tests.scratch import scratch_database

pytestmark = pytest.mark.bench

FULL = full_run()
RATE = 200.0 if FULL else 20.0
DURATION_S = 60.0 if FULL else 3.0
CONNECTIONS = 48 if FULL else 8
SSE_CLIENTS = 2
WORKERS = 2  # peta112 serve's default
MIX = (("intake", 0.15), ("nearest", 0.30), ("tile", 0.35), ("list", 0.20))
TILE_Z = 15
ROOT = Path(__file__).resolve().parents[2]


AUTH = users.auth("dispatcher")


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _seed_demo(conn: Any) -> None:
    load(conn, generate(seed=112, scale="small", years=0.25), replace=True)
    users.seed(conn)


@pytest.fixture(scope="module")
def load_server(cluster, tmp_path_factory):
    with scratch_database(cluster, "peta112_load", seed=_seed_demo) as url:
        engine = make_engine(url)
        with engine.connect() as conn:
            points = [(float(a), float(b)) for a, b in conn.execute(text(
                "SELECT ST_Y(geom), ST_X(geom) FROM incidents WHERE geom IS NOT NULL ORDER BY id LIMIT 300"))]
            box = conn.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                                    "FROM (SELECT ST_Extent(geom) AS e FROM admin_areas) x")).one()
        engine.dispose()
        log = tmp_path_factory.mktemp("load") / "server.log"
        with serve(url, workers=WORKERS, log=log) as port:
            yield port, points, tuple(float(v) for v in box)


class SSEListener(threading.Thread):
    """A browser holding /api/v1/stream open; counts the incident events pushed to it."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.events, self.connected = port, 0, threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
            auth = users.auth("dispatcher")["Authorization"].encode()
            sock.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                         b"Authorization: " + auth + b"\r\n\r\n")
            tail = b""
            while not self.stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                data = tail + chunk
                if b"listening" in data:
                    self.connected.set()
                self.events += data.count(b"event: incident")
                tail = data[-20:].replace(b"event: incident", b"")


def _request(kind: str, k: int, rng: random.Random, points: list[tuple[float, float]],
             tiles: list[tuple[int, int]]) -> tuple[str, str, str | None, dict[str, str]]:
    lat, lon = points[rng.randrange(len(points))]
    if kind == "intake":
        body = json.dumps({"category": rng.choice(("kebakaran", "kecelakaan", "ambulans", "pohon_tumbang")),
                           "lat": lat + rng.uniform(-3e-4, 3e-4), "lon": lon + rng.uniform(-3e-4, 3e-4),
                           "caller_phone": f"0857{k:08d}", "source": "phone"})
        return "POST", "/api/v1/incidents", body, {"Content-Type": "application/json",
                                                   "Idempotency-Key": f"load-{k}", **AUTH}
    if kind == "nearest":
        agency = rng.choice(("DAMKAR", "DINKES", "POLRI"))
        return "GET", f"/api/v1/nearest?lat={lat:.6f}&lon={lon:.6f}&agency={agency}&k=3", None, AUTH
    if kind == "tile":
        x, y = tiles[rng.randrange(len(tiles))]
        return "GET", f"/tiles/roads/{TILE_Z}/{x}/{y}.pbf", None, AUTH
    return "GET", rng.choice(("/api/v1/incidents?limit=50&open=1", "/api/v1/incidents?limit=20")), None, AUTH


def test_mixed_load(load_server):
    port, points, (x0, y0, x1, y1) = load_server
    tx0, ty0 = _tile(x0, y1, TILE_Z)
    tx1, ty1 = _tile(x1, y0, TILE_Z)
    tiles = [(x, y) for x in range(tx0, tx1 + 1) for y in range(ty0, ty1 + 1)]
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    total = int(RATE * DURATION_S)

    listeners = [SSEListener(port) for _ in range(SSE_CLIENTS)]
    for sse in listeners:
        sse.start()
    for sse in listeners:
        assert sse.connected.wait(10), "SSE stream did not open"

    counter = itertools.count()
    lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lag: list[float] = []
    load_before = os.getloadavg()[0]
    start = time.monotonic() + 0.2

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                k = next(counter)
            if k >= total:
                break
            due = start + k / RATE
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            rng = random.Random(k)
            kind = rng.choices(kinds, weights)[0]
            method, path, body, headers = _request(kind, k, rng, points, tiles)
            t0 = time.monotonic()
            try:
                conn.request(method, path, body, headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, detail = 0, repr(exc)
            else:
                detail = f"{status} {path}"
            t1 = time.monotonic()
            with lock:
                lag.append(t0 - due)
                if status in (200, 201):
                    latencies[kind].append(t1 - t0)
                else:
                    errors[kind].append(detail)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=DURATION_S + 120)
    elapsed = time.monotonic() - start
    time.sleep(0.5)  # let the last NOTIFYs reach the streams
    for sse in listeners:
        sse.stop.set()
    for sse in listeners:
        sse.join(timeout=5)

    done = sum(len(v) for v in latencies.values())
    n_errors = sum(len(v) for v in errors.values())
    figures: dict[str, Any] = {
        "target_rps": RATE, "duration_s": DURATION_S, "requests": done + n_errors,
        "achieved_rps": round((done + n_errors) / elapsed, 1), "ok_rps": round(done / elapsed, 1),
        "errors": n_errors, "max_schedule_lag_ms": round(max(lag) * 1000, 1) if lag else None,
        "connections": CONNECTIONS, "server": f"peta112 serve (uvicorn), {WORKERS} processes",
        "city": "demo small (seed 112, 0.25 years)", "sse_clients": SSE_CLIENTS,
        "sse_incident_events": [sse.events for sse in listeners],
        # The shared 2-core machine: this bench's own server, database and client, and whatever else runs.
        "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    every = [x * 1000 for kind in kinds for x in latencies[kind]]
    figures["all"] = {"n": len(every), "p50_ms": round(percentile(every, 50), 1),
                      "p95_ms": round(percentile(every, 95), 1), "p99_ms": round(percentile(every, 99), 1)}
    for kind in kinds:
        ms = [x * 1000 for x in latencies[kind]]
        figures[kind] = {"n": len(ms), "errors": len(errors[kind]), "p50_ms": round(percentile(ms, 50), 1),
                         "p95_ms": round(percentile(ms, 95), 1), "p99_ms": round(percentile(ms, 99), 1)}
    print("\nload_mixed:", json.dumps(figures))
    record("load_mixed", figures)

    assert not any(th.is_alive() for th in threads)
    assert done + n_errors == total
    if FULL:
        assert n_errors <= 0.01 * total, dict(errors)
    else:
        assert n_errors == 0, dict(errors)
    created = len(latencies["intake"])
    assert created > 0 and all(sse.events >= 1 for sse in listeners)
