"""No lost calls: PostgreSQL restarts while calls pour in, and every call is stored exactly once.

A throwaway embedded cluster of our own (its own data directory and socket; the
shared one is never touched) serves the app as `peta112 serve` does (2 processes).  Eight
client threads post N incidents, each with its own Idempotency-Key, retrying
with backoff on connection errors and 5xx, as a call-taker's console must.
Every tenth call also drops its connection right after sending, before the
answer arrives (the "committed but the response was lost" case), and retries.
One third of the way in, PostgreSQL is stopped (fast shutdown: every session
killed) and started again.  Afterwards the database must hold exactly N
incidents: none lost, none doubled.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import migrate
from app.db.cluster import EmbeddedCluster
from app.db.engine import make_engine
from app.live.asgi import server_argv
from tests import tinycity, users

N = 200
CLIENTS = 8
PACE_S = 0.15  # per client between calls: about 50 calls/s, so the restart lands mid-way
DEADLINE_S = 120
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            c.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} not ready on port {port}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    c = EmbeddedCluster(tmp_path_factory.mktemp("nolost") / "var")
    c.up()
    try:
        yield c
    finally:
        c.destroy()
        for d in {c.paths.base, c.paths.sockets}:  # /var/tmp or /tmp fall-backs live outside tmp_path
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def server(own_cluster, tmp_path_factory):
    own_cluster.ensure_database("peta112")
    url = own_cluster.url("peta112")
    migrate(url, "head")
    engine = make_engine(url)
    with engine.begin() as conn:
        tinycity.seed(conn)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETA112_")}
    env["DATABASE_URL"] = url
    log_path = tmp_path_factory.mktemp("server") / "server.log"  # the outage's tracebacks go here
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            server_argv("127.0.0.1", port, 2, access_log=False, log_level="error"),
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(port, "/healthz", 60)
            yield port, engine
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            engine.dispose()


class Client:
    """One call-taker console: keep-alive connection, retries with backoff, an Idempotency-Key per call."""

    def __init__(self, port: int, stats: Counter[str], lock: threading.Lock):
        self.port, self.stats, self.lock = port, stats, lock
        self.conn: http.client.HTTPConnection | None = None

    def _count(self, what: str) -> None:
        with self.lock:
            self.stats[what] += 1

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        return self.conn

    def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def post(self, i: int, lose_first_response: bool) -> tuple[int, int]:
        body = json.dumps({"category": ("kebakaran", "kecelakaan", "pohon_tumbang", "banjir")[i % 4],
                           "lat": -6.962 - (i % 35) * 0.001, "lon": 110.402 + (i // 35) * 0.006,
                           "caller_phone": f"0813{i:07d}", "description": f"panggilan {i}"})
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"nlc-{i}", **users.auth("call_taker")}
        deadline, attempt = time.monotonic() + DEADLINE_S, 0
        while True:
            attempt += 1
            try:
                conn = self._connection()
                conn.request("POST", "/api/v1/incidents", body, headers)
                if lose_first_response and attempt == 1:
                    self._drop()  # hang up before the answer: did it commit? only the key knows
                    self._count("responses_dropped")
                    raise ConnectionResetError("response dropped on purpose")
                resp = conn.getresponse()
                data = resp.read()
                if resp.status in (200, 201):
                    self._count("replayed" if resp.status == 200 else "created")
                    return resp.status, json.loads(data)["id"]
                if resp.status < 500:
                    raise AssertionError(f"call {i}: {resp.status} {data[:300]!r}")
                self._count("http_5xx")
            except (OSError, http.client.HTTPException):
                self._drop()
                self._count("connection_errors")
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {i} not stored after {attempt} attempts")
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)))


def test_restarting_postgres_mid_stream_loses_and_doubles_nothing(server, own_cluster):
    port, engine = server
    stats: Counter[str] = Counter()
    lock = threading.Lock()
    results: dict[int, int] = {}
    errors: list[str] = []
    done = threading.Semaphore(0)
    restart: dict[str, float] = {}

    def client(t: int) -> None:
        c = Client(port, stats, lock)
        for i in range(t, N, CLIENTS):
            try:
                _, incident_id = c.post(i, lose_first_response=i % 10 == 0)
                results[i] = incident_id
            except Exception as exc:  # noqa: BLE001 - reported below with the others
                errors.append(repr(exc))
            done.release()
            time.sleep(PACE_S)
        c.close()

    def restarter() -> None:
        for _ in range(N // 3):
            done.acquire()
        t0 = time.monotonic()
        own_cluster.down()
        restart["down_s"] = time.monotonic() - t0
        time.sleep(1.0)  # calls keep coming while there is no database
        t1 = time.monotonic()
        own_cluster.up()
        restart["up_s"] = time.monotonic() - t1
        restart["outage_s"] = time.monotonic() - t0

    threads = [threading.Thread(target=client, args=(t,)) for t in range(CLIENTS)]
    threads.append(threading.Thread(target=restarter))
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=DEADLINE_S + 60)
    elapsed = time.monotonic() - t0
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    assert restart.get("outage_s"), "the restart did not happen"

    with engine.connect() as conn:
        stored, keys, ids = conn.execute(text(
            "SELECT count(*), count(DISTINCT idempotency_key), array_agg(id ORDER BY id) FROM incidents "
            "WHERE idempotency_key LIKE 'nlc-%'")).one()
        events = conn.execute(text(
            "SELECT count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id "
            "WHERE i.idempotency_key LIKE 'nlc-%' AND e.kind = 'created'")).scalar_one()
    assert stored == N and keys == N and events == N
    assert sorted(results.values()) == ids  # every client got the id that was stored for its call
    assert stats["http_5xx"] + stats["connection_errors"] > stats["responses_dropped"], \
        "the outage was not seen by any request"
    print(f"\nno lost calls: {N} calls in {elapsed:.1f} s, stored {stored}; restart outage "
          f"{restart['outage_s']:.1f} s (stop {restart['down_s']:.2f} s, start {restart['up_s']:.2f} s); "
          f"{dict(stats)}")
    wait_http(port, "/healthz", 10)
