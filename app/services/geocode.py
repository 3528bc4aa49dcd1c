"""Turn what a caller says ("Jln Pemuda dkt pasar", "kel. tanjung mas") into a point, and back.

Callers abbreviate (Jl., Jln, Gg., Kel., Kec.) and operators mistype under
pressure, so matching is fuzzy: names and queries are normalised the same way
and ranked with pg_trgm similarity, using the trigram index on places.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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

GEOCODE_SQL = text("""
    WITH q AS (SELECT CAST(:q AS text) AS q)
    SELECT p.id, p.kind, p.name, p.area_id,
           ka.name AS kelurahan, kc.name AS kecamatan,
           GREATEST(similarity(p.name_norm, q.q), word_similarity(p.name_norm, q.q),
                    word_similarity(q.q, p.name_norm)) AS score,
           ST_Y(pt.geom) AS lat, ST_X(pt.geom) AS lon
    FROM places p
    CROSS JOIN q
    CROSS JOIN LATERAL (SELECT CASE
        WHEN GeometryType(p.geom) IN ('LINESTRING') THEN ST_LineInterpolatePoint(p.geom, 0.5)
        WHEN GeometryType(p.geom) IN ('POINT') THEN p.geom
        ELSE ST_PointOnSurface(p.geom) END AS geom) pt
    LEFT JOIN admin_areas ka ON ka.id = p.area_id
    LEFT JOIN admin_areas kc ON kc.id = ka.parent_id
    WHERE p.name_norm % q.q OR q.q <% p.name_norm OR p.name_norm <% q.q
    ORDER BY score DESC, length(p.name), p.id
    LIMIT :limit
""")

REVERSE_SQL = text("""
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
    SELECT
      (SELECT json_build_object('name', e.name, 'distance_m',
                                round(ST_Distance(e.geom::geography, pt.g::geography)::numeric, 1))
         FROM road_edges e WHERE e.name IS NOT NULL
         ORDER BY e.geom <-> pt.g LIMIT 1) AS street,
      (SELECT json_build_object('id', a.id, 'code', a.code, 'name', a.name)
         FROM admin_areas a WHERE a.level = 'kelurahan' AND ST_Intersects(a.geom, pt.g)
         ORDER BY a.id LIMIT 1) AS kelurahan,
      (SELECT json_build_object('id', a.id, 'code', a.code, 'name', a.name)
         FROM admin_areas a WHERE a.level = 'kecamatan' AND ST_Intersects(a.geom, pt.g)
         ORDER BY a.id LIMIT 1) AS kecamatan
    FROM pt
""")


def normalize(q: str) -> str:
    s = q.lower().strip()
    for pattern, repl in _ABBREVIATIONS:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"[^\w\s]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def geocode(session: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Candidate places for free text, best first, each with a score in [0, 1]."""
    norm = normalize(q)[:MAX_QUERY_LEN]
    if not norm:
        return []
    session.execute(text("SET LOCAL pg_trgm.similarity_threshold = 0.3"))
    session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.4"))
    rows = session.execute(GEOCODE_SQL, {"q": norm, "limit": limit}).mappings().all()
    return [
        {"id": r["id"], "kind": r["kind"], "name": r["name"], "kelurahan": r["kelurahan"],
         "kecamatan": r["kecamatan"], "score": round(float(r["score"]), 3),
         "lat": r["lat"], "lon": r["lon"]}
        for r in rows if r["score"] >= MIN_SCORE
    ]


def reverse(session: Session, lat: float, lon: float) -> dict[str, Any]:
    row = session.execute(REVERSE_SQL, {"lat": lat, "lon": lon}).mappings().one()
    return {"lat": lat, "lon": lon, "street": row["street"], "kelurahan": row["kelurahan"],
            "kecamatan": row["kecamatan"]}
