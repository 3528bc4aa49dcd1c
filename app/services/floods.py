"""BPBD flood state per kelurahan (PetaBencana-style depth levels), its history, and CAP 1.2 / Atom output.

Why a state per kelurahan and not per report: BPBD DKI publishes "which RW /
kelurahan is flooded how deep" so the public, 112 operators and other OPD see
one authoritative picture, and warning systems (InaRISK, Google Public Alerts,
broadcasters) subscribe to it as CAP alerts in an Atom feed.

Levels (smallint 1..4, the four PetaBencana/BPBD DKI states): 1 hati-hati (use
caution, depth unknown), 2 = 10-70 cm, 3 = 71-150 cm, 4 = over 150 cm.  "Clear"
is no current row.  Each change inserts a row and closes the previous one
(``cleared_at``/``cleared_by``), so the table is the audit history; the partial
unique index of migration 0005 guarantees one current row per kelurahan, and
writers lock the kelurahan row first so two operators setting the same
kelurahan at once are serialised instead of one failing on the index.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.city.profile import city_zone
from app.services import locale_id
from app.services.analytics.clusters import (
    CAP_NS,
    DEFAULT_SENDER,
    DEFAULT_SENDER_NAME,
    CapArea,
    CapMessage,
    cap_polygon,
    cap_time,
    cap_xml,
)
from app.services.analytics.common import iso
from app.services.errors import InvalidInput, NotFound
from app.services.xmltext import xml_text

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
CAP_TYPE = "application/cap+xml"
DEFAULT_INCIDENT_HOURS = 24
MAX_INCIDENT_HOURS = 24 * 30
# CAP polygons should stay modest (receivers cap them at a few hundred points): simplify in metres
# until the ring has at most this many vertices.
CAP_MAX_POINTS = 100
CAP_SIMPLIFY_M = (0.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
FLOOD_CATEGORIES = ("banjir", "rob")
ET.register_namespace("cap", CAP_NS)  # embedded alerts read as <cap:alert> inside the Atom feed


@dataclass(frozen=True)
class Level:
    level: int
    label_id: str
    label_en: str
    colour: str
    severity: str  # CAP <severity>
    depth: str


# Colours follow PetaBencana's legend (caution blue, then yellow, orange, red).
LEVELS: dict[int, Level] = {
    1: Level(1, "Hati-hati", "Use caution", "#a0a9f7", "Minor", "tidak diketahui"),
    2: Level(2, "Banjir 10-70 cm", "Flood 10-70 cm", "#ffff00", "Moderate", "10-70 cm"),
    3: Level(3, "Banjir 71-150 cm", "Flood 71-150 cm", "#ff8300", "Severe", "71-150 cm"),
    4: Level(4, "Banjir > 150 cm", "Flood over 150 cm", "#cc2a41", "Extreme", "lebih dari 150 cm"),
}

KELURAHAN_BY_CODE_SQL = text("""
SELECT id, code, name FROM admin_areas WHERE level = 'kelurahan' AND code = :ref
""")
KELURAHAN_BY_ID_SQL = text("""
SELECT id, code, name FROM admin_areas WHERE level = 'kelurahan' AND id = :id
""")
# Serialise writers per kelurahan; NO KEY UPDATE does not block incidents referencing the row.
LOCK_KELURAHAN_SQL = text("SELECT id FROM admin_areas WHERE id = :id FOR NO KEY UPDATE")
CLOSE_CURRENT_SQL = text("""
UPDATE flood_states SET cleared_at = :at, cleared_by = :actor
WHERE kelurahan_id = :kid AND cleared_at IS NULL
RETURNING id, kelurahan_id, level, note, set_by, set_at, cleared_at, cleared_by
""")
INSERT_SQL = text("""
INSERT INTO flood_states (kelurahan_id, level, note, set_by, set_at)
VALUES (:kid, :level, :note, :actor, :at)
RETURNING id, kelurahan_id, level, note, set_by, set_at, cleared_at, cleared_by
""")
HISTORY_SQL = text("""
SELECT id, kelurahan_id, level, note, set_by, set_at, cleared_at, cleared_by
FROM flood_states WHERE kelurahan_id = :kid ORDER BY set_at DESC, id DESC LIMIT :limit
""")
# Current states with the kelurahan polygon and the flood calls inside it in the last :hours.
# ``previous_id``: the state this one replaced (closed at the same instant), for CAP msgType Update.
CURRENT_SQL = text("""
SELECT f.id, f.kelurahan_id, f.level, f.note, f.set_by, f.set_at,
       a.code, a.name, a.population, k.name AS kecamatan,
       ST_AsGeoJSON(a.geom, 6) AS geojson,
       (SELECT count(*) FROM incidents i
         WHERE i.kelurahan_id = a.id AND i.received_at >= :now - make_interval(hours => :hours)
           AND i.received_at < :now) AS incidents,
       (SELECT count(*) FROM incidents i
         WHERE i.kelurahan_id = a.id AND i.received_at >= :now - make_interval(hours => :hours)
           AND i.received_at < :now AND i.category_code = ANY(CAST(:flood_cats AS text[]))) AS flood_incidents,
       (SELECT p.id FROM flood_states p
         WHERE p.kelurahan_id = f.kelurahan_id AND p.cleared_at = f.set_at AND p.id <> f.id
         ORDER BY p.id DESC LIMIT 1) AS previous_id,
       (SELECT p.set_at FROM flood_states p
         WHERE p.kelurahan_id = f.kelurahan_id AND p.cleared_at = f.set_at AND p.id <> f.id
         ORDER BY p.id DESC LIMIT 1) AS previous_set_at
