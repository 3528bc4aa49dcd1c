"""The thin web layer's caches on the live server: credentials and basemap tiles stay in memory
until the database announces a change (migration 0016's notices through the live hub), and a
revoked credential or an import is seen at once."""

from __future__ import annotations

import math
import threading
import time

import requests
from sqlalchemy import text

from tests import users


def _until(pred, what: str, bound_s: float = 30.0):  # noqa: ANN001, ANN202
    """Poll until ``pred()`` is truthy; the bound only keeps a broken notice from hanging the suite."""
    deadline = time.monotonic() + bound_s
    while True:
        got = pred()
        if got:
            return got
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _tile(lon: float, lat: float, z: int = 15) -> str:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return f"{z}/{x}/{y}"


CITY_TILE = _tile(110.42, -6.98)  # Jl. Merdeka crosses it (tests/tinycity.py)


def test_a_cached_token_is_refused_as_soon_as_it_is_revoked(live_server):
    app = live_server.app
    cache = app.extensions["peta112.credentials"]
    me = f"{live_server.url}/api/v1/me"
    assert requests.get(me, headers=users.auth("t_dinkes"), timeout=30).status_code == 200
    hits = cache.hits
    assert requests.get(me, headers=users.auth("t_dinkes"), timeout=30).status_code == 200
    assert cache.hits > hits  # answered from memory: no credential query
    hub = app.extensions["peta112.live"]
    before = hub.versions["auth"]
    try:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE prefix = :p"),
                         {"p": users.token("t_dinkes")[:12]})
        _until(lambda: hub.versions["auth"] > before, "the auth notice reached the hub")
        assert requests.get(me, headers=users.auth("t_dinkes"), timeout=30).status_code == 401
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET revoked_at = NULL WHERE prefix = :p"),
                         {"p": users.token("t_dinkes")[:12]})
    _until(lambda: requests.get(me, headers=users.auth("t_dinkes"), timeout=30).status_code == 200,
           "restored token works again")


def test_a_disabled_user_loses_a_cached_session_at_once(live_server):
    s = requests.Session()
    res = s.post(f"{live_server.url}/login", json={"username": "t_polri", "password": users.password("t_polri")},
                 timeout=30)
    assert res.status_code == 200, res.text
    me = f"{live_server.url}/api/v1/me"
    assert s.get(me, timeout=30).status_code == 200 and s.get(me, timeout=30).status_code == 200
    hub = live_server.app.extensions["peta112.live"]
    before = hub.versions["auth"]
    try:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE users SET active = false WHERE username = 't_polri'"))
        _until(lambda: hub.versions["auth"] > before, "the auth notice reached the hub")
        assert s.get(me, timeout=30).status_code == 401
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE users SET active = true WHERE username = 't_polri'"))


def test_sign_out_ends_the_session_in_this_process_at_once(live_server):
    s = requests.Session()
    me = s.post(f"{live_server.url}/login", json={"username": "t_official",
                                                  "password": users.password("t_official")}, timeout=30).json()
    assert s.get(f"{live_server.url}/api/v1/me", timeout=30).status_code == 200
    csrf = s.get(f"{live_server.url}/api/v1/me", timeout=30).json()["csrf_token"] or me.get("csrf_token")
    cookie = dict(s.cookies)
    assert s.post(f"{live_server.url}/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                  timeout=30).status_code == 200
    # The copied cookie, right after: refused (no waiting for any notice).
    assert requests.get(f"{live_server.url}/api/v1/me", cookies=cookie, timeout=30).status_code == 401


def test_basemap_tiles_come_from_memory_until_the_roads_change(live_server):
    tile_cache = live_server.app.extensions["peta112.tiles"]
    url = f"{live_server.url}/tiles/roads/{CITY_TILE}.pbf"
    auth = users.auth("dispatcher")
    first = requests.get(url, headers=auth, timeout=30)
    assert first.status_code == 200 and first.content
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")  # strong: the same bytes have the same tag in every process
    hits = tile_cache.hits
    again = requests.get(url, headers=auth, timeout=30)
    assert again.content == first.content and again.headers["ETag"] == etag and tile_cache.hits == hits + 1
    assert requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=30).status_code == 304
    hub = live_server.app.extensions["peta112.live"]
    before = hub.versions["basemap"]
    try:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE road_edges SET name = 'Jl. Pahlawan Baru' WHERE name = 'Jl. Merdeka'"))
        _until(lambda: hub.versions["basemap"] > before, "the basemap notice reached the hub")
        changed = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=30)
        assert changed.status_code == 200 and b"Pahlawan Baru" in changed.content
        assert changed.headers["ETag"] != etag
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE road_edges SET name = 'Jl. Merdeka' WHERE name = 'Jl. Pahlawan Baru'"))


