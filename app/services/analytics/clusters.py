"""BPBD clusters: DBSCAN (ST_ClusterDBSCAN) of incidents in the metric CRS, as polygons, CSV and CAP 1.2.

DBSCAN because flood and fallen-tree calls come in irregular bands along a
river or an avenue, not in round blobs, and because it says "noise" for the
lone call instead of forcing it into a cluster.  Clustering runs in UTM so
``eps_m`` is metres, not degrees.  Cluster numbers are stable for the same
parameters and data (largest first, ties by the oldest incident), so a CAP
alert can be fetched for "cluster 1" of a query.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import locale_id
from app.services.analytics.common import (
    COUNTED,
    NOT_COUNTED,
    Window,
    check_categories,
    check_choice,
    check_range,
    iso,
)
from app.services.errors import NotFound
from app.services.xmltext import xml_text

HULLS = ("convex", "concave")
WITHIN = ("kelurahan", "city")  # DBSCAN per kelurahan, or across the whole city
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"

# One CTE chain for every output: the points, their DBSCAN label, stable cluster numbers.
_BASE = f"""
WITH pts AS (
    SELECT f.id, f.category AS category_code, f.received_at, f.kelurahan_id,
           ST_Transform(f.geom, CAST(:epsg AS integer)) AS g
    FROM incident_facts f
    WHERE f.geom IS NOT NULL AND {COUNTED}
),
lab AS (
    SELECT d.*, CASE WHEN d.cid0 IS NOT NULL THEN d.part * 10000000 + d.cid0 END AS cid
    FROM (SELECT p.*, ST_ClusterDBSCAN(p.g, eps => :eps, minpoints => :min_points)
                        OVER (PARTITION BY p.part ORDER BY p.id) AS cid0
          FROM (SELECT q.*, CASE WHEN :within = 'kelurahan' THEN COALESCE(q.kelurahan_id, 0)::bigint ELSE 0 END
                            AS part FROM pts q) p) d
),
cl AS (
    SELECT cid, count(*) AS n, min(id) AS min_id FROM lab WHERE cid IS NOT NULL GROUP BY cid
),
num AS (
    SELECT cid, n, row_number() OVER (ORDER BY n DESC, min_id) AS cluster FROM cl
)
"""

CLUSTERS_SQL = text(_BASE + """
, members AS (SELECT num.cluster, lab.* FROM lab JOIN num USING (cid))
, shape AS (
    SELECT cluster, count(*) AS n, min(received_at) AS first_at, max(received_at) AS last_at,
           array_agg(id ORDER BY id) AS ids,
           ST_Buffer(CASE WHEN :hull = 'concave' THEN ST_ConcaveHull(ST_Collect(g), 0.5)
                          ELSE ST_ConvexHull(ST_Collect(g)) END, :buffer_m, 'quad_segs=4') AS poly
    FROM members GROUP BY cluster
)
SELECT s.cluster, s.n, s.first_at, s.last_at, s.ids,
       ST_AsGeoJSON(ST_Transform(s.poly, 4326), 6) AS geojson,
       ST_AsText(ST_Transform(s.poly, 4326)) AS wkt,
       round(ST_Area(s.poly)::numeric, 1) AS area_m2,
       ST_X(ST_Transform(ST_Centroid(s.poly), 4326)) AS lon, ST_Y(ST_Transform(ST_Centroid(s.poly), 4326)) AS lat,
       (SELECT json_object_agg(c.category_code, c.k ORDER BY c.k DESC)
          FROM (SELECT category_code, count(*) AS k FROM members m WHERE m.cluster = s.cluster
                GROUP BY 1) c) AS categories,
       (SELECT json_agg(json_build_object('code', a.code, 'name', a.name, 'count', k.k) ORDER BY k.k DESC, a.code)
          FROM (SELECT kelurahan_id, count(*) AS k FROM members m WHERE m.cluster = s.cluster
                GROUP BY 1) k JOIN admin_areas a ON a.id = k.kelurahan_id) AS kelurahan
FROM shape s
ORDER BY s.cluster
""")

SUMMARY_SQL = text(_BASE + """
SELECT (SELECT count(*) FROM lab) AS incidents, (SELECT count(*) FROM lab WHERE cid IS NOT NULL) AS clustered,
       (SELECT count(*) FROM num) AS clusters
