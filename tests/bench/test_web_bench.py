"""What the web layer costs over the work under it, with tipg 1.6 as the peer tile server in the same run.

On the server `make run` starts (``peta112 serve``, 2 processes), one keep-alive client, requests
one after another (latency, not throughput):

1. **nearest by drive time** (``GET /api/v1/nearest``, DINKES, k=5) over HTTP, against the same
   call in-process (``routing.nearest_for_point`` on a session that reads as the dispatcher,
   as a request does), over the same points, both warm.
2. **roads tiles at z15** over the city: ours the first time each tile is asked (rendered by
   PostGIS), ours again (served from the process's basemap cache, no database, answered on the
   server's event loop: app/live/asgi.py), and tipg 1.6
   (asyncpg + Starlette) serving the same ``road_edges`` with the same properties.
3. **before**, in the same run: the same requests on gunicorn gthread (the server used until
   now), where no live hub listens and so nothing is cached.

Full run (``make bench``): the demo city (city scale), 200 nearest points, every z15 road tile of
the city (capped at 300); figures under ``web_layer`` in bench/results.json.  In ``make test``:
the tiny test city, a few requests, as a smoke.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import make_engine, make_sessionmaker
from app.incidents.viewer import Viewer
from tests import tinycity, users
from tests.bench.results import full_run, percentile, record
from tests.bench.server import ROOT, _stop, cpu_seconds, free_port, gunicorn, serve_process
from tests.scratch import scratch_database

pytestmark = pytest.mark.bench

FULL = full_run()
N_POINTS = 200 if FULL else 5
MAX_TILES = 300 if FULL else 6
TILE_Z = 15
ROAD_PROPS = "id,highway,name,oneway,speed_kmh"


def _seed(conn: Any) -> None:
    if FULL:
        from geodata.demo import generate, load

        load(conn, generate(seed=112, scale="city", years=0.1), replace=True)
    else:
        tinycity.seed(conn)
    users.seed(conn)


def _tile_range(box: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 2**z
        return (int((lon + 180.0) / 360.0 * n),
                int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n))

    x0, y1 = xy(box[0], box[1])
    x1, y0 = xy(box[2], box[3])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


@contextlib.contextmanager
def tipg(url: str) -> Iterator[int]:
    """tipg 1.6 on the same database (its tables, no function catalogue); we ask it for road_edges."""
    u = make_url(url)
    sock_dir, pg_port = u.query.get("host"), u.query.get("port", "5432")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PETA112_", "TIPG_"))}
    # asyncpg takes a unix socket directory as a percent-encoded host.
    env.update(DATABASE_URL=f"postgresql://{u.username}@{quote(str(sock_dir), safe='')}:{pg_port}/{u.database}",
               TIPG_DB_SCHEMAS='["public"]', TIPG_DB_FUNCTIONS="[]",
               TIPG_DB_SPATIAL_EXTENT="false", TIPG_DB_DATETIME_EXTENT="false")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                             "--log-level", "warning"], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/collections/public.road_edges")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
            finally:
                conn.close()
        yield port
    finally:
        _stop(proc)


def _timed_get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[float, int, bytes]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    return time.perf_counter() - t0, resp.status, body


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(times, 50) * 1000, 2), "p95_ms": round(percentile(times, 95) * 1000, 2),
            "n": len(times)}


def test_web_layer_against_in_process_and_tipg(cluster, monkeypatch):
    from app.routing import cache
    from app.routing import nearest as routing

    # In-process as a process without notices runs (the CLI, a notebook): fingerprints asked at most every
    # RECHECK_S, not per query as the other tests here need; the server trusts its hub's notices instead.
    monkeypatch.setattr(cache, "RECHECK_S", float(os.environ.get("PETA112_ROUTING_RECHECK_S", "2")))

    with scratch_database(cluster, "peta112_webbench", seed=_seed) as url:
        eng = make_engine(url)
        app_engine = make_engine(url, app_role=True)
        try:
            with eng.connect() as c:
                points = [(float(a), float(b)) for a, b in c.execute(text(
                    "SELECT ST_Y(geom), ST_X(geom) FROM incidents WHERE geom IS NOT NULL ORDER BY id LIMIT :n"),
                    {"n": N_POINTS})]
                if len(points) < N_POINTS:  # the tiny city has no calls: its streets will do
                    points = [(-6.98 + 0.002 * (i % 5), 110.405 + 0.005 * (i % 6)) for i in range(N_POINTS)]
                box = tuple(float(v) for v in c.execute(text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                    "FROM (SELECT ST_Extent(geom) AS e FROM road_edges) x")).one())
            tiles = _tile_range(box, TILE_Z)[:MAX_TILES]  # type: ignore[arg-type]
            fig: dict[str, Any] = {"city": "demo city (city scale)" if FULL else "tiny test city",
                                   "server": "peta112 serve (uvicorn, 2 processes)", "client": "one keep-alive "
                                   "connection, sequential requests"}
            # In-process: the same call the route makes, on a session reading as the dispatcher.  The two
            # are interleaved point by point, so a busy moment of the shared machine hits both alike.
            sessions = make_sessionmaker(app_engine, viewer=Viewer("dispatcher", username="bench"))
            inproc: list[float] = []
            inproc_cpu = 0.0
            load = [os.getloadavg()[0]]
            with serve_process(url, workers=2) as (port, proc), sessions() as s:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                auth = users.auth("dispatcher")
                lat, lon = points[0]
                routing.nearest_for_point(s, lat, lon, agency="DINKES", k="5", by="time")  # tables built
                s.commit()
                for _ in range(4):  # each process builds its routing tables on first use; not timed
                    _timed_get(conn, f"/api/v1/nearest?lat={lat}&lon={lon}&agency=DINKES&k=5", auth)
                over_http: list[float] = []
                server0 = cpu_seconds(proc.pid)
                for lat, lon in points:
                    t0, c0 = time.perf_counter(), time.thread_time()
                    res = routing.nearest_for_point(s, lat, lon, agency="DINKES", k="5", by="time")
                    s.commit()
                    inproc_cpu += time.thread_time() - c0
                    inproc.append(time.perf_counter() - t0)
                    assert res["candidates"]
                    dt, status, body = _timed_get(conn, f"/api/v1/nearest?lat={lat}&lon={lon}&agency=DINKES&k=5",
                                                  auth)
                    assert status == 200 and json.loads(body)["candidates"], body[:200]
                    over_http.append(dt)
                fig["nearest_in_process"] = _ms(inproc)
                fig["nearest_over_http"] = _ms(over_http)
                fig["nearest_http_over_in_process_p50"] = round(percentile(over_http, 50) / percentile(inproc, 50), 2)
                # CPU, which the load of the shared machine does not change: the server's processes (HTTP,
                # Flask, sign-in, JSON and the same work) against the bench's own thread doing the work.
                server_cpu = cpu_seconds(proc.pid) - server0
                fig["nearest_cpu_ms_per_call"] = {"in_process": round(inproc_cpu / len(points) * 1000, 2),
                                                  "server": round(server_cpu / len(points) * 1000, 2)}
                fig["nearest_cpu_http_over_in_process"] = round(server_cpu / inproc_cpu, 2) if inproc_cpu else None
                load.append(os.getloadavg()[0])
                fig["load_average_1m"] = [round(v, 1) for v in load]
                # -- roads tiles: first ask (rendered), second ask (cached), tipg on the same table.
                cold, warm, sizes = [], [], []
                for x, y in tiles:
                    dt, status, body = _timed_get(conn, f"/tiles/roads/{TILE_Z}/{x}/{y}.pbf", auth)
                    assert status == 200
                    cold.append(dt)
                    sizes.append(len(body))
                for x, y in tiles:
                    dt, status, _ = _timed_get(conn, f"/tiles/roads/{TILE_Z}/{x}/{y}.pbf", auth)
                    assert status == 200
                    warm.append(dt)
                conn.close()
            # Before, in the same run: the WSGI server the app ran on until now (gunicorn gthread), where
            # no live hub listens, so nothing is cached: every request checks its credential in SQL.
            with gunicorn(url, workers=2, threads=8) as gport:
                gconn = http.client.HTTPConnection("127.0.0.1", gport, timeout=60)
                for _ in range(4):
                    _timed_get(gconn, f"/api/v1/nearest?lat={points[0][0]}&lon={points[0][1]}&agency=DINKES&k=5",
                               auth)
                before_nearest = [_timed_get(gconn, f"/api/v1/nearest?lat={lat}&lon={lon}&agency=DINKES&k=5",
                                             auth)[0] for lat, lon in points]
                before_tiles = [_timed_get(gconn, f"/tiles/roads/{TILE_Z}/{x}/{y}.pbf", auth)[0] for x, y in tiles]
                gconn.close()
            fig["before_gunicorn_no_caches"] = {"nearest_over_http": _ms(before_nearest),
                                                "roads_tile_z15": _ms(before_tiles)}
            with tipg(url) as tport:
                tconn = http.client.HTTPConnection("127.0.0.1", tport, timeout=60)
                peer: list[float] = []
                for x, y in tiles[:1]:  # its first request opens the pool
                    _timed_get(tconn, f"/collections/public.road_edges/tiles/WebMercatorQuad/{TILE_Z}/{x}/{y}"
                                      f"?properties={ROAD_PROPS}", {})
                for x, y in tiles:
                    dt, status, _ = _timed_get(tconn, f"/collections/public.road_edges/tiles/WebMercatorQuad/"
                                                      f"{TILE_Z}/{x}/{y}?properties={ROAD_PROPS}", {})
                    assert status in (200, 204)
                    peer.append(dt)
                tconn.close()
            fig["roads_tile_z15_rendered"] = _ms(cold)
            fig["roads_tile_z15_cached"] = _ms(warm)
            fig["roads_tile_z15_tipg"] = _ms(peer)
            fig["roads_tile_bytes_p50"] = int(percentile([float(v) for v in sizes], 50))
            fig["rendered_over_tipg_p50"] = round(percentile(cold, 50) / percentile(peer, 50), 2)
            fig["targets"] = {"nearest_http_over_in_process": "<= 1.5x", "roads_tile_over_tipg": "<= 1.0x",
                              "warm_basemap_tile_p50_ms": "<= 1"}
            print("\nweb layer", json.dumps(fig, indent=1))
            record("web_layer", fig)
        finally:
            app_engine.dispose()
            eng.dispose()