FROM flood_states f
JOIN admin_areas a ON a.id = f.kelurahan_id
LEFT JOIN admin_areas k ON k.id = a.parent_id
WHERE f.cleared_at IS NULL AND (CAST(:state_id AS bigint) IS NULL OR f.id = CAST(:state_id AS bigint))
ORDER BY f.level DESC, f.set_at DESC, f.id
""")
# The kelurahan ring for CAP, simplified in metres (UTM) until it is small enough.
CAP_RING_SQL = text("""
WITH part AS (
    SELECT ST_Transform(d.geom, CAST(:epsg AS integer)) AS g
    FROM admin_areas a, ST_Dump(a.geom) d
    WHERE a.id = :kid
    ORDER BY ST_Area(d.geom) DESC
    LIMIT 1
)
SELECT t.tol, ST_NPoints(t.ring) AS n, ST_AsGeoJSON(ST_Transform(t.ring, 4326), 6) AS geojson
FROM (SELECT tol, ST_ExteriorRing(ST_SimplifyPreserveTopology(part.g, tol)) AS ring
      FROM part, unnest(CAST(:tols AS float8[])) tol) t
ORDER BY t.tol
""")
LATEST_CHANGE_SQL = text("SELECT max(GREATEST(set_at, COALESCE(cleared_at, set_at))) FROM flood_states")


# -- validation -------------------------------------------------------------------------------
def level_info(level: int) -> dict[str, Any]:
    lv = LEVELS[level]
    return {"level": lv.level, "label_id": lv.label_id, "label_en": lv.label_en, "colour": lv.colour,
            "depth": lv.depth, "cap_severity": lv.severity}


def check_level(value: Any) -> int:
    """Levels are 1..4; 0/"clear" is refused here because clearing is DELETE (it closes the row)."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput("level is required: 1 (hati-hati), 2 (10-70 cm), 3 (71-150 cm), 4 (> 150 cm)", "level")
    try:
        lv = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("level must be an integer 1..4", "level") from None
    if isinstance(value, float) and not value.is_integer() or lv not in LEVELS:
        raise InvalidInput("level must be 1 (hati-hati), 2 (10-70 cm), 3 (71-150 cm) or 4 (> 150 cm); "
                           "clear a state with DELETE", "level")
    return lv