def test_operational_tiles_are_computed_per_request(live_server):
    tile_cache = live_server.app.extensions["peta112.tiles"]
    before = (tile_cache.hits, tile_cache.misses)
    for _ in range(2):
        res = requests.get(f"{live_server.url}/tiles/incidents/{CITY_TILE}.pbf",
                           headers=users.auth("dispatcher"), timeout=30)
        assert res.status_code == 200 and "private" in res.headers["Cache-Control"]
    assert (tile_cache.hits, tile_cache.misses) == before


class _Threads:
    """Wraps the app's WSGI callable: the name of the thread each request ran in (the event loop's or a pool's)."""

    def __init__(self, app):  # noqa: ANN001
        self.app, self.inner, self.names = app, app.wsgi_app, []

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        self.names.append(threading.current_thread().name)
        return self.inner(environ, start_response)

    def __enter__(self):  # noqa: ANN204
        self.app.wsgi_app = self
        return self

    def __exit__(self, *_exc):  # noqa: ANN002, ANN204
        self.app.wsgi_app = self.inner


LOOP_THREAD = "peta112-live-server"  # tests/conftest.serve_asgi: uvicorn's event loop runs in this thread


def _settle(live_server) -> None:  # noqa: ANN001
    """Wait until the hub has seen every notice committed so far (earlier tests' restores empty the caches).

    Notices arrive in commit order, so once our own 'auth' and 'basemap' notices are counted, none
    committed before them can arrive later and empty the credential or tile cache mid-test.
    """
    hub = live_server.app.extensions["peta112.live"]
    before = dict(hub.versions)
    with live_server.engine.begin() as conn:
        conn.execute(text("""SELECT pg_notify('peta112', '{"table": "auth"}'), """
                          """pg_notify('peta112', '{"table": "basemap"}')"""))
    _until(lambda: hub.versions["auth"] > before["auth"] and hub.versions["basemap"] > before["basemap"],
           "our own notices reached the hub")


def test_a_warm_basemap_tile_is_answered_on_the_event_loop_exactly_as_the_app_answers(live_server):
    app = live_server.app
    tile_cache = app.extensions["peta112.tiles"]
    auth = users.auth("dispatcher")
    path = f"/tiles/kecamatan/{_tile(110.43, -6.99, 14)}.pbf"  # a basemap tile no other test asks
    credentials = app.extensions["peta112.credentials"]
    ttl = credentials.ttl_s
    credentials.ttl_s = 3600.0  # the credential stays cached through the test, whatever the machine's pace
    _settle(live_server)
    try:
        assert requests.get(f"{live_server.url}/api/v1/me", headers=auth, timeout=30).status_code == 200
        misses = tile_cache.misses
        with _Threads(app) as seen:
            first = requests.get(f"{live_server.url}{path}", headers=auth, timeout=30)
            assert first.status_code == 200 and tile_cache.misses == misses + 1
            hits = tile_cache.hits
            warm = requests.get(f"{live_server.url}{path}", headers=auth, timeout=30)
            etag = {"If-None-Match": first.headers["ETag"]}
            not_modified = requests.get(f"{live_server.url}{path}", headers={**auth, **etag}, timeout=30)
            anonymous = requests.get(f"{live_server.url}{path}", timeout=30)
            operational = requests.get(f"{live_server.url}/tiles/incidents/{CITY_TILE}.pbf", headers=auth,
                                       timeout=30)
    finally:
        credentials.ttl_s = ttl
    # The cold tile was tried on the loop, needed the database and was answered in a pool thread,
    # counted as one miss, not two; the warm one, the 304 and the refusal never left the loop.
    assert seen.names[0] == LOOP_THREAD and seen.names[1] != LOOP_THREAD
    assert seen.names[2:5] == [LOOP_THREAD] * 3
    assert tile_cache.misses == misses + 1 and tile_cache.hits == hits + 2
    assert warm.status_code == 200 and warm.content == first.content and warm.headers["ETag"] == first.headers["ETag"]
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert anonymous.status_code == 401 and anonymous.json()["status"] == 401
    # Operational tiles need the reader's rows: straight to a pool thread, never tried on the loop.
    assert operational.status_code == 200 and seen.names[5:] == [seen.names[5]] and seen.names[5] != LOOP_THREAD
    # The same answer the app gives the ordinary way (headers but the clock's; body).
    ordinary = app.test_client().get(path, headers=auth)
    skip = {"date", "server"}
    assert ordinary.status_code == 200 and ordinary.data == warm.content
    assert ({(k.lower(), v) for k, v in ordinary.headers.items() if k.lower() not in skip}
            == {(k.lower(), v) for k, v in warm.headers.items() if k.lower() not in skip})


