"""Administrative areas (kecamatan, kelurahan/desa) from any vector file GDAL reads.

Field names are found automatically when not given: the common English/Indonesian
names and the fields of the national boundary data from BIG/BPS (``WADMKC`` /
``WADMKD`` for names, ``KDCBPS``/``KDCPUM`` and ``KDEBPS``/``KDEPUM`` for codes).
Without a code field a code is made from the name (``kec-<name>`` / ``kel-<name>``).
A kelurahan's parent kecamatan is looked up by ``--parent-field`` (a kecamatan code
or name already in the database) or, without that field, by location (the
kecamatan containing a point inside the kelurahan).  Invalid polygons are repaired
with ``shapely.make_valid``; a row that cannot be repaired is rejected by number.
Other attributes are kept in ``props``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    reserve_ids,
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
                 replace: bool = False, progress: Progress = no_progress) -> dict[str, int]:
    """Load the areas of ``path`` as ``level`` into admin_areas (caller's transaction)."""
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
    existing = set(conn.execute(text("SELECT code FROM admin_areas")).scalars())
    parents: dict[str, int] = {}
    if parent_col:
        for aid, code, name in conn.execute(text(
                "SELECT id, code, name FROM admin_areas WHERE level = 'kecamatan'")):
            parents.setdefault(name.strip().lower(), aid)
            parents[code.strip().lower()] = aid

    prefix = "kec" if level == "kecamatan" else "kel"
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    repaired = 0
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for i, (rec, geom) in enumerate(progress(list(zip(records, gdf.geometry, strict=True)),
                                             len(records), f"{level} areas"), start=1):
        where = f"{p}: row {i}"
        name = clean_str(rec.get(name_col))
        if not name:
            raise ImportProblem(f"{where}: empty {name_col}")
        code = clean_str(rec.get(code_col)) if code_col else None
        if code_col and not code:
            raise ImportProblem(f"{where}: empty {code_col}")
        if code and code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]  # numeric codes read as floats
        if code is None:
            code, n = f"{prefix}-{slug(name)}", 2
            while code in seen or code in existing:
                code, n = f"{prefix}-{slug(name)}-{n}", n + 1
        if code in seen:
            raise ImportProblem(f"{where}: code {code} appears twice in the file")
        if code in existing:
            raise ImportProblem(f"{where}: code {code} is already in the database "
                                "(use --replace to reload this level)")
        seen.add(code)
        parent_id = None
        if parent_col:
            pv = clean_str(rec.get(parent_col))
            if pv:
                if pv.endswith(".0") and pv[:-2].isdigit():
                    pv = pv[:-2]
                parent_id = parents.get(pv.lower())
                if parent_id is None:
                    raise ImportProblem(f"{where}: parent {pv!r} ({parent_col}) is not the code or name "
                                        "of a kecamatan in the database; import the kecamatan first")
        pop = rec.get(pop_col) if pop_col else None
        try:
            population = int(float(pop)) if clean_str(pop) is not None else None
        except (TypeError, ValueError):
            population = None
        if geom is not None and not geom.is_empty and not geom.is_valid:
            repaired += 1
        rows.append({"code": code, "name": name, "parent_id": parent_id, "population": population,
                     "props": props_json(rec, [name_col, code_col, parent_col, pop_col]),
                     "geom": repair_polygonal(geom, where)})

    ids = reserve_ids(conn, "admin_areas", len(rows))
    copy_rows(conn, "admin_areas", ["id", "level", "code", "name", "parent_id", "population", "props", "geom"],
              ([aid, level, r["code"], r["name"], r["parent_id"], r["population"], r["props"], ewkb(r["geom"])]
               for aid, r in zip(ids, rows, strict=True)))
    linked = 0
    if level == "kelurahan" and not parent_col:
        linked = conn.execute(text(
            "UPDATE admin_areas k SET parent_id = (SELECT c.id FROM admin_areas c "
            " WHERE c.level = 'kecamatan' AND ST_Covers(c.geom, ST_PointOnSurface(k.geom)) "
            " ORDER BY c.id LIMIT 1) WHERE k.id = ANY(:ids)"), {"ids": ids}).rowcount
    elif level == "kelurahan":
        linked = sum(1 for r in rows if r["parent_id"] is not None)
    elif level == "kecamatan":  # existing kelurahan without a parent find theirs now
        linked = conn.execute(text(
            "UPDATE admin_areas k SET parent_id = c.id FROM admin_areas c "
            "WHERE k.level = 'kelurahan' AND k.parent_id IS NULL AND c.id = ANY(:ids) "
            "AND ST_Covers(c.geom, ST_PointOnSurface(k.geom))"), {"ids": ids}).rowcount
    if level == "kelurahan" and not parent_col:
        linked = int(conn.execute(text(
            "SELECT count(*) FROM admin_areas WHERE id = ANY(:ids) AND parent_id IS NOT NULL"),
            {"ids": ids}).scalar())
    return {"areas": len(rows), "linked": linked, "repaired": repaired}

