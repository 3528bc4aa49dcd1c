"""Administrative areas (kecamatan, kelurahan/desa) from any vector file GDAL reads.

Field names are found automatically when not given: the common English/Indonesian
names and the fields of the national boundary data from BIG/Ina-Geoportal and
Dukcapil (``WADMKC`` / ``WADMKD`` for names, ``KDCBPS``/``KDCPUM`` and
``KDEBPS``/``KDEPUM`` for codes; ``WADMKK``/``WADMPR``, the kota and province, stay
in ``props``).  Names lose the "Kelurahan " / "Desa " / "Kecamatan " prefixes some
files carry, so "Kecamatan Balikpapan Kota" and "Balikpapan Kota" are one area.

A kelurahan's parent kecamatan is looked up by ``--parent-field`` (a kecamatan code
or name already in the database), else by its code (Dukcapil and BPS kelurahan codes
begin with their kecamatan's: 64.71.05.1001 is in 64.71.05), else by location (the
kecamatan containing a point inside the kelurahan).

Re-running an import is safe: each area has a natural key, its code (from the file,
or made from the parent and name: ``kel-<parent>-<name>``, with a hash of the
geometry when a file holds two areas of one name), and a row whose key is already
there is updated in place when it changed and left alone when not.  So the same
file twice gives the same table, and a corrected file updates what changed.
Invalid polygons are repaired with ``shapely.make_valid``; a row that cannot be
repaired is rejected by number.  Other attributes are kept in ``props``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Connection, text

from geodata.bulk import copy_rows, ewkb
from geodata.importers.common import (
    ImportProblem,
    Progress,
    clean_str,
    no_progress,
    props_json,
    read_vector,
    repair_polygonal,
    require_columns,
    slug,
)

LEVELS = ("kecamatan", "kelurahan")
NAME_FIELDS = {
    "kecamatan": ("name", "nama", "kecamatan", "nama_kec", "nm_kec", "wadmkc", "namobj"),
    "kelurahan": ("name", "nama", "kelurahan", "desa", "nama_kel", "nama_desa", "nm_kel", "wadmkd", "namobj"),
}
CODE_FIELDS = {
    "kecamatan": ("code", "kode", "kode_kec", "kd_kec", "kdcbps", "kdcpum", "id_kec"),
    "kelurahan": ("code", "kode", "kode_kel", "kd_kel", "kode_desa", "kdebps", "kdepum", "id_kel", "id_desa"),
}
PARENT_FIELDS = ("parent", "parent_code", "kecamatan", "kode_kec", "nama_kec", "wadmkc")
POPULATION_FIELDS = ("population", "penduduk", "jumlah_penduduk", "jml_pddk", "jiwa")
_PREFIX = re.compile(r"^\s*(kelurahan|kel\.|kel|desa|kecamatan|kec\.|kec)\s+", re.IGNORECASE)


def clean_name(name: str) -> str:
    """An area's name without the "Kelurahan " / "Desa " / "Kecamatan " prefix some files carry."""
    stripped = _PREFIX.sub("", name).strip()
    return stripped or name.strip()


def _digits(code: str) -> str:
    return re.sub(r"\D", "", code)


def _geometry_key(geom: Any) -> str:
    return hashlib.sha1(shapely.to_wkb(shapely.normalize(geom), output_dimension=2)).hexdigest()[:8]


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str,
          p: Path, required: bool) -> str | None:
    lower = {c.lower(): c for c in columns}
    if wanted:
        if wanted.lower() not in lower:
            raise ImportProblem(f"{p}: missing column {wanted} (given as {what}; found: "
                                f"{', '.join(c for c in columns if c != 'geometry')})")
        return lower[wanted.lower()]
    for c in candidates:
        if c in lower:
            return lower[c]
    if required:
        require_columns(p, [c for c in columns], [candidates[0]])
    return None


