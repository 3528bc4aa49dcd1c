"""Turn what a caller says ("Jln Pemuda dkt pasar", "kel. tanjung mas") into a point, and back.

Callers abbreviate (Jl., Jln, Gg., Kel., Kec.) and operators mistype under
pressure, so matching is fuzzy: names and queries are normalised the same way
and ranked with pg_trgm similarity, using the trigram index on places.

A caller rarely knows a house number but nearly always names something near
("jl usaha i dkt pasar pleburan"): the landmark is a far better point than the
middle of a street that may be kilometres long, so such a query is answered at
the landmark, the one nearest the named street.  Every result says how precise
it is (``precision``: address, street, landmark, kelurahan, kecamatan) so the
call-taker knows whether to ask again; the console depends on that contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.sqlfiles import statement

# Mirrored by the SQL function peta112_norm_place (migration 0003); keep them identical.
_ABBREVIATIONS = [
    (r"\b(jalan|jln|jl)\b\.?", "jl "),
    (r"\b(gang|gg)\b\.?", "gg "),
    (r"\b(kelurahan|kel|desa)\b\.?", ""),
    (r"\b(kecamatan|kec)\b\.?", ""),
    (r"\b(rumah sakit|rsud|rs)\b\.?", "rs "),
    (r"\b(dekat|dkt|dpn|depan|samping|sebelah)\b\.?", " "),
]
MIN_SCORE = 0.3
MAX_QUERY_LEN = 200
#: Reverse geocoding names nothing farther than this: "Jl. X, 1.8 km away" misleads a dispatcher.
REVERSE_MAX_M = 150.0
REVERSE_LANDMARK_MAX_M = 100.0
#: A landmark farther than this from the street the caller named is probably another one of that name.
NEAR_STREET_M = 1000.0

PRECISIONS = ("address", "street", "landmark", "kelurahan", "kecamatan")
_PRECISION_OF_KIND = {"address": "address", "street": "street", "kelurahan": "kelurahan",
                      "kecamatan": "kecamatan"}

# "<street> dekat/dkt/depan/samping/belakang <landmark>": the words a caller uses for "by the".
_RELATION = re.compile(r"\b(dekat|dkt|dkat|deket|depan|dpn|samping|smpg|sebelah|sblh|belakang|blkg|"
                       r"seberang|sebrang|sbrg|di ?dekat)\b\.?", re.IGNORECASE)
# RT/RW ("RT 03/RW 05", "rt.3 rw.5", "RT003/005"): too small to be mapped, dropped from the search.
_RT_RW = re.compile(r"\brt\.?\s*:?\s*0*\d{1,3}(\s*[/\s,.-]\s*(rw\.?\s*:?\s*)?0*\d{1,3})?\b"
                    r"|\brw\.?\s*:?\s*0*\d{1,3}\b", re.IGNORECASE)
# House number ("no. 12", "nomor 12a", "No.12B").
_HOUSE = re.compile(r"\b(no|nmr|nomor|nomer)\b\.?\s*(\d+[a-z]?)\b", re.IGNORECASE)


def normalize(q: str) -> str:
    """The normal form of a name or query, identical to the database's peta112_norm_place."""
    s = q.lower().strip()
    for pattern, repl in _ABBREVIATIONS:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"[^\w\s]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True)
class Query:
    """What a caller's words say: a street or place, maybe a landmark it is near, maybe a house number."""

    text: str
    landmark: str | None = None
    relation: str | None = None
    house_number: str | None = None
    rt_rw: str | None = None


def parse(q: str) -> Query:
    """Split "<street> [no N] [RT/RW] dekat <landmark>" into its parts (each normalised)."""
    s = q.strip()[:MAX_QUERY_LEN]
    rt = _RT_RW.search(s)
    rt_rw = re.sub(r"\s+", " ", rt.group(0)).strip() if rt else None
    s = _RT_RW.sub(" ", s)
    house = _HOUSE.search(s)
    number = house.group(2).upper() if house else None
    s = _HOUSE.sub(" ", s)
    rel = _RELATION.search(s)
    if rel:
        before, after = normalize(s[:rel.start()]), normalize(s[rel.end():])
        if after:
            return Query(before, after, rel.group(1).lower(), number, rt_rw)
        s = s[:rel.start()]
    return Query(normalize(s), None, None, number, rt_rw)


