"""The city's own catalog: agencies, categories, routing rules with task targets, response plans, one TOML file.

Every city runs its own OPD (Disdamkar or DPUPR instead of Damkar and PU, TNI sitting in
the centre, police not yet joined) and its own categories and targets.  Migration 0002
gives every database the same start; a city describes what it really runs in one file
(docs/your-city.md, "Katalog kota"; the demo city's is geodata/demo/catalog.toml) and
``peta112 city catalog check|apply FILE`` makes the database say the same:

- :func:`load` parses and validates the whole file and reports *every* problem, one
  line each, before anything touches the database.
- :func:`plan_changes` compares it with the database: what is added, changed, restored,
  retired or deleted.  A category the file drops is *retired* (``retired_at``) while an
  incident still uses it, so the history keeps its name and colour, and deleted when
  nothing does; an agency likewise while stations, units, tasks, users or a retired
  category's rules name it.
- :func:`apply` makes those changes in the caller's transaction, one ``catalog_events``
  row per change (append-only, who, which file, before and after).  A second apply of
  the same file finds nothing to change and writes nothing.
- :func:`export` writes what the database holds as such a file: the start of a city's
  own file when its catalog was edited by hand before there was one.

Intake and Open311 refuse a retired category (app/services/dispatch.py, sql/open311.sql).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from app.db.sqlfiles import raw, statement
from app.services.errors import ServiceError

SQL = ("app.city", "sql/catalog.sql")
AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
UNIT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
AGENCY_KINDS = ("responder", "service", "utility", "government")
ROLES = ("primary", "support")
# "8 menit", "2 jam", "3 hari", "90 s", "45m", "2h", "3d": a target as people write it.
_TARGET = re.compile(r"^\s*(\d+)\s*(detik|s|sec|menit|m|min|jam|h|hour|hours|hari|d|day|days)\s*$", re.I)
_UNIT_S = {"detik": 1, "s": 1, "sec": 1, "menit": 60, "m": 60, "min": 60, "jam": 3600, "h": 3600,
           "hour": 3600, "hours": 3600, "hari": 86400, "d": 86400, "day": 86400, "days": 86400}
MAX_TARGET_S = 30 * 86400

AGENCY_KEYS = {"code", "name", "name_en", "kind", "phone", "color", "unit_types"}
CATEGORY_KEYS = {"code", "name", "name_en", "priority", "target", "emergency", "public", "public_description",
                 "color", "icon", "primary", "support", "plan", "related"}
PLAN_KEYS = {"agency", "unit_type", "count"}
RULE_KEYS = {"agency", "task_target"}


class CatalogError(ValueError):
    """A catalog file that cannot be applied: every problem, one readable line each."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: {len(problems)} problem(s)")
        self.source = source
        self.problems = problems

    def lines(self) -> list[str]:
        return [f"{self.source}: {p}" for p in self.problems]


class SchemaTooOld(ServiceError):
    """A database migrated before 0023: the catalog's columns are not there yet."""

    status = 409
    title = "Conflict"


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    name_en: str
    kind: str
    phone: str | None
    color: str
    unit_types: tuple[str, ...]

    def row(self) -> dict[str, Any]:
        return {"name": self.name, "name_en": self.name_en, "kind": self.kind, "phone": self.phone,
                "color": self.color, "unit_types": list(self.unit_types), "retired": False}


@dataclass(frozen=True)
class Category:
    code: str
    name_id: str
    name_en: str
    priority: int
    target_response_s: int
    is_emergency: bool
    is_public: bool
    public_description: bool
    color: str
    icon: str | None
    agencies: tuple[tuple[str, str], ...]  # (agency code, 'primary' | 'support'), primaries first
    plan: tuple[dict[str, Any], ...]  # {"agency", "unit_type" (None: any unit of it), "count"}, in order
    related: tuple[str, ...] = ()  # categories describing the same event nearby (duplicate check), both ways
    # (agency code, seconds): an agency's own target for its task on this category, forwarded to on scene
    # (category_agencies.task_target_s); an agency not listed keeps its standard or the category's target.
    task_targets: tuple[tuple[str, int], ...] = ()

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("code")
        d["agencies"] = sorted([list(a) for a in self.agencies])
        d["plan"] = [dict(p) for p in self.plan]
        d["related"] = sorted(self.related)
        d["task_targets"] = dict(sorted(self.task_targets))
        d["retired"] = False
        return d


