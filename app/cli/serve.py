"""``peta112 serve``: the web app with uvicorn (app/live/asgi.py), or Flask's development server."""

from __future__ import annotations

import os
import sys

import click

from app.cli.common import friendly, settings
from app.db import ensure_database


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="server processes (uvicorn); 0 runs Flask's development server.")
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web app (the database must be up and migrated)."""
    from app import secret_key

    s = settings(ctx)
    secret_key.resolve(s)  # refuse a published or weak key before the server starts its workers
    ensure_database(s)
    if s.base_url is None:  # links point at the address served, never at a request's Host header
        local = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        s = s.with_overrides(base_url=f"http://{local}:{port}")
        click.echo(f"links use {s.base_url}; set PETA112_BASE_URL to the public address")
    if workers <= 0:
        from app import create_app

        create_app(s).run(host=host, port=port, threaded=True)
        return
    # uvicorn: the Flask app on a thread pool per process, the live stream on its event loop
    # (app/live/asgi.py), so open maps hold no worker thread; one LISTEN per process.
    from app.live.asgi import server_argv

    argv = server_argv(host, port, workers)
    _raise_open_files_limit()  # every open map is a socket
    os.execve(sys.executable, argv, {**os.environ, "PETA112_BASE_URL": s.base_url})


def _raise_open_files_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
