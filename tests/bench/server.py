"""A real gunicorn serving peta112 on a loopback port, for benchmarks over HTTP."""

from __future__ import annotations

import contextlib
import http.client
import os
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
def gunicorn(database_url: str, workers: int = 2, threads: int = 4) -> Iterator[int]:
    """Start gunicorn on DATABASE_URL, wait for /healthz, yield the port, stop it."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PETA112_RATE_LIMIT_INTAKE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning", "app.wsgi:app"],
        env=env, cwd=ROOT)
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
        proc.terminate()
        proc.wait(timeout=30)


def get_json(conn: http.client.HTTPConnection, path: str, role: str = "dispatcher") -> tuple[int, bytes]:
    from tests import users

    conn.request("GET", path, headers=users.auth(role))
    resp = conn.getresponse()
    return resp.status, resp.read()