def import_areas(conn: Connection, path: str | Path, level: str, name_field: str | None = None,
                 code_field: str | None = None, parent_field: str | None = None,
                 replace: bool = False, progress: Progress = no_progress) -> dict[str, Any]:
    """Load the areas of ``path`` as ``level`` into admin_areas (caller's transaction).

    Returns counts, and under ``ids`` the ids of the file's areas (new or already there)."""
    if level not in LEVELS:
        raise ImportProblem(f"unknown level {level!r}; expected kecamatan or kelurahan")
    p = Path(path)
    gdf = read_vector(p, "area")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    name_col = _pick(cols, name_field, NAME_FIELDS[level], "--name-field", p, required=True)
    code_col = _pick(cols, code_field, CODE_FIELDS[level], "--code-field", p, required=False)
    parent_col = None
    if level == "kelurahan":
        parent_col = _pick(cols, parent_field, PARENT_FIELDS, "--parent-field", p, required=False)
        if parent_col == name_col:
            parent_col = None
    elif parent_field:
        raise ImportProblem("--parent-field applies to --level kelurahan only")
    pop_col = _pick(cols, None, POPULATION_FIELDS, "", p, required=False)

    if replace:
        conn.execute(text("DELETE FROM admin_areas WHERE level = :l"), {"l": level})
    parents: dict[str, int] = {}
    parent_codes: list[tuple[str, int]] = []
    if level == "kelurahan":
        for aid, code, name in conn.execute(text(
                "SELECT id, code, name FROM admin_areas WHERE level = 'kecamatan'")):
            parents.setdefault(clean_name(name).lower(), aid)
            parents[code.strip().lower()] = aid
            if len(_digits(code)) >= 6:
                parent_codes.append((_digits(code), aid))
        parent_codes.sort(key=lambda c: -len(c[0]))

    prefix = "kec" if level == "kecamatan" else "kel"
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    names = [clean_name(clean_str(r.get(name_col)) or "") for r in records]
    repeated = {n.lower() for n in names if n and sum(1 for m in names if m.lower() == n.lower()) > 1}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    repaired = 0
    for i, (rec, geom) in enumerate(progress(list(zip(records, gdf.geometry, strict=True)),
                                             len(records), f"{level} areas"), start=1):
        where = f"{p}: row {i}"
        raw_name = clean_str(rec.get(name_col))
        if not raw_name:
            raise ImportProblem(f"{where}: empty {name_col}")
        name = clean_name(raw_name)
        code = clean_str(rec.get(code_col)) if code_col else None
        if code_col and not code:
            raise ImportProblem(f"{where}: empty {code_col}")
        if code and code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]  # numeric codes read as floats
        parent_id, pv = None, None
        if parent_col:
            pv = clean_str(rec.get(parent_col))
            if pv:
                if pv.endswith(".0") and pv[:-2].isdigit():
                    pv = pv[:-2]
                parent_id = parents.get(pv.lower(), parents.get(clean_name(pv).lower()))
                if parent_id is None:
                    raise ImportProblem(f"{where}: parent {pv!r} ({parent_col}) is not the code or name "
                                        "of a kecamatan in the database; import the kecamatan first")
        elif code and parent_codes:
            digits = _digits(code)
            parent_id = next((aid for c, aid in parent_codes if digits.startswith(c) and len(digits) > len(c)),
                             None)
        fixed = repair_polygonal(geom, where)
        if geom is not None and not geom.is_empty and not geom.is_valid:
            repaired += 1
        if code is None:  # the natural key: parent and name, and the geometry when the name repeats
            code = "-".join([prefix, *([slug(clean_name(pv))] if pv else []), slug(name)])
            if name.lower() in repeated:
                code += f"-{_geometry_key(fixed)}"
        if code in seen:
            raise ImportProblem(f"{where}: code {code} appears twice in the file")
        seen.add(code)
        pop = rec.get(pop_col) if pop_col else None
        try:
            population = int(float(pop)) if clean_str(pop) is not None else None
        except (TypeError, ValueError):
            population = None
        props = props_json(rec, [name_col, code_col, parent_col, pop_col])
        if raw_name != name:
            props = json.dumps({**json.loads(props), "name_as_given": raw_name}, ensure_ascii=False)
        rows.append({"code": code, "name": name, "parent_id": parent_id, "population": population,
                     "props": props, "geom": fixed})

    conn.execute(text("CREATE TEMP TABLE _imp_areas (code text, name text, parent_id integer, population integer, "
                      "props jsonb, geom geometry(MultiPolygon, 4326)) ON COMMIT DROP"))
    copy_rows(conn, "_imp_areas", ["code", "name", "parent_id", "population", "props", "geom"],
              ([r["code"], r["name"], r["parent_id"], r["population"], r["props"], ewkb(r["geom"])] for r in rows))
    clash = conn.execute(text("SELECT a.code FROM admin_areas a JOIN _imp_areas i USING (code) "
                              "WHERE a.level <> :level LIMIT 1"), {"level": level}).scalar()
    if clash is not None:
        raise ImportProblem(f"{p}: code {clash} is already a {'kelurahan' if level == 'kecamatan' else 'kecamatan'}")
    changed = conn.execute(text("""
        INSERT INTO admin_areas AS a (level, code, name, parent_id, population, props, geom)
        SELECT :level, code, name, parent_id, population, props, geom FROM _imp_areas ORDER BY code
        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
            parent_id = COALESCE(EXCLUDED.parent_id, a.parent_id),
            population = EXCLUDED.population, props = EXCLUDED.props, geom = EXCLUDED.geom
        WHERE a.name IS DISTINCT FROM EXCLUDED.name OR a.population IS DISTINCT FROM EXCLUDED.population
           OR a.props IS DISTINCT FROM EXCLUDED.props OR NOT ST_OrderingEquals(a.geom, EXCLUDED.geom)
           OR (EXCLUDED.parent_id IS NOT NULL AND a.parent_id IS DISTINCT FROM EXCLUDED.parent_id)
        RETURNING (xmax = 0) AS inserted"""), {"level": level}).scalars().all()
    ids = list(conn.execute(text("SELECT a.id FROM admin_areas a JOIN _imp_areas i USING (code)")).scalars())
    conn.execute(text("DROP TABLE _imp_areas"))
    if level == "kelurahan":  # the rest find their kecamatan by location
        conn.execute(text(
            "UPDATE admin_areas k SET parent_id = (SELECT c.id FROM admin_areas c WHERE c.level = 'kecamatan' "
            "  AND ST_Covers(c.geom, ST_PointOnSurface(k.geom)) ORDER BY c.id LIMIT 1) "
            "WHERE k.id = ANY(:ids) AND k.parent_id IS NULL"), {"ids": ids})
        linked = int(conn.execute(text(
            "SELECT count(*) FROM admin_areas WHERE id = ANY(:ids) AND parent_id IS NOT NULL"), {"ids": ids}).scalar())
    else:  # existing kelurahan without a parent find theirs now
        linked = conn.execute(text(
            "UPDATE admin_areas k SET parent_id = c.id FROM admin_areas c "
            "WHERE k.level = 'kelurahan' AND k.parent_id IS NULL AND c.id = ANY(:ids) "
            "AND ST_Covers(c.geom, ST_PointOnSurface(k.geom))"), {"ids": ids}).rowcount
    inserted = sum(1 for x in changed if x)
    return {"areas": len(rows), "linked": linked, "repaired": repaired, "inserted": inserted,
            "updated": len(changed) - inserted, "unchanged": len(rows) - len(changed), "ids": ids}