def resolve_kelurahan(session: Session, ref: str | int) -> dict[str, Any]:
    """A kelurahan by code (e.g. 33.99.01.1001) or numeric id; 422 naming ``kelurahan`` if unknown.

    The code wins when a reference could be both, since codes are what BPBD staff type.
    """
    ref_s = str(ref).strip()
    row = session.execute(KELURAHAN_BY_CODE_SQL, {"ref": ref_s}).mappings().first() if ref_s else None
    if row is None and ref_s.isdigit() and len(ref_s) < 10:
        row = session.execute(KELURAHAN_BY_ID_SQL, {"id": int(ref_s)}).mappings().first()
    if row is None:
        raise InvalidInput(f"no kelurahan with code or id {ref_s!r}", "kelurahan")
    return dict(row)


def _note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("note must be a string", "note")
    value = value.strip()
    if len(value) > 2000:
        raise InvalidInput("note may be at most 2000 characters", "note")
    return value or None


def _state_out(row: Any, kel: dict[str, Any]) -> dict[str, Any]:
    r = dict(row)
    return {"id": r["id"], "kelurahan": {"id": kel["id"], "code": kel["code"], "name": kel["name"]},
            **level_info(r["level"]), "note": r["note"], "set_by": r["set_by"], "set_at": iso(r["set_at"]),
            "cleared_at": iso(r["cleared_at"]), "cleared_by": r["cleared_by"], "current": r["cleared_at"] is None}


# -- writes -----------------------------------------------------------------------------------
def _now(session: Session) -> datetime:
    """The database's transaction time, so set_at/cleared_at agree with other rows of the transaction."""
    return session.execute(text("SELECT now()")).scalar_one()


def set_state(session: Session, ref: str | int, level: Any, note: Any = None, actor: str = "operator",
              at: datetime | None = None) -> dict[str, Any]:
    """Set (or overwrite) the kelurahan's state; the previous state is closed, not changed. Commits."""
    lv = check_level(level)
    note_s = _note(note)
    kel = resolve_kelurahan(session, ref)
    session.execute(LOCK_KELURAHAN_SQL, {"id": kel["id"]})
    when = at or _now(session)
    closed = session.execute(CLOSE_CURRENT_SQL, {"kid": kel["id"], "at": when, "actor": actor}).first()
    row = session.execute(INSERT_SQL, {"kid": kel["id"], "level": lv, "note": note_s, "actor": actor,
                                       "at": when}).mappings().one()
    session.commit()
    out = _state_out(row, kel)
    out["replaced"] = _state_out(closed._mapping, kel) if closed is not None else None
    return out


def clear_state(session: Session, ref: str | int, actor: str = "operator",
                at: datetime | None = None) -> dict[str, Any]:
    """Close the kelurahan's current state (404 when there is none). Commits."""
    kel = resolve_kelurahan(session, ref)
    session.execute(LOCK_KELURAHAN_SQL, {"id": kel["id"]})
    closed = session.execute(CLOSE_CURRENT_SQL, {"kid": kel["id"], "at": at or _now(session),
                                                 "actor": actor}).mappings().first()
    if closed is None:
        session.rollback()
        raise NotFound(f"kelurahan {kel['code']} has no current flood state", "kelurahan")
    session.commit()
    return _state_out(closed, kel)


# -- reads ------------------------------------------------------------------------------------
def history(session: Session, ref: str | int, limit: int = 100) -> dict[str, Any]:
    """The kelurahan's current state (or null) and its history, newest first."""
    kel = resolve_kelurahan(session, ref)
    rows = [_state_out(r, kel) for r in session.execute(HISTORY_SQL, {"kid": kel["id"], "limit": limit}).mappings()]
    return {"kelurahan": kel, "current": next((r for r in rows if r["current"]), None), "history": rows}


def _current_rows(session: Session, hours: int, now: datetime | None, state_id: int | None = None) -> list[dict]:
    params = {"hours": hours, "now": now or _now(session), "flood_cats": list(FLOOD_CATEGORIES),
              "state_id": state_id}
    return [dict(r) for r in session.execute(CURRENT_SQL, params).mappings()]


