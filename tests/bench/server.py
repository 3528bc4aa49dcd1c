"""A real server of peta112 on a loopback port, for benchmarks over HTTP.

``serve`` starts what ``peta112 serve`` (and so ``make run``) starts: uvicorn processes with the
Flask app on a thread pool and the live stream on the event loop.  ``gunicorn`` is the WSGI
server the app was served with before, kept for the benchmarks that compare with it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)
        finally:
            conn.close()


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def serve(database_url: str, workers: int = 2, log: Path | None = None,
          env_extra: dict[str, str] | None = None) -> Iterator[int]:
    """Start the server as ``make run`` does (``peta112 serve``, default 2 processes); yield the port.

    Rate limits are off (a benchmark is one client address sending thousands of calls).
    """
    with serve_process(database_url, workers, log, env_extra) as (port, _proc):
        yield port


@contextlib.contextmanager
def serve_process(database_url: str, workers: int = 2, log: Path | None = None,
                  env_extra: dict[str, str] | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """:func:`serve`, also yielding the server's process (to measure the CPU it spends)."""
    import resource

    from app.live.asgi import server_argv

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETA112_")}
    env.update(DATABASE_URL=database_url, PETA112_RATE_LIMIT_INTAKE="0", **(env_extra or {}))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it, as under serve
    out = open(log, "wb") if log else None  # noqa: SIM115 - closed in finally below
    proc = subprocess.Popen(server_argv("127.0.0.1", port, workers, access_log=False, log_level="warning"),
                            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None)
    try:
        _wait_healthy(port, proc)
        yield port, proc
    finally:
        _stop(proc)
        if out:
            out.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (live ones, and the exited ones it waited for)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            continue
    return total


def backend_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``dbname`` (by its process title)."""
    import psutil

    out: dict[int, float] = {}
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            title = " ".join(p.info["cmdline"] or [])
            if title.startswith("postgres: ") and f" {dbname} " in f"{title} ":
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


@contextlib.contextmanager
def gunicorn(database_url: str, workers: int = 2, threads: int = 4, log: Path | None = None) -> Iterator[int]:
    """Start gunicorn on DATABASE_URL, wait for /healthz, yield the port, stop it.

    Rate limits are off (a benchmark is one client address sending thousands of calls);
    shutdown is quick (SIGINT, 3 s grace) so held-open SSE streams do not stall teardown.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETA112_")}
    env.update(DATABASE_URL=database_url, PETA112_RATE_LIMIT_INTAKE="0")
    out = open(log, "wb") if log else None  # noqa: SIM115 - closed in finally below
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--timeout", "120", "--graceful-timeout", "3",
         "--log-level", "warning", "app.wsgi:app"],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None)
    try:
        _wait_healthy(port, proc)
        yield port
    finally:
        _stop(proc)
        if out:
            out.close()


def get_json(conn: http.client.HTTPConnection, path: str, role: str = "dispatcher") -> tuple[int, bytes]:
    from tests import users

    conn.request("GET", path, headers=users.auth(role))
    resp = conn.getresponse()
    return resp.status, resp.read()


@dataclass
class IntakeRun:
    seconds: float
    latencies: list[float]  # seconds, every request
    errors: list[str]       # status of every answer that was not 201
    stored: int             # incidents in the database carrying the run's Idempotency-Keys


def post_incidents(port: int, engine, tag: str, clients: int, per_client: int,  # noqa: ANN001
                   body: Callable[[int, int], dict], path: str = "/api/v1/incidents") -> IntakeRun:
    """``clients`` concurrent call-takers post ``per_client`` calls each (keys ``tag-i-j``), then count them."""
    from sqlalchemy import text

    from tests import users

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    headers = {"Content-Type": "application/json", **users.auth("call_taker")}

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        for j in range(per_client):
            t0 = time.perf_counter()
            conn.request("POST", path, json.dumps(body(i, j)), {**headers, "Idempotency-Key": f"{tag}-{i}-{j}"})
            resp = conn.getresponse()
            resp.read()
            with lock:
                latencies.append(time.perf_counter() - t0)
                if resp.status != 201:
                    errors.append(str(resp.status))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    with engine.connect() as db:
        stored = db.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key LIKE :t"),
                            {"t": f"{tag}-%"}).scalar_one()
    return IntakeRun(seconds, latencies, errors, stored)
