"""Kota Contoh: a deterministic, fictional coastal Indonesian city for demos, tests and benchmarks.

``generate(seed, scale, years, until)`` builds it in memory (a ``DemoCity`` of
GeoDataFrames, EPSG:4326) with its planted ground truth in ``.manifest``;
``load(conn, city, replace=False)`` writes it through COPY in the caller's
transaction.  ``peta112 demo`` does both.
"""

from geodata.demo.city import DemoCity, generate
from geodata.demo.frame import SCALES
from geodata.demo.load import DemoLoadError, load

__all__ = ["SCALES", "DemoCity", "DemoLoadError", "generate", "load"]