""")

INCIDENT_ROWS_SQL = text(_BASE + """
SELECT lab.id AS incident_id, num.cluster, lab.category_code AS category, lab.received_at,
       ST_Y(ST_Transform(lab.g, 4326)) AS lat, ST_X(ST_Transform(lab.g, 4326)) AS lon,
       a.code AS kelurahan_code, a.name AS kelurahan_name
FROM lab LEFT JOIN num USING (cid) LEFT JOIN admin_areas a ON a.id = lab.kelurahan_id
WHERE (:include_noise OR num.cluster IS NOT NULL)
ORDER BY num.cluster NULLS LAST, lab.id
""")

CATEGORY_NAMES_SQL = text("SELECT code, name_id, priority FROM incident_categories")


# Defaults sized to act on: a cluster no wider than a kelurahan. DBSCAN chains dense calls, so a
# large eps joins a whole flood plain (on the demo city, 250 m over 30 days made one cluster of
# 4.0 km2 across 12 kelurahan whose median area is 0.48 km2; 100 m gives at most 0.09 km2 and
# 2 kelurahan). By default DBSCAN also runs within each kelurahan (``within="kelurahan"``), the
# unit BPBD sets flood states and sends alerts for, so no default cluster straddles two.
# BPBD widens them from the map (``within="city"``, a larger eps) for the bigger picture.
DEFAULT_EPS_M = 100.0
DEFAULT_MIN_POINTS = 5
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ClusterQuery:
    window: Window
    categories: list[str] | None = None
    eps_m: float = DEFAULT_EPS_M
    min_points: int = DEFAULT_MIN_POINTS
    hull: str = "convex"
    within: str = "kelurahan"

    @property
    def buffer_m(self) -> float:
        """A little margin around the hull, so a two-point cluster still has an area."""
        return round(min(self.eps_m * 0.2, 100.0), 1)


def _params(session: Session, q: ClusterQuery, epsg: int) -> dict[str, Any]:
    check_range(q.eps_m, 10, 5000, "eps_m")
    check_range(q.min_points, 2, 10_000, "min_points")
    check_choice(q.hull, HULLS, "hull")
    check_choice(q.within, WITHIN, "within")
    cats = check_categories(session, q.categories)
    return {"since": q.window.since, "until": q.window.until, "categories": cats, "epsg": epsg,
            "eps": q.eps_m, "min_points": q.min_points, "hull": q.hull, "buffer_m": q.buffer_m,
            "within": q.within}


def describe(q: ClusterQuery, params: dict[str, Any]) -> dict[str, Any]:
    return {"category": params["categories"], "eps_m": q.eps_m, "min_points": q.min_points, "hull": q.hull,
            "within": q.within,
            "buffer_m": q.buffer_m, "crs": f"EPSG:{params['epsg']}", "excludes": list(NOT_COUNTED)}


def cluster_rows(session: Session, q: ClusterQuery, epsg: int = 32749) -> tuple[list[dict[str, Any]], dict]:
    """One dict per cluster (numbered from 1, largest first) and the query's described parameters."""
    params = _params(session, q, epsg)
    rows = [dict(r) for r in session.execute(CLUSTERS_SQL, params).mappings()]
    return rows, params


def clusters(session: Session, q: ClusterQuery, epsg: int = 32749) -> dict[str, Any]:
    """Clusters as a GeoJSON FeatureCollection with parameters, window and a summary."""
    rows, params = cluster_rows(session, q, epsg)
    summary = dict(session.execute(SUMMARY_SQL, params).mappings().one())
    summary["noise"] = summary["incidents"] - summary["clustered"]
    features = [{
        "type": "Feature", "id": r["cluster"], "geometry": json.loads(r["geojson"]),
        "properties": {"cluster": r["cluster"], "count": r["n"], "first_at": iso(r["first_at"]),
                       "last_at": iso(r["last_at"]), "categories": r["categories"] or {},
                       "kelurahan": r["kelurahan"] or [], "area_m2": float(r["area_m2"]),
                       "centroid": [round(r["lon"], 6), round(r["lat"], 6)]},
    } for r in rows]
    return {"type": "FeatureCollection", "features": features, "parameters": describe(q, params),
            "window": q.window.to_dict(), "summary": summary}


CLUSTER_CSV_HEADER = ["cluster", "count", "first_at", "last_at", "categories", "kelurahan_codes",
                      "kelurahan_names", "centroid_lat", "centroid_lon", "area_m2", "wkt"]