@dataclass(frozen=True)
class Catalog:
    agencies: dict[str, Agency]
    categories: dict[str, Category]
    source: str = "-"
    sha256: str = ""


# -- reading and validating a file --------------------------------------------------------------
def parse_target(value: Any) -> int:
    """Seconds from '8 menit', '2 jam', '3 hari', '45m', '2h' or a whole number of seconds."""
    if isinstance(value, bool):
        raise ValueError("target must be a duration such as \"8 menit\", \"2 jam\" or \"3 hari\"")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (m := _TARGET.match(value)):
        seconds = int(m.group(1)) * _UNIT_S[m.group(2).lower()]
    else:
        raise ValueError(f"target {str(value)[:40]!r} is not a duration such as \"8 menit\", \"2 jam\" or \"3 hari\"")
    if not 0 < seconds <= MAX_TARGET_S:
        raise ValueError(f"target {str(value)[:40]!r} must be more than 0 and at most 30 hari")
    return seconds


def load(path: Path) -> Catalog:
    """Read and validate a catalog file; :class:`CatalogError` lists every problem found."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(str(path), [f"cannot read the file ({exc.strerror or exc})"]) from None
    return parse(raw, str(path))


def parse(raw: bytes, source: str = "-") -> Catalog:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(source, ["the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(source, [f"not valid TOML: {exc}"]) from None
    return validate(doc, source, hashlib.sha256(raw).hexdigest())


def validate(doc: dict[str, Any], source: str = "-", sha256: str = "") -> Catalog:
    problems: list[str] = []
    unknown = sorted(set(doc) - {"agency", "category"})
    if unknown:
        problems.append(f"unknown section(s) {', '.join(unknown)}: a catalog has [[agency]] and [[category]] only")
    agencies = _agencies(doc.get("agency"), problems)
    categories = _categories(doc.get("category"), agencies, problems)
    categories = _related(doc.get("category"), categories, problems)
    if problems:
        raise CatalogError(source, problems)
    return Catalog(agencies, categories, source, sha256)


def _table_list(value: Any, name: str, problems: list[str]) -> list[dict[str, Any]]:
    if value is None:
        problems.append(f"no [[{name}]] entries: the catalog must list at least one {name}")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{name} must be written as [[{name}]] tables")
        return []
    return value


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str], required: bool = True) -> str | None:
    v = entry.get(key)
    if v is None:
        if required:
            problems.append(f"{where}: {key} is required")
        return None
    if not isinstance(v, str) or not v.strip():
        problems.append(f"{where}: {key} must be non-empty text")
        return None
    return v.strip()


def _flag(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> bool:
    v = entry.get(key, False)
    if not isinstance(v, bool):
        problems.append(f"{where}: {key} must be true or false")
        return False
    return v


def _color(entry: dict[str, Any], where: str, problems: list[str]) -> str:
    v = _text(entry, "color", where, problems)
    if v is not None and not COLOR.match(v):
        problems.append(f"{where}: color {v[:20]!r} must be #rrggbb")
    return v or "#777777"


def _where(kind: str, i: int, entry: dict[str, Any]) -> str:
    code = entry.get("code")
    return f"{kind} {code}" if isinstance(code, str) and code else f"{kind} #{i + 1}"


def _agencies(value: Any, problems: list[str]) -> dict[str, Agency]:
    out: dict[str, Agency] = {}
    for i, a in enumerate(_table_list(value, "agency", problems)):
        where = _where("agency", i, a)
        extra = sorted(set(a) - AGENCY_KEYS)
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}")
        code = _text(a, "code", where, problems)
        if code is not None and not AGENCY_CODE.match(code):
            problems.append(f"{where}: code must be upper-case letters, digits or _ (e.g. DISDAMKAR)")
        if code is not None and code in out:
            problems.append(f"{where}: duplicate agency code {code}")
        kind = _text(a, "kind", where, problems, required=False) or "government"
        if kind not in AGENCY_KINDS:
            problems.append(f"{where}: kind {kind[:20]!r} must be one of {', '.join(AGENCY_KINDS)}")
        types = a.get("unit_types", [])
        if not isinstance(types, list) or not all(isinstance(t, str) and UNIT_TYPE.match(t) for t in types):
            problems.append(f"{where}: unit_types must be a list of lower-case names (e.g. [\"fire_engine\"])")
            types = []
        elif len(set(types)) != len(types):
            problems.append(f"{where}: unit_types lists a type twice")
        phone = a.get("phone")
        if phone is not None and (not isinstance(phone, str) or not re.fullmatch(r"[0-9+ ()-]{2,20}", phone)):
            problems.append(f"{where}: phone must be a number such as \"113\" or \"0542 123456\"")
            phone = None
        agency = Agency(code=code or "", name=_text(a, "name", where, problems) or "",
                        name_en=_text(a, "name_en", where, problems) or "", kind=kind, phone=phone,
                        color=_color(a, where, problems), unit_types=tuple(types))
        if code is not None and code not in out:
            out[code] = agency
    return out


def _categories(value: Any, agencies: dict[str, Agency], problems: list[str]) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for i, c in enumerate(_table_list(value, "category", problems)):
        where = _where("category", i, c)
        extra = sorted(set(c) - CATEGORY_KEYS)
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}")
        code = _text(c, "code", where, problems)
        if code is not None and not CATEGORY_CODE.match(code):
            problems.append(f"{where}: code must be lower-case letters, digits or _ (e.g. kebakaran)")
        if code is not None and code in out:
            problems.append(f"{where}: duplicate category code {code}")
        priority = c.get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5:
            problems.append(f"{where}: priority must be a whole number from 1 (most urgent) to 5")
            priority = 5
        target = 0
        if "target" not in c:
            problems.append(f"{where}: target is required (e.g. target = \"8 menit\")")
        else:
            try:
                target = parse_target(c["target"])
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
        is_public = _flag(c, "public", where, problems)
        public_description = _flag(c, "public_description", where, problems)
        if public_description and not is_public:
            problems.append(f"{where}: public_description needs public = true")
        rules, task_targets = _rules(c, where, agencies, problems)
        plan = _plan(c.get("plan", []), where, agencies, problems)
        category = Category(
            code=code or "", name_id=_text(c, "name", where, problems) or "",
            name_en=_text(c, "name_en", where, problems) or "", priority=priority, target_response_s=target,
            is_emergency=_flag(c, "emergency", where, problems), is_public=is_public,
            public_description=public_description, color=_color(c, where, problems),
            icon=_text(c, "icon", where, problems, required=False), agencies=rules, plan=plan,
            task_targets=task_targets)
        if code is not None and code not in out:
            out[code] = category
    return out


def _related(entries: Any, categories: dict[str, Category], problems: list[str]) -> dict[str, Category]:
    """``related`` both ways: a flood near an open tidal-flood call is a duplicate, and so the reverse."""
    pairs: dict[str, set[str]] = {code: set() for code in categories}
    for c in entries if isinstance(entries, list) else []:
        code = c.get("code") if isinstance(c, dict) else None
        if code not in categories or "related" not in c:
            continue
        rel = c["related"]
        if not isinstance(rel, list) or not all(isinstance(x, str) for x in rel):
            problems.append(f"category {code}: related must be a list of category codes")
            continue
        for other in rel:
            if other == code:
                problems.append(f"category {code}: related names the category itself")
            elif other not in categories:
                problems.append(f"category {code}: related names unknown category {other[:48]} "
                                "(not a [[category]] of this file)")
            else:
                pairs[code].add(other)
                pairs[other].add(code)
    return {code: replace(cat, related=tuple(sorted(pairs[code]))) for code, cat in categories.items()}


def _rules(c: dict[str, Any], where: str, agencies: dict[str, Agency],
           problems: list[str]) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, int], ...]]:
    """Routing rules and task targets: each entry of primary/support is an agency code, or
    ``{ agency = "PLN", task_target = "45 menit" }`` when the agency's task has a target of its own."""
    rules: list[tuple[str, str]] = []
    targets: dict[str, int] = {}
    seen: set[str] = set()
    for role in ROLES:
        entries = c.get(role, [])
        if not isinstance(entries, list) or not all(isinstance(x, str | dict) for x in entries):
            problems.append(f"{where}: {role} must be a list of agency codes or "
                            f"{{ agency = \"PLN\", task_target = \"45 menit\" }} entries")
            continue
        for entry in entries:
            target = None
            if isinstance(entry, dict):
                extra = sorted(set(entry) - RULE_KEYS)
                if extra:
                    problems.append(f"{where}: {role} entry: unknown key(s) {', '.join(extra)}")
                a = entry.get("agency")
                if not isinstance(a, str) or not a:
                    problems.append(f"{where}: {role} entry: agency is required (an agency code)")
                    continue
                if "task_target" in entry:
                    try:
                        target = parse_target(entry["task_target"])
                    except ValueError as exc:
                        problems.append(f"{where}: {role} {a[:32]}: task_{exc}")
            else:
                a = entry
            if a not in agencies:
                problems.append(f"{where}: {role} names unknown agency {a[:32]} (not an [[agency]] of this file)")
            elif a in seen:
                problems.append(f"{where}: agency {a} is named twice in primary/support")
            else:
                seen.add(a)
                rules.append((a, role))
                if target is not None:
                    targets[a] = target
    return tuple(rules), tuple(sorted(targets.items()))