def geocode(session: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Candidate places for free text, best first, each with a score in [0, 1] and its precision."""
    query = parse(q)
    session.execute(text("SET LOCAL pg_trgm.similarity_threshold = 0.3"))
    session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.4"))
    results: list[dict[str, Any]] = []
    if query.landmark:
        results += _near_landmark(session, query, limit)
    if query.text and query.house_number:
        results += _house(session, query)
    if query.text:
        results += [_hit(r) for r in _search(session, query.text, limit)]
    elif not results and query.landmark:  # "dekat pasar johar" alone
        results += [_hit(r) for r in _search(session, query.landmark, limit)]
    seen: set[tuple[int, str]] = set()
    unique = []
    for r in results:
        if (r["id"], r["precision"]) not in seen:
            seen.add((r["id"], r["precision"]))
            unique.append(r)
    return unique[:limit]


def _search(session: Session, norm: str, limit: int, landmarks_only: bool = False) -> list[Any]:
    rows = session.execute(statement("app.services", "sql/geocode.sql", "search"),
                           {"q": norm, "limit": limit, "landmarks_only": landmarks_only}).mappings().all()
    return [r for r in rows if r["score"] >= MIN_SCORE]


def _precision(kind: str) -> str:
    return _PRECISION_OF_KIND.get(kind, "landmark")


def _hit(r: Any, **extra: Any) -> dict[str, Any]:
    out = {"id": r["id"], "kind": r["kind"], "name": r["name"], "precision": _precision(r["kind"]),
           "kelurahan": r["kelurahan"], "kecamatan": r["kecamatan"], "score": round(float(r["score"]), 3),
           "lat": r["lat"], "lon": r["lon"]}
    return out | extra


def _near_landmark(session: Session, query: Query, limit: int) -> list[dict[str, Any]]:
    """Landmarks matching the words after "dekat", the one by the named street first."""
    lm = _search(session, query.landmark or "", max(limit, 20), landmarks_only=True)
    if not lm:
        return []
    dist: dict[int, float | None] = {}
    if query.text:
        dist = {r[0]: r[1] for r in session.execute(
            statement("app.services", "sql/geocode.sql", "near_street"),
            {"street": query.text, "ids": [r["id"] for r in lm], "min_score": MIN_SCORE})}

    def rank(r: Any) -> tuple[bool, float, float, float]:
        d = dist.get(r["id"])
        return (not (d is not None and d <= NEAR_STREET_M), -round(float(r["score"]), 2),
                -round(float(r["whole"]), 2), d or 0.0)

    out = []
    for r in sorted(lm, key=rank)[:limit]:
        d = dist.get(r["id"])
        near = {"relation": query.relation, "street_distance_m": None if d is None else round(d, 1)}
        out.append(_hit(r, near=near))
    return out


def _house(session: Session, query: Query) -> list[dict[str, Any]]:
    row = session.execute(statement("app.services", "sql/geocode.sql", "house"),
                          {"street": query.text, "number": query.house_number,
                           "min_score": MIN_SCORE}).mappings().first()
    if row is None:
        return []
    return [{"id": row["id"], "kind": "address", "name": row["name"], "precision": "address",
             "kelurahan": row["kelurahan"], "kecamatan": row["kecamatan"],
             "score": round(float(row["score"]), 3), "lat": row["lat"], "lon": row["lon"]}]


def reverse(session: Session, lat: float, lon: float) -> dict[str, Any]:
    """The street and landmark near a point (none beyond :data:`REVERSE_MAX_M`) and its areas.

    ``near`` is false when no named street is within the cap: the point is off the mapped
    roads (or outside the city), which the dispatcher should hear rather than a far street.
    """
    row = session.execute(statement("app.services", "sql/geocode.sql", "reverse"),
                          {"lat": lat, "lon": lon, "max_m": REVERSE_MAX_M,
                           "landmark_max_m": REVERSE_LANDMARK_MAX_M}).mappings().one()
    return {"lat": lat, "lon": lon, "street": row["street"], "landmark": row["landmark"],
            "kelurahan": row["kelurahan"], "kecamatan": row["kecamatan"],
            "near": row["street"] is not None or row["landmark"] is not None, "max_distance_m": REVERSE_MAX_M}
