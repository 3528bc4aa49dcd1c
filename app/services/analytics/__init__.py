"""Analytics over the incident history: BPBD clusters (+ CAP alerts), hotspots, agency performance, trends.

Plain Python services that take a SQLAlchemy ``Session`` and return JSON-ready
dicts, so the HTTP API, the CLI and notebooks share one implementation.  SQL
lives at the top of each module; the spatial statistics (``spatialstats``)
are numpy/scipy only, so the server needs no PySAL at runtime (the tests
check them against esda).
"""
