"""Shared plumbing of the importers: errors, progress, reading tables, geometry checks.

Everything here is plain Python usable from a notebook; only ``app.cli.imports``
knows about click.  An importer raises :class:`ImportProblem` for anything the
user can fix (wrong format, missing column, bad row); the CLI prints its message
as one line and exits non-zero.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geodata.importers.problem import ImportProblem

T = TypeVar("T")

#: ``progress(iterable, length, label)`` wraps a loop; the CLI passes a click progress bar.
Progress = Callable[[Iterable[T], "int | None", str], Iterable[T]]

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".kml", ".gml", ".sqlite")


def no_progress(iterable: Iterable[T], length: int | None = None, label: str = "") -> Iterable[T]:
    return iterable


def check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise ImportProblem(f"{p}: no such file")
    if p.is_dir() and p.suffix.lower() != ".gdb":
        raise ImportProblem(f"{p}: is a directory, expected a file")
    if p.is_file() and p.stat().st_size == 0:
        raise ImportProblem(f"{p}: file is empty")
    return p


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def read_vector(path: str | Path, what: str = "vector data"):
    """Read any format pyogrio/GDAL reads into a GeoDataFrame in EPSG:4326.

    A file without a CRS is accepted only when its coordinates look like
    longitude/latitude (GeoJSON is WGS 84 by definition).
    """
    import geopandas as gpd
    import pyogrio

    p = check_file(path)
    try:
        gdf = gpd.read_file(p, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportProblem(f"{p}: not a readable {what} file ({_one_line(exc)})") from None
    except (ValueError, RuntimeError) as exc:
        raise ImportProblem(f"{p}: cannot read {what} ({_one_line(exc)})") from None
    if len(gdf) == 0:
        raise ImportProblem(f"{p}: contains no features")
    return to_wgs84(gdf, p)


def to_wgs84(gdf, p: Path):
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ImportProblem(f"{p}: has no coordinate reference system and the coordinates "
                                "are not longitude/latitude; add a .prj or re-export with a CRS")
        return gdf.set_crs(4326)
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


LAT_NAMES = ("lat", "latitude", "lintang", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "bujur", "x")


def read_points_table(path: str | Path, what: str, allow_missing_coords: bool = False):
    """CSV with lat/lon columns, or any vector file with point geometries -> GeoDataFrame (4326).

    Column names are lower-cased and stripped.  Rows keep their file order; the
    ``row`` numbers in messages are 1-based data rows (the CSV header is not counted).
    """
    import geopandas as gpd

    p = check_file(path)
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, sep=None, engine="python",
                             encoding="utf-8-sig")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv_error()) as exc:
            raise ImportProblem(f"{p}: not a readable CSV file ({_one_line(exc)})") from None
        df.columns = [str(c).strip().lower() for c in df.columns]
        if len(df) == 0:
            raise ImportProblem(f"{p}: has a header but no data rows")
        lat = next((c for c in LAT_NAMES if c in df.columns), None)
        lon = next((c for c in LON_NAMES if c in df.columns), None)
        missing = [n for n, c in (("lat", lat), ("lon", lon)) if c is None]
        if missing:
            raise ImportProblem(f"{p}: missing column(s) {', '.join(missing)} "
                                f"(found: {', '.join(df.columns)})")
        geoms = []
        for i, (la, lo) in enumerate(zip(df[lat], df[lon], strict=True), start=1):
            la, lo = la.strip().replace(",", "."), lo.strip().replace(",", ".")
            if not la and not lo and allow_missing_coords:
                geoms.append(None)
                continue
            try:
                y, x = float(la), float(lo)
            except ValueError:
                raise ImportProblem(f"{p}: row {i}: lat/lon {la!r}/{lo!r} are not numbers") from None
            if not (-90 <= y <= 90 and -180 <= x <= 180) or math.isnan(x) or math.isnan(y):
                raise ImportProblem(f"{p}: row {i}: lat {y} / lon {x} out of range")
            geoms.append(shapely.Point(x, y))
        gdf = gpd.GeoDataFrame(df.drop(columns=[lat, lon]), geometry=geoms, crs=4326)
    else:
        gdf = read_vector(p, what)
        gdf.columns = [c if c == gdf.geometry.name else str(c).strip().lower() for c in gdf.columns]
    points = []
    for i, g in enumerate(gdf.geometry, start=1):
        if g is None or g.is_empty:
            if allow_missing_coords:
                points.append(None)
                continue
            raise ImportProblem(f"{p}: row {i}: no geometry")
        if g.geom_type == "MultiPoint" and len(g.geoms) == 1:
            g = g.geoms[0]
        if g.geom_type != "Point":
            raise ImportProblem(f"{p}: row {i}: expected a point, found a {g.geom_type}")
        points.append(g)
    return gdf.set_geometry(gpd.GeoSeries(points, index=gdf.index, crs=4326))


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def require_columns(p: Path | str, columns: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        shown = [c for c in columns if c != "geometry"]
        raise ImportProblem(f"{p}: missing column(s) {', '.join(missing)} (found: {', '.join(shown)})")


def blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if value is pd.NA or value is pd.NaT:
            return True
    except TypeError:
        pass
    return isinstance(value, str) and not value.strip()


def clean_str(value: Any) -> str | None:
    return None if blank(value) else str(value).strip()


def json_safe(value: Any) -> Any:
    """Make a pandas/numpy cell JSON-serialisable (for the ``props`` jsonb columns)."""
    if blank(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


def props_json(row: dict[str, Any], skip: Iterable[str]) -> str:
    skipped = set(skip)
    return json.dumps({k: v for k, v in ((k, json_safe(v)) for k, v in row.items() if k not in skipped)
                       if v is not None}, ensure_ascii=False)


def repair_polygonal(geom: Any, where: str) -> shapely.MultiPolygon:
    """A valid MultiPolygon from ``geom``: make_valid repairs self-intersections; what is
    left after dropping lines and points must still have an area, else the row is rejected."""
    if geom is None or geom.is_empty:
        raise ImportProblem(f"{where}: no geometry")
    if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise ImportProblem(f"{where}: expected a polygon, found a {geom.geom_type}")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys: list[shapely.Polygon] = []
    for g in parts:
        polys.extend(getattr(g, "geoms", [g]))
    polys = [g for g in polys if not g.is_empty and g.area > 0]
    if not polys:
        raise ImportProblem(f"{where}: invalid polygon that cannot be repaired (no area left)")
    out = shapely.MultiPolygon(polys)
    if not out.is_valid:  # touching parts after make_valid: dissolve them
        out = shapely.make_valid(shapely.union_all(polys))
        if out.geom_type == "Polygon":
            out = shapely.MultiPolygon([out])
        elif out.geom_type != "MultiPolygon":
            raise ImportProblem(f"{where}: invalid polygon that cannot be repaired")
    return out


def reserve_ids(conn: Connection, table: str, n: int) -> list[int]:
    """Take ``n`` ids from ``table``'s serial sequence, so COPY can carry explicit ids that
    never collide with rows the live app inserts meanwhile."""
    if n == 0:
        return []
    rows = conn.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table, "n": n},
    ).scalars().all()
    return [int(r) for r in rows]


def slug(name: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-")
    return s or "x"


def chunks(seq: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
