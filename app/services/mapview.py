"""What the map page needs from the database beyond tiles: where the city is."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Same rule as intake's city check: the admin areas, else the road network.
_BOUNDS_SQL = text("""
    SELECT ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box)
    FROM (SELECT COALESCE((SELECT ST_Extent(geom) FROM admin_areas),
                          (SELECT ST_Extent(geom) FROM road_edges))::geometry AS box) bounds
""")


def city_bounds(session: Session) -> list[float] | None:
    """[west, south, east, north] of the loaded city; None before any import.

    The page opens on this box, so a fresh database still shows the right place once data arrives.
    """
    row = session.execute(_BOUNDS_SQL).one()
    return None if row[0] is None else [float(v) for v in row]