INCIDENT_CSV_HEADER = ["incident_id", "cluster", "category", "received_at", "lat", "lon", "kelurahan_code",
                       "kelurahan_name"]


def clusters_csv(session: Session, q: ClusterQuery, epsg: int = 32749, per: str = "cluster",
                 include_noise: bool = False) -> str:
    """CSV export: one row per cluster, or one per incident with its cluster number (blank = noise)."""
    check_choice(per, ("cluster", "incident"), "per")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if per == "cluster":
        rows, _ = cluster_rows(session, q, epsg)
        w.writerow(CLUSTER_CSV_HEADER)
        for r in rows:
            kel = r["kelurahan"] or []
            w.writerow([r["cluster"], r["n"], iso(r["first_at"]), iso(r["last_at"]),
                        ";".join(f"{k}:{v}" for k, v in (r["categories"] or {}).items()),
                        ";".join(k["code"] for k in kel), ";".join(k["name"] for k in kel),
                        round(r["lat"], 6), round(r["lon"], 6), r["area_m2"], r["wkt"]])
    else:
        params = _params(session, q, epsg)
        w.writerow(INCIDENT_CSV_HEADER)
        for r in session.execute(INCIDENT_ROWS_SQL, {**params, "include_noise": include_noise}).mappings():
            w.writerow([r["incident_id"], r["cluster"] if r["cluster"] is not None else "", r["category"],
                        iso(r["received_at"]), round(r["lat"], 6), round(r["lon"], 6), r["kelurahan_code"] or "",
                        r["kelurahan_name"] or ""])
    return out.getvalue()


# -- CAP 1.2 ---------------------------------------------------------------------------------
# CAP <category> per incident category: weather-driven hazards are Met, landslides Geo, fire Fire.
CAP_CATEGORY = {"banjir": "Met", "rob": "Met", "pohon_tumbang": "Met", "tanah_longsor": "Geo",
                "kebakaran": "Fire"}
DEFAULT_SENDER = "bpbd@peta112.example"
DEFAULT_SENDER_NAME = "BPBD (Badan Penanggulangan Bencana Daerah)"


def _severity(n: int) -> str:
    return "Severe" if n >= 50 else "Moderate" if n >= 15 else "Minor"


def cap_time(dt: datetime, tz: tzinfo) -> str:
    """CAP wants an explicit offset and no fraction: 2026-01-05T16:20:00+07:00 (the city's offset)."""
    return dt.astimezone(tz).replace(microsecond=0).isoformat()



@dataclass(frozen=True)
class CapArea:
    desc: str
    polygon: str | None = None
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CapMessage:
    """The parts of a CAP 1.2 alert with one <info>; :func:`cap_xml` writes them in schema order.

    Shared by every CAP producer (cluster alerts here, flood states in app/services/floods.py),
    so element order and time format are decided once.
    """

    identifier: str
    sender: str
    sent: datetime
    event: str
    urgency: str
    severity: str
    certainty: str
    categories: list[str]
    headline: str
    description: str
    areas: list[CapArea]
    msg_type: str = "Alert"
    status: str = "Actual"
    scope: str = "Public"
    references: str | None = None
    language: str = "id-ID"
    response_type: str | None = None
    sender_name: str | None = None
    instruction: str | None = None
    contact: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)


def cap_xml(m: CapMessage) -> str:
    """Serialise a CapMessage as CAP 1.2 XML text (elements in the order the OASIS schema demands)."""

    def sub(parent: ET.Element, tag: str, value: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        if value is not None:
            el.text = xml_text(value)
        return el

    alert = ET.Element(f"{{{CAP_NS}}}alert")
    sub(alert, "identifier", m.identifier)
    sub(alert, "sender", m.sender)
    sub(alert, "sent", cap_time(m.sent, m.sent.tzinfo or UTC))  # producers give sent on the city's clock
    sub(alert, "status", m.status)
    sub(alert, "msgType", m.msg_type)
    sub(alert, "scope", m.scope)
    if m.references:
        sub(alert, "references", m.references)
    info = sub(alert, "info")
    sub(info, "language", m.language)
    for c in m.categories or ["Safety"]:
        sub(info, "category", c)
    sub(info, "event", m.event)
    if m.response_type:
        sub(info, "responseType", m.response_type)
    sub(info, "urgency", m.urgency)
    sub(info, "severity", m.severity)
    sub(info, "certainty", m.certainty)
    if m.sender_name:
        sub(info, "senderName", m.sender_name)
    sub(info, "headline", m.headline)
    sub(info, "description", m.description)
    if m.instruction:
        sub(info, "instruction", m.instruction)
    if m.contact:
        sub(info, "contact", m.contact)
    for name, value in m.parameters:
        param = sub(info, "parameter")
        sub(param, "valueName", name)
        sub(param, "value", value)
    for a in m.areas:
        area = sub(info, "area")
        sub(area, "areaDesc", a.desc)
        if a.polygon:
            sub(area, "polygon", a.polygon)
        for name, value in a.geocodes:
            gc = sub(area, "geocode")
            sub(gc, "valueName", name)
            sub(gc, "value", value)
    ET.indent(alert)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(alert, encoding="unicode", default_namespace=CAP_NS) + "\n")