def _plan(value: Any, where: str, agencies: dict[str, Agency], problems: list[str]) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        problems.append(f"{where}: plan must be a list such as [{{ agency = \"DAMKAR\", unit_type = "
                        f"\"fire_engine\", count = 2 }}]")
        return ()
    out: list[dict[str, Any]] = []
    for k, p in enumerate(value):
        at = f"{where}: plan line {k + 1}"
        extra = sorted(set(p) - PLAN_KEYS)
        if extra:
            problems.append(f"{at}: unknown key(s) {', '.join(extra)}")
        agency, unit_type, count = p.get("agency"), p.get("unit_type"), p.get("count")
        if not isinstance(agency, str) or agency not in agencies:
            problems.append(f"{at}: unknown agency {str(agency)[:32]} (not an [[agency]] of this file)")
        elif unit_type is not None and (not isinstance(unit_type, str)
                                        or unit_type not in agencies[agency].unit_types):
            have = ", ".join(agencies[agency].unit_types) or "none"
            problems.append(f"{at}: unknown unit_type {str(unit_type)[:32]} for {agency} "
                            f"(its unit_types: {have})")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
            problems.append(f"{at}: count must be a whole number from 1 to 50")
        out.append({"agency": agency, "unit_type": unit_type, "count": count})
    return tuple(out)