def current_states(session: Session, hours: int = DEFAULT_INCIDENT_HOURS,
                   now: datetime | None = None) -> dict[str, Any]:
    """Current states as a choropleth-ready GeoJSON FeatureCollection (level, labels, colour, incident counts)."""
    if not 1 <= hours <= MAX_INCIDENT_HOURS:
        raise InvalidInput(f"hours must be between 1 and {MAX_INCIDENT_HOURS}", "hours")
    rows = _current_rows(session, hours, now)
    features = [{
        "type": "Feature", "id": r["id"], "geometry": json.loads(r["geojson"]),
        "properties": {"state_id": r["id"], "kelurahan_id": r["kelurahan_id"], "code": r["code"], "name": r["name"],
                       "kecamatan": r["kecamatan"], "population": r["population"], **level_info(r["level"]),
                       "note": r["note"], "set_by": r["set_by"], "set_at": iso(r["set_at"]),
                       "incidents": int(r["incidents"]), "flood_incidents": int(r["flood_incidents"])},
    } for r in rows]
    by_level = {str(lv): sum(1 for r in rows if r["level"] == lv) for lv in LEVELS}
    return {"type": "FeatureCollection", "features": features,
            "legend": [level_info(lv) for lv in LEVELS],
            "parameters": {"hours": hours, "incident_categories_counted_as_flood": list(FLOOD_CATEGORIES)},
            "summary": {"kelurahan": len(rows), "by_level": by_level,
                        "population": sum(int(r["population"] or 0) for r in rows)}}


# -- CAP 1.2 and Atom -------------------------------------------------------------------------
def _cap_ring(session: Session, kelurahan_id: int, epsg: int) -> dict[str, Any]:
    """The kelurahan's largest ring, simplified just enough to have at most CAP_MAX_POINTS points."""
    rows = session.execute(CAP_RING_SQL, {"kid": kelurahan_id, "epsg": epsg, "tols": list(CAP_SIMPLIFY_M)}).all()
    pick = next((r for r in rows if r.n <= CAP_MAX_POINTS), rows[-1])
    line = json.loads(pick.geojson)
    return {"type": "Polygon", "coordinates": [line["coordinates"]]}


def cap_identifier(state_id: int) -> str:
    return f"peta112-bpbd-flood-{state_id}"


def _cap_message(session: Session, r: dict[str, Any], epsg: int, sender: str, sender_name: str) -> CapMessage:
    tz = city_zone(session)
    lv = LEVELS[r["level"]]
    kec = f", Kecamatan {r['kecamatan']}" if r["kecamatan"] else ""
    place = f"Kelurahan {r['name']}{kec}"
    desc = (f"BPBD menetapkan status banjir level {lv.level} ({lv.label_id}, kedalaman {lv.depth}) untuk "
            f"{place} sejak {locale_id.local_time(r['set_at'], tz)}.")
    if r["note"]:
        desc += f" Catatan: {r['note'].rstrip().rstrip('.')}."
    n_flood = int(r["flood_incidents"])
    if n_flood:
        desc += (f" Call Center 112 menerima {locale_id.number(n_flood)} laporan banjir/rob dari kelurahan ini "
                 "dalam 24 jam terakhir.")
    references = None
    if r["previous_id"] is not None:
        references = f"{sender},{cap_identifier(r['previous_id'])},{cap_time(r['previous_set_at'], tz)}"
    instruction = ("Waspadai genangan dan arus air, hindari area banjir." if lv.level == 1 else
                   "Hindari area terdampak, matikan listrik bila air masuk rumah, amankan dokumen, "
                   "ikuti arahan petugas dan siapkan evakuasi; hubungi 112 bila membutuhkan pertolongan.")
    return CapMessage(
        identifier=cap_identifier(r["id"]), sender=sender, sent=r["set_at"].astimezone(tz),
        msg_type="Update" if references else "Alert", references=references,
        categories=["Met"], event="Banjir", response_type="Prepare" if lv.level <= 2 else "Evacuate",
        urgency="Immediate", severity=lv.severity, certainty="Observed", sender_name=sender_name,
        headline=f"Banjir {lv.depth} di {place}"[:160], description=desc, instruction=instruction,
        contact="Call Center 112 / BPBD", parameters=[("tingkat_banjir", str(lv.level)),
                                                      ("kedalaman", lv.depth)],
        areas=[CapArea(desc=place, polygon=cap_polygon(_cap_ring(session, r["kelurahan_id"], epsg)),
                       geocodes=[("KODE_KELURAHAN", r["code"])])],
    )


