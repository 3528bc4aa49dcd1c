"""Which UTM zone and which time zone a city is in, picked from its data and stored.

Indonesia spans UTM zones 46 to 54, north and south of the equator, and three time
zones; distances computed in the wrong zone are off by up to a few per cent, and a
"today" counted in Jakarta time is wrong for Balikpapan (WITA) or Ambon (WIT).  So
``city setup`` picks both from the extent of the city's roads, stores them in
``city_profile`` (one row), and says which it picked; an operator can override either.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.db.sqlfiles import statement

TIMEZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
DEFAULT_TIMEZONE = "Asia/Jakarta"
DEFAULT_UTM_EPSG = 32749


def utm_epsg_for(lon: float, lat: float) -> int:
    """The WGS 84 / UTM zone EPSG code holding a point: 326zz north of the equator, 327zz south."""
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise ValueError(f"{lat}, {lon} is outside the UTM zones")
    zone = min(int(math.floor((lon + 180) / 6)) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def timezone_for(lon: float, lat: float) -> str:
    """The Indonesian time zone of a point, by the provinces' longitudes.

    WIB (UTC+7): Sumatra, Java, West and Central Kalimantan; WITA (UTC+8): Bali, Nusa
    Tenggara, South, East and North Kalimantan, Sulawesi; WIT (UTC+9): Maluku, North Maluku,
    Papua.  The borders are provincial, not meridians, so this is a close rule (Bali strait
    at 114.42 E, the Kalimantan border near 114.5 E, Talaud and Sangihe in WITA, Sula and
    Buru in WIT); ``city setup --timezone`` overrides it.
    """
    if (lon >= 127.0 and lat <= 3.0) or lon >= 128.0:
        return "Asia/Jayapura"
    if 124.2 <= lon < 127.0 and -4.2 <= lat <= -1.5:  # Sula islands, Buru
        return "Asia/Jayapura"
    if lat > -6.5:  # Sumatra, Kalimantan, Sulawesi and north
        return "Asia/Jakarta" if lon < 114.5 else "Asia/Makassar"
    return "Asia/Jakarta" if lon < 114.42 else "Asia/Makassar"  # Java | Bali, Nusa Tenggara


def check_timezone(tz: str) -> str:
    if tz not in TIMEZONES:
        raise ValueError(f"time zone {tz!r} is not an Indonesian one; expected "
                         + ", ".join(f"{k} ({v})" for k, v in TIMEZONES.items()))
    return tz


def check_utm_epsg(epsg: int) -> int:
    if not (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        raise ValueError(f"EPSG:{epsg} is not a WGS 84 / UTM zone (326zz north, 327zz south)")
    return epsg


@dataclass(frozen=True)
class Profile:
    """What ``city_profile`` holds."""

    name: str
    utm_epsg: int
    timezone: str
    utm_epsg_auto: int | None = None
    extent: tuple[float, float, float, float] | None = None  # lon/lat min, max

    @property
    def zone_label(self) -> str:
        epsg = self.utm_epsg
        return f"UTM {epsg % 100}{'N' if epsg < 32700 else 'S'} (EPSG:{epsg})"

    @property
    def timezone_label(self) -> str:
        return f"{self.timezone} ({TIMEZONES.get(self.timezone, '?')})"


def pick(extent: tuple[float, float, float, float], name: str, utm_epsg: int | None = None,
         timezone: str | None = None) -> Profile:
    """The profile for a city with this lon/lat extent; given values override the picked ones."""
    lon = (extent[0] + extent[2]) / 2
    lat = (extent[1] + extent[3]) / 2
    auto = utm_epsg_for(lon, lat)
    return Profile(name=name, utm_epsg=check_utm_epsg(utm_epsg) if utm_epsg else auto,
                   timezone=check_timezone(timezone) if timezone else timezone_for(lon, lat),
                   utm_epsg_auto=auto, extent=extent)


def read(conn: Connection) -> Profile | None:
    """The stored profile, or None (a database never set up with ``city setup``: the demo city)."""
    row = conn.execute(statement("app.city", "sql/city.sql", "read_profile")).mappings().first()
    if row is None:
        return None
    ext = tuple(row["extent"]) if row["extent"] else None
    return Profile(row["name"], row["utm_epsg"], row["timezone"], row["utm_epsg_auto"], ext)  # type: ignore[arg-type]


def save(conn: Connection, profile: Profile, sources: dict[str, Any], readiness: dict[str, Any] | None) -> bool:
    """Store the profile; False when the stored row already says all this (``set_up_at`` stays)."""
    ext = profile.extent or (None, None, None, None)
    return conn.execute(statement("app.city", "sql/city.sql", "save_profile"), {
        "name": profile.name, "utm_epsg": profile.utm_epsg, "utm_epsg_auto": profile.utm_epsg_auto,
        "timezone": profile.timezone, "xmin": ext[0], "ymin": ext[1], "xmax": ext[2], "ymax": ext[3],
        "sources": json.dumps(sources, ensure_ascii=False),
        "readiness": json.dumps(readiness, ensure_ascii=False, default=str) if readiness is not None else None}
    ).rowcount > 0


def city_timezone(conn: Connection) -> str:
    """The city's IANA time zone: the stored one, else Asia/Jakarta (the demo city is on Java)."""
    p = read(conn)
    return p.timezone if p else DEFAULT_TIMEZONE


def city_zone(db: Connection | Session) -> ZoneInfo:
    """The city's clock for "today", a month or an hour of the day in analytics and reports.

    Read on every call (one row): a city set up while a server runs must not keep Jakarta's clock.
    """
    return ZoneInfo(city_timezone(db.connection() if isinstance(db, Session) else db))


def zone_abbreviation(zone: ZoneInfo) -> str:
    """WIB, WITA or WIT, as Indonesians write a time; the IANA name for any other zone."""
    return TIMEZONES.get(zone.key, zone.key)