def test_a_revoked_token_is_refused_a_warm_tile_on_the_event_loop(live_server):
    app = live_server.app
    url = f"{live_server.url}/tiles/roads/{CITY_TILE}.pbf"
    for _ in range(2):
        assert requests.get(url, headers=users.auth("t_dinkes"), timeout=30).status_code == 200
    hub = app.extensions["peta112.live"]
    before = hub.versions["auth"]
    try:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE prefix = :p"),
                         {"p": users.token("t_dinkes")[:12]})
        _until(lambda: hub.versions["auth"] > before, "the auth notice reached the hub")
        with _Threads(app) as seen:
            refused = requests.get(url, headers=users.auth("t_dinkes"), timeout=30)
        assert refused.status_code == 401
        assert seen.names[0] == LOOP_THREAD and seen.names[1] != LOOP_THREAD  # the credential was asked in SQL
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET revoked_at = NULL WHERE prefix = :p"),
                         {"p": users.token("t_dinkes")[:12]})
    _until(lambda: requests.get(url, headers=users.auth("t_dinkes"), timeout=30).status_code == 200,
           "restored token works again")


def test_a_signed_in_map_gets_warm_tiles_on_the_event_loop_until_it_signs_out(live_server):
    app = live_server.app
    s = requests.Session()
    me = s.post(f"{live_server.url}/login", json={"username": "t_bpbd", "password": users.password("t_bpbd")},
                timeout=30).json()
    url = f"{live_server.url}/tiles/roads/{CITY_TILE}.pbf"
    credentials = app.extensions["peta112.credentials"]
    ttl = credentials.ttl_s
    credentials.ttl_s = 3600.0  # the session stays cached through the test, whatever the machine's pace
    _settle(live_server)
    try:
        assert s.get(url, timeout=30).status_code == 200  # the session and the tile are now in memory
        cookie = dict(s.cookies)
        with _Threads(app) as seen:
            warm = s.get(url, timeout=30)
        assert warm.status_code == 200 and seen.names == [LOOP_THREAD]
        csrf = s.get(f"{live_server.url}/api/v1/me", timeout=30).json()["csrf_token"] or me.get("csrf_token")
        assert s.post(f"{live_server.url}/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                      timeout=30).status_code == 200
        with _Threads(app) as seen:
            ended = requests.get(url, cookies=cookie, timeout=30)
        # Sign-out emptied this process's cache: the loop needed the database and handed the request on.
        assert ended.status_code == 401 and seen.names[0] == LOOP_THREAD and seen.names[1] != LOOP_THREAD
    finally:
        credentials.ttl_s = ttl


FINGERPRINTS = ("pg_stat_get_tuples_inserted", "string_agg(id::text || agency_code", "FROM road_edges WHERE id = ANY")


def test_warm_nearest_trusts_the_notices_and_sees_a_new_station_at_once(live_server):
    """While the hub listens, a warm nearest asks no freshness query; a new station is routed once announced."""
    from sqlalchemy import event

    from tests.routing_net import add_station, add_unit

    app, engine = live_server.app, live_server.app.extensions["peta112.engine"]
    url = f"{live_server.url}/api/v1/nearest?lat=-6.98&lon=110.421&agency=DINKES&k=3"
    auth = users.auth("dispatcher")
    for _ in range(2):  # the first builds the tables
        assert requests.get(url, headers=auth, timeout=30).status_code == 200
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN202
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        res = requests.get(url, headers=auth, timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert res.status_code == 200 and res.json()["method"] == "drive_time"
    assert seen, "the request did its own work in SQL"
    assert not [s for s in seen if any(f in s for f in FINGERPRINTS)], seen
    hub = app.extensions["peta112.live"]
    before = hub.versions["stations"]
    try:
        with live_server.engine.begin() as conn:
            sid = add_station(conn, "DINKES", "PSC Merdeka", (110.4212, -6.9801))
            add_unit(conn, "DINKES", "T-AMB-NEW", "ambulance", sid)
        _until(lambda: hub.versions["stations"] > before, "the stations notice reached the hub")
        first = requests.get(url, headers=auth, timeout=30).json()["candidates"][0]
        assert first["callsign"] == "T-AMB-NEW" and first["eta_s"] is not None
    finally:
        with live_server.engine.begin() as conn:
            conn.execute(text("DELETE FROM units WHERE callsign = 'T-AMB-NEW'"))
            conn.execute(text("DELETE FROM stations WHERE name = 'PSC Merdeka'"))
    _until(lambda: requests.get(url, headers=auth, timeout=30).json()["candidates"][0]["callsign"] != "T-AMB-NEW",
           "the removed station is forgotten")


def test_a_warm_intake_is_one_transaction_with_no_credential_query(live_server):
    """One pooled connection, one transaction (the viewer told inside it), no ping and no token lookup.

    Statements are seen at the driver (a recording cursor on the checked-out connection): intake runs
    its own on the psycopg connection, past SQLAlchemy's execute events.
    """
    import psycopg
    from sqlalchemy import event

    engine = live_server.app.extensions["peta112.engine"]
    headers = {**users.auth("call_taker"), "Idempotency-Key": "one-tx-warm"}
    body = {"category": "kebakaran", "lat": -6.975, "lon": 110.41, "source": "phone"}
    url = f"{live_server.url}/api/v1/incidents?recommend=0"
    first = requests.post(url, json=body, headers=headers, timeout=30)  # the token is cached from here on
    assert first.status_code == 201, first.text
    seen: list[str] = []
    checkouts: list[int] = []

    taken: list[tuple[object, type]] = []

    class Recording(psycopg.Cursor):
        def execute(self, query, params=None, **kw):  # noqa: ANN001, ANN003, ANN202
            seen.append(query if isinstance(query, str) else repr(query))
            return super().execute(query, params, **kw)

    def checkout(dbapi_connection, *_args):  # noqa: ANN001, ANN002, ANN202
        checkouts.append(1)
        taken.append((dbapi_connection, dbapi_connection.cursor_factory))
        dbapi_connection.cursor_factory = Recording

    event.listen(engine.pool, "checkout", checkout)
    try:
        res = requests.post(url, json={**body, "lat": -6.985, "lon": 110.43},
                            headers={**headers, "Idempotency-Key": "one-tx"}, timeout=30)
    finally:
        event.remove(engine.pool, "checkout", checkout)
        for conn, factory in taken:
            conn.cursor_factory = factory
    assert res.status_code == 201, res.text
    got = res.json()
    assert got["is_open"] is True and got["report_count"] == 1  # the read model's state, read before the commit
    assert len(checkouts) == 1, seen
    assert sum("set_config('peta112.viewer_role'" in s for s in seen) == 1, seen
    assert not [s for s in seen if "api_tokens" in s or s.strip().upper() == "SELECT 1"], seen
    with live_server.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents WHERE idempotency_key = 'one-tx'")).scalar_one() == 1
    for done in (first.json(), got):  # off the shared server's open queue
        assert requests.patch(f"{live_server.url}/api/v1/incidents/{done['id']}", json={"status": "cancelled"},
                              headers=users.auth("admin"), timeout=30).status_code == 200


def _dates(url: str, path: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Status and every Date header as sent (requests would join repeated headers into one)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        res.read()
        return res.status, [v for k, v in res.getheaders() if k.lower() == "date"]
    finally:
        conn.close()


def test_every_answer_carries_one_date_header(live_server):
    """uvicorn writes Date; werkzeug's make_conditional (tiles) wrote a second one."""
    from email.utils import parsedate_to_datetime

    auth = users.auth("dispatcher")
    status, _ = _dates(live_server.url, f"/tiles/roads/{CITY_TILE}.pbf", auth)
    assert status == 200
    etag = requests.get(f"{live_server.url}/tiles/roads/{CITY_TILE}.pbf", headers=auth, timeout=30).headers["ETag"]
    for path, headers, expected in (
            (f"/tiles/roads/{CITY_TILE}.pbf", auth, 200),  # a basemap tile, from memory on the event loop
            (f"/tiles/roads/{CITY_TILE}.pbf", {**auth, "If-None-Match": etag}, 304),
            (f"/tiles/incidents/{CITY_TILE}.pbf", auth, 200),  # operational: rendered in a pool thread
            ("/api/v1/categories", auth, 200),
            ("/api/v1/incidents/999999999", auth, 404),
            ("/healthz", {}, 200)):
        status, dates = _dates(live_server.url, path, headers)
        assert status == expected, (path, status)
        assert len(dates) == 1, (path, dates)
        assert parsedate_to_datetime(dates[0]).tzinfo is not None, dates  # an HTTP date, in GMT
