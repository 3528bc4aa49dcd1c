"""Analytics queries are bounded: a statement timeout, and at most a few at once per user.

An official could start 14-22 s analytics queries back to back (issue 14); each one
holds a gunicorn thread and a database connection that the call desk needs.  So every
``api.analytics_*`` request

- holds one of its user's ``PETA112_ANALYTICS_CONCURRENCY`` slots in this process
  (default 4: the dashboard sends two at once and a filter change may overlap them);
  a request beyond that is 429 with Retry-After, before any query runs;
- runs its queries under ``SET LOCAL statement_timeout`` (``PETA112_ANALYTICS_TIMEOUT_S``,
  default 10 s); PostgreSQL cancels a query that runs longer, and the cancel is a 503
  with Retry-After, not a 500.

Per process, like the rate limits in app/web/auth.py: with N gunicorn workers a user
may run at most N times the setting, which still bounds what one account can take.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from flask import Flask, Response, current_app, g, request
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import get_session
from app.web.auth import current_user
from app.web.problems import Problem, problem_response

ENDPOINT_PREFIX = "api.analytics_"
RETRY_AFTER_BUSY_S = 5
RETRY_AFTER_TIMEOUT_S = 60
RETRY_AFTER_DOWN_S = 5


class Slots:
    """At most ``per_key`` holders per key at once (a counting semaphore per user, never blocking)."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._lock = threading.Lock()
        self._held: dict[object, int] = defaultdict(int)

    def acquire(self, key: object) -> bool:
        with self._lock:
            if self._held[key] >= self.per_key:
                return False
            self._held[key] += 1
            return True

    def release(self, key: object) -> None:
        with self._lock:
            self._held[key] -= 1
            if self._held[key] <= 0:
                del self._held[key]

    def held(self, key: object) -> int:
        with self._lock:
            return self._held.get(key, 0)


def _slot_key() -> object:
    user = current_user()
    return ("user", user.id) if user is not None else ("addr", request.remote_addr)


def _before() -> None:
    if not (request.endpoint or "").startswith(ENDPOINT_PREFIX):
        return
    settings = current_app.extensions["peta112.settings"]
    slots: Slots = current_app.extensions["peta112.analytics_slots"]
    key = _slot_key()
    if not slots.acquire(key):
        raise Problem(429, "Too Many Requests", f"at most {slots.per_key} analytics requests at once per user; "
                      f"retry in {RETRY_AFTER_BUSY_S} s", retry_after=RETRY_AFTER_BUSY_S)
    g.analytics_slot = key
    ms = max(1, round(settings.analytics_timeout_s * 1000))
    get_session().execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(ms)})


def _release(exc: BaseException | None) -> None:
    key = g.pop("analytics_slot", None)
    if key is not None:
        current_app.extensions["peta112.analytics_slots"].release(key)


def _database_error(exc: OperationalError) -> Response:
    """A cancelled analytics query or an unreachable database: 503 with Retry-After, not 500."""
    if isinstance(exc.orig, pg_errors.QueryCanceled):
        limit = current_app.extensions["peta112.settings"].analytics_timeout_s
        problem = Problem(503, "Service Unavailable", f"the query took longer than {limit:g} s and was stopped; "
                          "narrow the time window or categories, or retry later", retry_after=RETRY_AFTER_TIMEOUT_S)
    else:
        current_app.logger.warning("database error: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        problem = Problem(503, "Service Unavailable", "the database is not reachable; retry shortly",
                          retry_after=RETRY_AFTER_DOWN_S)
    resp = problem_response(problem)
    resp.headers["Retry-After"] = str(problem.extra["retry_after"])
    return resp


def init_app(app: Flask) -> None:
    """Register after app/web/auth.py: the slot belongs to the signed-in user."""
    settings = app.extensions["peta112.settings"]
    app.extensions["peta112.analytics_slots"] = Slots(settings.analytics_concurrency)
    app.before_request(_before)
    app.teardown_request(_release)
    app.register_error_handler(OperationalError, _database_error)
