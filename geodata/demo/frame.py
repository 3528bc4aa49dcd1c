"""Where Kota Contoh lies, how big each scale is, and the seeded random streams.

The city is built in metres in a local frame whose origin is the south-west
corner of its bounding box, in UTM zone 49S (EPSG:32749), and only converted
to EPSG:4326 for storage: distances, buffers and speeds stay honest.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import Transformer

UTM_EPSG = 32749
CENTRE_LONLAT = (110.42, -6.98)  # north coast of Java; the sea is to the north


@dataclass(frozen=True)
class ScaleSpec:
    """Size knobs of one scale; the road lattice has one line every ``spacing`` metres."""

    name: str
    nx: int  # lattice columns (x); every 2nd line is a street, odd lines are gang alleys
    ny: int
    spacing: float
    rivers: int
    kecamatan: int
    kelurahan: int
    incidents_per_day: float
    open_incidents: int
    police_posts: int
    hospitals: int


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec("small", 32, 28, 50.0, 1, 5, 40, 20.0, 6, 2, 2),
    "city": ScaleSpec("city", 124, 108, 50.0, 2, 8, 64, 75.0, 12, 6, 4),
    "metro": ScaleSpec("metro", 330, 300, 50.0, 3, 10, 100, 200.0, 25, 15, 8),
}


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent generator per part of the city.

    Separate streams keep parts stable: adding a landmark type must not move
    every road of the network.
    """
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


@dataclass(frozen=True)
class Frame:
    """Local metric frame (origin = south-west corner) to UTM 49S and to lon/lat."""

    width: float
    height: float

    @cached_property
    def origin(self) -> tuple[float, float]:
        to_utm = Transformer.from_crs(4326, UTM_EPSG, always_xy=True)
        cx, cy = to_utm.transform(*CENTRE_LONLAT)
        return cx - self.width / 2, cy - self.height / 2

    @cached_property
    def _to_lonlat(self) -> Transformer:
        return Transformer.from_crs(UTM_EPSG, 4326, always_xy=True)

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised local metres to (lon, lat) degrees."""
        ox, oy = self.origin
        lon, lat = self._to_lonlat.transform(np.asarray(x, float) + ox, np.asarray(y, float) + oy)
        return np.asarray(lon), np.asarray(lat)

    def to_wgs84(self, geoms: np.ndarray) -> np.ndarray:
        """Local-frame shapely geometries to EPSG:4326 (vertex by vertex, shared vertices stay shared)."""

        def fn(coords: np.ndarray) -> np.ndarray:
            lon, lat = self.lonlat(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(np.asarray(geoms, dtype=object), fn)

    def to_utm(self, geoms: np.ndarray) -> np.ndarray:
        """Local-frame geometries to true EPSG:32749 coordinates (for GeoDataFrames in metres)."""
        ox, oy = self.origin
        return shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + np.array([ox, oy]))
