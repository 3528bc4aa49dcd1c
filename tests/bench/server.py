"""A real gunicorn serving peta112 on a loopback port, for benchmarks over HTTP."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
            finally:
                conn.close()
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if out:
            out.close()


def get_json(conn: http.client.HTTPConnection, path: str, role: str = "dispatcher") -> tuple[int, bytes]:
    from tests import users

    conn.request("GET", path, headers=users.auth(role))
    resp = conn.getresponse()
    return resp.status, resp.read()