def cap_polygon(geojson: dict[str, Any]) -> str:
    """CAP polygon text: "lat,lon lat,lon ..." of the outer ring, first point repeated last."""
    coords = geojson["coordinates"][0] if geojson["type"] == "Polygon" else geojson["coordinates"][0][0]
    ring = [(round(lat, 6), round(lon, 6)) for lon, lat in coords]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return " ".join(f"{lat},{lon}" for lat, lon in ring)


def cap_alert(session: Session, q: ClusterQuery, number: int, epsg: int = 32749, now: datetime | None = None,
              sender: str = DEFAULT_SENDER, sender_name: str = DEFAULT_SENDER_NAME) -> str:
    """A CAP 1.2 alert (Bahasa Indonesia) for cluster ``number`` of the query, as XML text."""
    return cap_xml(cap_message(session, q, number, epsg, now, sender, sender_name))


def cap_message(session: Session, q: ClusterQuery, number: int, epsg: int = 32749, now: datetime | None = None,
                sender: str = DEFAULT_SENDER, sender_name: str = DEFAULT_SENDER_NAME) -> CapMessage:
    """The alert of cluster ``number`` before serialising: the XML and the readable page show the same one."""
    rows, params = cluster_rows(session, q, epsg)
    row = next((r for r in rows if r["cluster"] == number), None)
    if row is None:
        raise NotFound(f"no cluster {number} for these parameters ({len(rows)} clusters)", "cluster")
    names = {c: (nm, pr) for c, nm, pr in session.execute(CATEGORY_NAMES_SQL).all()}
    cats = list((row["categories"] or {}).keys())
    kel = row["kelurahan"] or []
    tz = q.window.zone(session)
    sent = (now or datetime.now(UTC)).astimezone(tz)
    digest = hashlib.sha1(json.dumps([row["ids"], q.eps_m, q.min_points, q.hull, q.within]).encode()).hexdigest()[:16]
    event = " / ".join(names.get(c, (c, 5))[0] for c in cats)
    kel_names = ", ".join(k["name"] for k in kel)
    n = int(row["n"])
    recent = (q.window.until - row["last_at"]).total_seconds() <= 6 * 3600

    return CapMessage(
        identifier=f"peta112-bpbd-cluster-{digest}", sender=sender, sent=sent,
        categories=sorted({CAP_CATEGORY.get(c, "Safety") for c in cats}) or ["Safety"],
        event=event or "Kejadian", response_type="Monitor", urgency="Immediate" if recent else "Expected",
        severity=_severity(n), certainty="Observed", sender_name=sender_name,
        headline=f"{event}: {locale_id.number(n)} laporan di {kel_names or 'wilayah kota'}"[:160],
        # Read by people (the alert page, a CAP viewer): Indonesian numbers and the city's clock.
        description=(f"Call Center 112 menerima {locale_id.number(n)} laporan {event.lower()} yang berdekatan "
                     f"(radius {locale_id.number(q.eps_m)} m) antara {locale_id.local_time(row['first_at'], tz)} dan "
                     f"{locale_id.local_time(row['last_at'], tz)}. "
                     f"Kelurahan terdampak: {kel_names or '-'}. Warga diimbau waspada dan mengikuti arahan petugas."),
        instruction="Hindari area terdampak, amankan dokumen dan barang berharga, "
                    "hubungi 112 bila membutuhkan pertolongan.",
        contact="Call Center 112", parameters=[("jumlah_laporan", str(n))],
        areas=[CapArea(desc=kel_names or "Wilayah kota", polygon=cap_polygon(json.loads(row["geojson"])),
                       geocodes=[("KODE_KELURAHAN", k["code"]) for k in kel])],
    )