# -- comparing with the database -------------------------------------------------------------------
@dataclass
class Change:
    """One row the apply adds, changes, restores, retires or deletes."""

    action: str  # add | change | restore | retire | delete
    what: str  # agency | category
    code: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    in_use: dict[str, int] = field(default_factory=dict)  # table -> rows naming the code (retire, delete)

    def fields(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return [k for k in self.after if k != "retired" and self.before.get(k) != self.after[k]]

    def line(self) -> str:
        sign = {"add": "+", "change": "~", "restore": "~", "retire": "-", "delete": "-"}[self.action]
        head = f"{sign} {self.what} {self.code}"
        if self.action == "add":
            name = (self.after or {}).get("name") or (self.after or {}).get("name_id")
            return f"{head}: add ({name})"
        if self.action == "delete":
            return f"{head}: delete (not in the file, nothing uses it)"
        if self.action == "retire":
            uses = ", ".join(f"{n} {t}" for t, n in sorted(self.in_use.items()))
            return f"{head}: retire (not in the file, still used by {uses})"
        parts = [f"{k} {_show(self.before.get(k) if self.before else None)} -> {_show((self.after or {})[k])}"
                 for k in self.fields()]
        if self.action == "restore":
            parts.insert(0, "restore (retired, listed again)")
        return f"{head}: " + "; ".join(parts)


def _show(v: Any) -> str:
    if isinstance(v, dict):  # task targets: agency -> seconds
        return "{" + ", ".join(f"{a} {duration_text(s)}" for a, s in v.items()) + "}"
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return "[" + ", ".join(f"{p.get('count')} {p.get('unit_type') or 'any unit'} ({p.get('agency')})"
                               for p in v) + "]"
    if isinstance(v, list) and v and isinstance(v[0], list):
        return "[" + ", ".join(f"{a} {r}" for a, r in v) + "]"
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return repr(v) if isinstance(v, str) else str(v)


def database_state(conn: Connection) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Agencies and categories as the database holds them, in the shape of ``Agency.row``/``Category.row``."""
    agencies = {r["code"]: {k: r[k] for k in ("name", "name_en", "kind", "phone", "color")}
                | {"unit_types": list(r["unit_types"]), "retired": r["retired_at"] is not None}
                for r in conn.execute(statement(*SQL, "agencies")).mappings()}
    categories = {}
    for r in conn.execute(statement(*SQL, "categories")).mappings():
        d = {k: r[k] for k in ("name_id", "name_en", "priority", "target_response_s", "is_emergency", "is_public",
                               "public_description", "color", "icon")}
        d["agencies"] = sorted([list(a) for a in r["agencies"]])
        d["plan"] = [{"agency": p.get("agency"), "unit_type": p.get("unit_type"), "count": p.get("count")}
                     for p in r["response_plan"]]
        d["related"] = sorted(r["related"])
        d["task_targets"] = dict(sorted((a, int(s)) for a, s in r["task_targets"].items()))
        d["retired"] = r["retired_at"] is not None
        categories[r["code"]] = d
    return agencies, categories


def _in_use(conn: Connection, table: str, codes: list[str]) -> dict[str, dict[str, int]]:
    """code -> {referencing table: rows}, over every foreign key to ``table`` except the category rules."""
    out: dict[str, dict[str, int]] = {}
    if not codes:
        return out
    quote = conn.dialect.identifier_preparer.quote
    for ref in conn.execute(statement(*SQL, "references"), {"target": table}).mappings():
        sql = raw(*SQL, "count_references").format(tbl=ref["tbl"], col=quote(ref["col"]))
        for code, n in conn.execute(text(sql), {"codes": codes}).all():
            out.setdefault(code, {})[ref["tbl"]] = n
    return out


def plan_changes(conn: Connection, cat: Catalog) -> list[Change]:
    """What :func:`apply` would change, in the order it changes it (agencies first, then categories)."""
    if conn.execute(text("SELECT to_regclass('catalog_events')")).scalar() is None:
        raise SchemaTooOld("the database predates the city catalog (migration 0023); run: peta112 db migrate")
    db_agencies, db_categories = database_state(conn)
    changes: list[Change] = []
    for code, a in cat.agencies.items():
        _compare(changes, "agency", code, db_agencies.get(code), a.row())
    for code, c in cat.categories.items():
        _compare(changes, "category", code, db_categories.get(code), c.row())
    gone_cats = [c for c in db_categories if c not in cat.categories]
    used = _in_use(conn, "incident_categories", gone_cats)
    kept_rules: dict[str, int] = {}  # agency -> rules of categories that stay (retired) in the database
    for code in gone_cats:
        if code in used:
            for a, _role in db_categories[code]["agencies"]:
                kept_rules[a] = kept_rules.get(a, 0) + 1
            if not db_categories[code]["retired"]:
                changes.append(Change("retire", "category", code, db_categories[code], None, used[code]))
        else:
            changes.append(Change("delete", "category", code, db_categories[code], None))
    gone_agencies = [a for a in db_agencies if a not in cat.agencies]
    used_a = _in_use(conn, "agencies", gone_agencies)
    for code in gone_agencies:
        uses = dict(used_a.get(code, {}))
        if kept_rules.get(code):
            uses["category_agencies"] = kept_rules[code]
        if uses:
            if not db_agencies[code]["retired"]:
                changes.append(Change("retire", "agency", code, db_agencies[code], None, uses))
        else:
            changes.append(Change("delete", "agency", code, db_agencies[code], None))
    return changes


def _compare(changes: list[Change], what: str, code: str, before: dict[str, Any] | None,
             after: dict[str, Any]) -> None:
    if before is None:
        changes.append(Change("add", what, code, None, after))
    elif before["retired"]:
        changes.append(Change("restore", what, code, before, after))
    elif any(before.get(k) != v for k, v in after.items()):
        changes.append(Change("change", what, code, before, after))


# -- writing the database's catalog as a file -----------------------------------------------------------
def duration_text(seconds: int) -> str:
    """A target as the file writes it: '3 hari', '2 jam', '8 menit', '90 detik'."""
    for unit, size in (("hari", 86400), ("jam", 3600), ("menit", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} detik"


def export(conn: Connection) -> str:
    """The database's agencies and categories (not the retired ones) as a catalog file."""
    agencies, categories = database_state(conn)
    q = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731 - a JSON string is a TOML basic string
    out = ["# The city's catalog, written by `peta112 city catalog export` (format: docs/your-city.md).", ""]
    for code, a in sorted(agencies.items()):
        if a["retired"]:
            continue
        out += ["[[agency]]", f"code = {q(code)}", f"name = {q(a['name'])}", f"name_en = {q(a['name_en'])}",
                f"kind = {q(a['kind'])}"]
        out += [f"phone = {q(a['phone'])}"] if a["phone"] else []
        out += [f"color = {q(a['color'])}", f"unit_types = [{', '.join(q(t) for t in a['unit_types'])}]", ""]
    live = {c for c, d in categories.items() if not d["retired"]}
    for code, c in sorted(categories.items(), key=lambda kv: (kv[1]["priority"], kv[0])):
        if code not in live:
            continue
        out += ["[[category]]", f"code = {q(code)}", f"name = {q(c['name_id'])}", f"name_en = {q(c['name_en'])}",
                f"priority = {c['priority']}", f"target = {q(duration_text(c['target_response_s']))}",
                f"emergency = {str(c['is_emergency']).lower()}", f"public = {str(c['is_public']).lower()}",
                f"public_description = {str(c['public_description']).lower()}", f"color = {q(c['color'])}"]
        out += [f"icon = {q(c['icon'])}"] if c["icon"] else []
        related = [r for r in c["related"] if r in live]
        out += [f"related = [{', '.join(q(r) for r in related)}]"] if related else []
        for role in ROLES:
            codes = [a for a, r in sorted(c["agencies"]) if r == role and not agencies.get(a, {}).get("retired")]
            entries = [f"{{ agency = {q(a)}, task_target = {q(duration_text(c['task_targets'][a]))} }}"
                       if a in c["task_targets"] else q(a) for a in codes]
            out.append(f"{role} = [{', '.join(entries)}]")
        plan = [p for p in c["plan"] if p["agency"] in agencies and not agencies[p["agency"]]["retired"]]
        if plan:
            out.append("plan = [")
            for p in plan:
                unit = f", unit_type = {q(p['unit_type'])}" if p["unit_type"] else ""
                out.append(f"    {{ agency = {q(p['agency'])}{unit}, count = {p['count']} }},")
            out.append("]")
        out.append("")
    return "\n".join(out)


# -- applying ------------------------------------------------------------------------------------------
def apply(conn: Connection, cat: Catalog, actor: str) -> list[Change]:
    """Make the database hold ``cat``, in the caller's transaction; one audit row per change."""
    conn.execute(statement(*SQL, "lock"))
    changes = plan_changes(conn, cat)
    for ch in changes:
        _apply_one(conn, cat, ch)
        conn.execute(statement(*SQL, "audit"), {
            "kind": f"{ch.what}_{ch.action}", "code": ch.code, "actor": actor, "source": cat.source,
            "data": _json({"sha256": cat.sha256, "fields": ch.fields(), "before": ch.before, "after": ch.after,
                           "in_use": ch.in_use})})
    return changes


def _apply_one(conn: Connection, cat: Catalog, ch: Change) -> None:
    if ch.what == "agency":
        if ch.action in ("add", "change", "restore"):
            a = cat.agencies[ch.code]
            conn.execute(statement(*SQL, "upsert_agency"), {**asdict(a), "unit_types": list(a.unit_types)})
        elif ch.action == "retire":
            conn.execute(statement(*SQL, "retire_agency"), {"code": ch.code})
        else:
            conn.execute(statement(*SQL, "delete_agency"), {"code": ch.code})
        return
    if ch.action in ("add", "change", "restore"):
        c = cat.categories[ch.code]
        params = {k: v for k, v in asdict(c).items() if k not in ("agencies", "plan", "task_targets")}
        params["related"] = list(c.related)
        plan = [{k: v for k, v in p.items() if v is not None} for p in c.plan]  # no unit_type: any unit
        conn.execute(statement(*SQL, "upsert_category"), {**params, "plan": _json(plan)})
        if ch.before is None or any(ch.before[k] != ch.after[k]  # type: ignore[index]
                                    for k in ("agencies", "task_targets")):
            conn.execute(statement(*SQL, "delete_rules"), {"code": ch.code})
            targets = dict(c.task_targets)
            if c.agencies:
                conn.execute(statement(*SQL, "insert_rule"),
                             [{"category": ch.code, "agency": a, "role": r, "task_target_s": targets.get(a)}
                              for a, r in c.agencies])
    elif ch.action == "retire":
        conn.execute(statement(*SQL, "retire_category"), {"code": ch.code})
    else:
        conn.execute(statement(*SQL, "delete_category"), {"code": ch.code})


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)
