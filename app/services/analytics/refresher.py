"""The server's rollup refresher: folds the change log into stored cells every few seconds,
then brings this process's in-memory cells up to date, so requests find them warm.

A thread per server process, not a cron job, so ``make run`` needs nothing else; the
processes share the work through the rollup's advisory lock (one folds, the others
find the lock taken and wait for the next round).  It connects as the tables' owner:
the web role may only read cells.  Without it the answers stay exact (a reader builds
the logged cells of its window), only slower as the log grows.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from app.db.engine import make_engine
from app.services.analytics import rollup

log = logging.getLogger(__name__)
# Below PostgreSQL's deadlock_timeout (1 s): should the refresher and a writer ever wait on each
# other, the refresher gives up first and the writer's transaction is never the one aborted.
LOCK_TIMEOUT_MS = 500


class Refresher:
    def __init__(self, url: str, every_s: float) -> None:
        self.every_s = every_s
        self._engine = make_engine(url, pool_size=1, max_overflow=0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peta112-rollup", daemon=True)
        self.rounds = 0

    def start(self) -> Refresher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._engine.dispose()

    def _run(self) -> None:
        while True:
            try:
                built = rollup.refresh(self._engine, lock_timeout_ms=LOCK_TIMEOUT_MS)
                if built:
                    log.info("rollup: %d cells refreshed", built)
                rollup.preload(self._engine)  # this process's requests then find their cells in memory
            except SQLAlchemyError as exc:  # a restart of the database, a migration in progress
                log.warning("rollup refresh failed, retrying in %.0f s: %s", self.every_s, exc)
            self.rounds += 1
            if self._stop.wait(self.every_s):
                return
