"""Incident density for the map's heatmap: counts on a metric grid, as [lat, lon, weight] points.

The browser draws the kernel density itself (vendored leaflet.heat), so the
server only has to say where the calls are.  Sending every incident would be
100,000 points and megabytes of JSON for a two-year window; snapping to a grid
of ``cell_m`` metres in the metric CRS first sends at most a few thousand
weighted points whatever the window, and a cell of 50-100 m is below what a
heatmap blur at city zoom can show anyway.  Only counted calls (``incident_facts.is_counted``)
are drawn, as in the hotspots: a prank, a cancelled call or a duplicate is not a place
where something happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics.common import (
    COUNTED,
    IN_KECAMATAN,
    NOT_COUNTED,
    Window,
    check_agency,
    check_categories,
    check_kecamatan,
    check_range,
)
from app.services.errors import InvalidInput

MAX_POINTS = 50_000  # a guard: a tiny cell over a metro-scale window would send everything again

DENSITY_SQL = text(f"""
WITH pts AS (
    SELECT ST_Transform(f.geom, CAST(:epsg AS integer)) AS g
    FROM incident_facts f
    WHERE f.geom IS NOT NULL AND {COUNTED} AND {IN_KECAMATAN}
      AND (NOT :open_only OR f.is_open)
      AND (CAST(:agency AS text) IS NULL OR EXISTS (
            SELECT 1 FROM incident_tasks t WHERE t.incident_id = f.id AND t.agency_code = CAST(:agency AS text)))
), cells AS (
    SELECT floor(ST_X(g) / :cell) AS gx, floor(ST_Y(g) / :cell) AS gy, count(*) AS n FROM pts GROUP BY 1, 2
)
SELECT ST_Y(c) AS lat, ST_X(c) AS lon, n
FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint((gx + 0.5) * :cell, (gy + 0.5) * :cell),
                                     CAST(:epsg AS integer)), 4326) AS c, n
      FROM cells) s
ORDER BY n DESC
LIMIT :limit
""")


@dataclass(frozen=True)
class DensityQuery:
    window: Window
    categories: list[str] | None = None
    agency: str | None = None
    kecamatan: str | None = None
    open_only: bool = False
    cell_m: float = 75.0


def density(session: Session, q: DensityQuery, utm_epsg: int = 32749) -> dict[str, Any]:
    """Weighted grid points ``[[lat, lon, count], ...]`` (heaviest first), their maximum and total."""
    check_range(q.cell_m, 20, 2000, "cell_m")
    params = {"since": q.window.since, "until": q.window.until, "epsg": utm_epsg, "cell": q.cell_m,
              "categories": check_categories(session, q.categories), "agency": check_agency(session, q.agency),
              "kecamatan": check_kecamatan(session, q.kecamatan), "open_only": q.open_only,
              "limit": MAX_POINTS + 1}
    rows = session.execute(DENSITY_SQL, params).all()
    if len(rows) > MAX_POINTS:
        raise InvalidInput(f"cell_m={q.cell_m:g} gives more than {MAX_POINTS} cells; use a larger cell", "cell_m")
    points = [[round(lat, 6), round(lon, 6), int(n)] for lat, lon, n in rows]
    return {
        "points": points,
        "max": points[0][2] if points else 0,
        "total": sum(p[2] for p in points),
        "parameters": {"category": params["categories"], "agency": params["agency"],
                       "kecamatan": params["kecamatan"], "open": q.open_only, "cell_m": q.cell_m,
                       "crs": f"EPSG:{utm_epsg}", "excludes": list(NOT_COUNTED)},
        "window": q.window.to_dict(),
    }