def cap_alert(session: Session, state_id: int, epsg: int = 32749, sender: str = DEFAULT_SENDER,
              sender_name: str = DEFAULT_SENDER_NAME) -> str:
    """The CAP 1.2 alert of one *current* flood state (404 once cleared: the feed no longer lists it)."""
    return cap_xml(cap_message(session, state_id, epsg, sender, sender_name))


def cap_message(session: Session, state_id: int, epsg: int = 32749, sender: str = DEFAULT_SENDER,
                sender_name: str = DEFAULT_SENDER_NAME) -> CapMessage:
    """The alert of one current flood state before serialising (the XML and the readable page)."""
    rows = _current_rows(session, DEFAULT_INCIDENT_HOURS, None, state_id)
    if not rows:
        raise NotFound(f"no current flood state {state_id}", "id")
    return _cap_message(session, rows[0], epsg, sender, sender_name)


def atom_feed(session: Session, base_url: str, epsg: int = 32749, embed: bool = True,
              sender: str = DEFAULT_SENDER, sender_name: str = DEFAULT_SENDER_NAME) -> str:
    """Atom 1.0 feed with one entry per current flood state, linking to (and embedding) its CAP alert.

    This is the layout CAP aggregators (Google Public Alerts, the WMO alert hub) poll: entry id =
    CAP identifier, ``updated`` = when the state was set, a ``related``/``alternate`` link of type
    application/cap+xml, the CAP alert itself inside ``content`` when ``embed``.
    """
    base = base_url.rstrip("/")
    rows = _current_rows(session, DEFAULT_INCIDENT_HOURS, None)
    latest = session.execute(LATEST_CHANGE_SQL).scalar_one() or _now(session)

    def sub(parent: ET.Element, tag: str, value: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
        if value is not None:
            el.text = xml_text(value)
        return el

    # Atom elements unqualified under a literal default xmlns: ElementTree's default_namespace
    # refuses the plain attributes Atom uses (rel, href), and a global "" registration would
    # fight the CAP serialiser; the embedded CAP alert gets the "cap" prefix.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    sub(feed, "id", f"{base}/api/v1/cap/feed.atom")
    sub(feed, "title", "Status banjir per kelurahan (BPBD) - peta112")
    sub(feed, "subtitle", "CAP 1.2 alerts for the current BPBD flood states, one entry per kelurahan")
    tz = city_zone(session)
    sub(feed, "updated", cap_time(latest, tz))
    author = sub(feed, "author")
    sub(author, "name", sender_name)
    sub(author, "email", sender)
    sub(feed, "link", rel="self", href=f"{base}/api/v1/cap/feed.atom", type=ATOM_TYPE)
    sub(feed, "link", rel="alternate", href=f"{base}/api/v1/flood-states", type="application/geo+json")
    for r in rows:
        msg = _cap_message(session, r, epsg, sender, sender_name)
        lv = LEVELS[r["level"]]
        url = f"{base}/api/v1/cap/flood/{r['id']}.xml"
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:peta112:cap:{msg.identifier}")
        sub(entry, "title", msg.headline)
        sub(entry, "updated", cap_time(r["set_at"], tz))
        sub(entry, "published", cap_time(r["set_at"], tz))
        sub(entry, "summary", f"Level {lv.level}: {lv.label_id} ({lv.label_en}); {r['name']} ({r['code']})")
        sub(entry, "category", term=f"level-{lv.level}", label=lv.label_en)
        sub(entry, "link", rel="alternate", href=url, type=CAP_TYPE)
        if embed:
            content = sub(entry, "content", type=CAP_TYPE)
            content.append(ET.fromstring(cap_xml(msg).split("\n", 1)[1]))
    ET.indent(feed)
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
