"""The area of a CAP alert as a small SVG outline, so the readable alert page needs no map tiles.

CAP polygons are "lat,lon lat,lon ..." rings (at most 100 points here); drawn in an
equirectangular projection scaled by cos(latitude), which at a kelurahan's size is
indistinguishable from the map's.
"""

from __future__ import annotations

import math

SIZE = 240.0
PAD = 8.0


def outline(polygon: str, size: float = SIZE) -> dict[str, str] | None:
    """``{"viewbox", "points"}`` for an SVG ``<polygon>``, or None for a ring that cannot be drawn."""
    try:
        pts = [tuple(float(v) for v in pair.split(",")) for pair in polygon.split()]
    except ValueError:
        return None
    if len(pts) < 3:
        return None
    lats = [p[0] for p in pts]
    k = math.cos(math.radians(sum(lats) / len(lats)))
    xs = [p[1] * k for p in pts]
    ys = [-p[0] for p in pts]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    scale = (size - 2 * PAD) / max(w, h, 1e-9)
    points = " ".join(f"{PAD + (x - min(xs)) * scale:.1f},{PAD + (y - min(ys)) * scale:.1f}"
                      for x, y in zip(xs, ys, strict=True))
    return {"viewbox": f"0 0 {2 * PAD + w * scale:.1f} {2 * PAD + h * scale:.1f}", "points": points}
