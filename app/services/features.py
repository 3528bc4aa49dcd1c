"""Features of the map layers as GeoJSON, in the style of OGC API - Features (Part 1).

QGIS, ArcGIS, GDAL/OGR and a province's dashboard can read an OGC API Features
endpoint with no plugin, so every map layer in ``layers/`` is also offered as a
*collection* whose *items* are GeoJSON features.  The layer files already hold
the SQL (a ``geom`` column in EPSG:4326 plus properties, filtered by a
``bounds`` relation), so a new layer appears here without code; the only
override is incidents, whose map layer shows just open and recent ones while a
feature client wants the whole history, filterable by time.

Incidents come from the read model ``incident_facts``, so the reader's row-level
security decides which are listed (an agency officer gets its own agency's) and
"open"/"overdue" are its rules.  Caller names and phone numbers never leave
through here: the incidents SQL does not select them and any column named like
them is dropped from properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import sqlfiles
from app.layers import Layer, registry

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TRS_GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
PRIVATE_COLUMNS = frozenset({"caller_name", "caller_phone", "caller", "phone", "idempotency_key"})
ZOOM_FOR_FEATURES = 22  # layer SQL that thins by zoom (:z) returns everything at this zoom
COORD_DECIMALS = 7  # about 1 cm: more digits only inflate the response

# Until layer files may carry their own ``features_sql``, the collections whose layer SQL does
# not fit a feature client: incidents (all of them, with timestamps, not "open or last 7 days"),
# kept with the other incident reads in app/incidents/sql/queries.sql.
FEATURES_SQL: dict[str, tuple[str, str, str]] = {
    "incidents": ("app.incidents", "sql/queries.sql", "feature_items"),
}
TIME_COLUMNS: dict[str, str] = {"incidents": "received_at"}
DESCRIPTIONS: dict[str, str] = {
    "incidents": "Kejadian/laporan Call Center 112: kategori, status, prioritas, alamat, kelurahan dan waktu "
                 "laporan. Tanpa nama dan nomor telepon pelapor.",
    "stations": "Pos dan markas instansi (Damkar, PSC 119, Polri, BPBD, ...).",
    "units": "Unit/armada di posisi terakhir yang dilaporkan, dengan status.",
    "kelurahan": "Batas kelurahan dengan jumlah penduduk.",
    "kecamatan": "Batas kecamatan dengan jumlah penduduk.",
    "roads": "Ruas jalan (jaringan rute) dengan kelas jalan, nama, kecepatan dan arah satu jalur.",
    "landmarks": "Tempat penting yang sering disebut penelepon (pasar, masjid, sekolah, rumah sakit).",
}


class FeatureQueryError(ValueError):
    """A bad bbox, datetime, limit or offset; the web layer answers 400 naming ``field``."""

    def __init__(self, detail: str, field: str):
        super().__init__(detail)
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    title_en: str
    description: str
    sql: str
    time_column: str | None = None


def collections() -> dict[str, Collection]:
    """One collection per layer file that has SQL, in the layers' draw order.

    Layers drawn from an analytics endpoint (``render = "geojson"``/``"heatmap"``, no SQL)
    are computed per request with their own parameters and are not feature collections;
    label layers (``render = "labels"``) are other layers' data merged for drawing names.
    """
    out = {}
    for layer in registry().values():
        if (layer.sql and layer.render != "labels") or layer.id in FEATURES_SQL:
            out[layer.id] = _collection(layer)
    return out


def _collection(layer: Layer) -> Collection:
    return Collection(
        id=layer.id, title=layer.title["id"], title_en=layer.title["en"],
        description=DESCRIPTIONS.get(layer.id, layer.title["id"]),
        sql=sqlfiles.raw(*FEATURES_SQL[layer.id]) if layer.id in FEATURES_SQL else layer.sql.strip(),
        time_column=TIME_COLUMNS.get(layer.id),
    )


# -- parameters ----------------------------------------------------------------------------
Box = tuple[float, float, float, float]


def parse_bbox(raw: str | None) -> Box | None:
    """``minlon,minlat,maxlon,maxlat`` in CRS84 (6 numbers with heights are accepted, heights ignored).

    minlon > maxlon is a box across the antimeridian, as OGC API Features allows.
    """
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise FeatureQueryError("bbox must be minlon,minlat,maxlon,maxlat", "bbox")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise FeatureQueryError("bbox must be four comma-separated numbers", "bbox") from None
    x0, y0, x1, y1 = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if not all(-180 <= x <= 180 for x in (x0, x1)) or not all(-90 <= y <= 90 for y in (y0, y1)):
        raise FeatureQueryError("bbox longitudes must be within -180..180 and latitudes within -90..90", "bbox")
    if y0 > y1:
        raise FeatureQueryError("bbox minlat must not be greater than maxlat", "bbox")
    return x0, y0, x1, y1


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _instant(raw: str, end: bool) -> datetime:
    """An RFC 3339 date-time (with offset) or full-date; a date is its whole day."""
    try:
        if _DATE_RE.match(raw):
            d = date.fromisoformat(raw)
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        if "T" not in raw.upper():
            raise ValueError
        dt = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise FeatureQueryError(
            f"datetime '{raw[:40]}' is not an RFC 3339 date-time (e.g. 2026-11-25T08:00:00Z) or date", "datetime"
        ) from None
    if dt.tzinfo is None:
        raise FeatureQueryError("a datetime needs a time zone (Z or +07:00)", "datetime")
    return dt


@dataclass(frozen=True)
class TimeFilter:
    """``start <= t < end`` (either side open); ``exact`` for a single date-time instant."""

    start: datetime | None = None
    end: datetime | None = None
    exact: bool = False


def parse_datetime(raw: str | None) -> TimeFilter | None:
    """RFC 3339 instant, or interval ``a/b``, ``../b``, ``a/..`` (empty ends are open too)."""
    if raw is None or raw == "":
        return None
    raw = raw.strip()
    if "/" not in raw:
        if _DATE_RE.match(raw):
            return TimeFilter(_instant(raw, False), _instant(raw, True))
        t = _instant(raw, False)
        return TimeFilter(t, t, exact=True)
    parts = raw.split("/")
    if len(parts) != 2:
        raise FeatureQueryError("datetime interval must be start/end", "datetime")
    a, b = (p.strip() for p in parts)
    start = None if a in ("", "..") else _instant(a, False)
    end = None if b in ("", "..") else _instant(b, True)
    if start is None and end is None:
        return None if a == ".." or b == ".." else _fail_empty()
    if start is not None and end is not None and start > end:
        raise FeatureQueryError("datetime interval starts after it ends", "datetime")
    if end is not None and not _DATE_RE.match(b):
        # An explicit end date-time is inclusive: make the half-open bound include it.
        end = end + timedelta(microseconds=1)
    return TimeFilter(start, end)


def _fail_empty() -> TimeFilter:
    raise FeatureQueryError("datetime interval needs at least one end", "datetime")


def parse_int(raw: str | None, field: str, default: int, lo: int, hi: int, clamp: bool = False) -> int:
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
        raise FeatureQueryError(f"{field} must be an integer", field)
    v = int(raw)
    if v < lo:
        raise FeatureQueryError(f"{field} must be at least {lo}", field)
    if v > hi:
        if clamp:  # OGC API Features: a limit above the maximum is not an error, the maximum is used
            return hi
        raise FeatureQueryError(f"{field} must be at most {hi}", field)
    return v


# -- SQL -----------------------------------------------------------------------------------
_WORLD = "ST_MakeEnvelope(-180, -90, 180, 90, 4326)"


def _box_sql(bbox: Box | None) -> str:
    if bbox is None:
        return _WORLD
    x0, y0, x1, y1 = bbox
    if x0 <= x1:
        return "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
    return "ST_Collect(ST_MakeEnvelope(:x0, :y0, 180, :y1, 4326), ST_MakeEnvelope(-180, :y0, :x1, :y1, 4326))"


def _statement(c: Collection, bbox: Box | None, tf: TimeFilter | None) -> tuple[str, dict[str, Any]]:
    """The layer SQL with its ``bounds`` relation, and the bbox/time conditions on its output."""
    params: dict[str, Any] = {"z": ZOOM_FOR_FEATURES}
    where = ["src.geom IS NOT NULL"]
    if bbox is not None:
        params.update(x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3])
        where.append("ST_Intersects(src.geom, (SELECT box FROM bounds))")
    if tf is not None and c.time_column:
        col = f"src.{c.time_column}"
        if tf.exact:
            where.append(f"{col} = :t_start")
            params["t_start"] = tf.start
        else:
            if tf.start is not None:
                where.append(f"{col} >= :t_start")
                params["t_start"] = tf.start
            if tf.end is not None:
                where.append(f"{col} < :t_end")
                params["t_end"] = tf.end
    sql = (f"WITH bounds AS (SELECT {_box_sql(bbox)} AS box), src AS (\n{c.sql}\n) "
           f"SELECT {{select}} FROM src WHERE {' AND '.join(where)}")
    return sql, params


def _order(c: Collection, columns: list[str], alias: str) -> str:
    keys = []
    if c.time_column:
        keys.append(f"{alias}.{c.time_column} DESC")
    keys.append(f"{alias}.id" if "id" in columns else f"ST_GeoHash(ST_Centroid({alias}.geom))")
    return ", ".join(keys)


_COLUMNS: dict[str, list[str]] = {}


def _columns(session: Session, c: Collection) -> list[str]:
    """The collection's output columns (asked once per SQL text: layer files change only with a deploy)."""
    if c.sql not in _COLUMNS:
        sql, params = _statement(c, None, None)
        _COLUMNS[c.sql] = list(session.execute(text(sql.format(select="src.*") + " LIMIT 0"), params).keys())
    return _COLUMNS[c.sql]


def _plain(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def items(session: Session, c: Collection, bbox: Box | None = None, tf: TimeFilter | None = None,
          limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """One page of features, newest first for timed collections, with the total that matched.

    The page is cut (ORDER BY ... LIMIT) before any GeoJSON is encoded, so a deep page of a
    big layer costs the sort, not thousands of encodings.
    """
    sql, params = _statement(c, bbox, tf)
    matched = session.execute(text(sql.format(select="count(*)")), params).scalar_one()
    columns = _columns(session, c)
    inner = sql.format(select="src.*") + f" ORDER BY {_order(c, columns, 'src')} LIMIT :limit OFFSET :offset"
    page = text(f"SELECT ST_AsGeoJSON(p.geom, {COORD_DECIMALS})::json AS __geometry, p.* FROM ({inner}) p "
                f"ORDER BY {_order(c, columns, 'p')}")
    rows = session.execute(page, {**params, "limit": limit, "offset": offset}).mappings().all()
    features = []
    for row in rows:
        props = {k: _plain(v) for k, v in row.items()
                 if k not in PRIVATE_COLUMNS and k not in ("geom", "__geometry")}
        fid = props.pop("id", None)
        feature: dict[str, Any] = {"type": "Feature"}
        if fid is not None:
            feature["id"] = fid
        feature.update(geometry=row["__geometry"], properties=props)
        features.append(feature)
    return {"numberMatched": matched, "numberReturned": len(features), "features": features}


def extent(session: Session, c: Collection) -> dict[str, Any] | None:
    """Spatial (and, for timed collections, temporal) extent of what the collection holds now."""
    sql, params = _statement(c, None, None)
    timed = f"min(src.{c.time_column}) AS t0, max(src.{c.time_column}) AS t1" if c.time_column else \
        "NULL::timestamptz AS t0, NULL::timestamptz AS t1"
    inner = sql.format(select=f"ST_Extent(src.geom) AS e, {timed}")
    row = session.execute(text(
        f"SELECT ST_XMin(x.e), ST_YMin(x.e), ST_XMax(x.e), ST_YMax(x.e), x.t0, x.t1 FROM ({inner}) x"),
        params).one()
    if row[0] is None:
        return None
    out: dict[str, Any] = {"spatial": {"bbox": [[round(float(v), 7) for v in row[:4]]], "crs": CRS84}}
    if c.time_column:
        out["temporal"] = {"interval": [[_iso(row[4]), _iso(row[5])]], "trs": TRS_GREGORIAN}
    return out


def _iso(v: datetime | None) -> str | None:
    return v.astimezone(UTC).isoformat().replace("+00:00", "Z") if v is not None else None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
