"""The agencies and categories seeded by migration 0002, read from the migration itself.

The generator runs without a database (unit tests, notebooks) yet must use the
exact category codes, routing rules and response plans the database holds; the
migration file is their single source, so it is imported rather than copied.
``load`` checks that the target database still has every code used.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.db import MIGRATIONS_DIR

SEED_MIGRATION = MIGRATIONS_DIR / "versions" / "0002_seed_agencies_categories.py"


@dataclass(frozen=True)
class Category:
    code: str
    priority: int
    target_s: int
    emergency: bool
    agencies: tuple[tuple[str, str], ...]  # (agency code, 'primary' | 'support')
    plan: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Catalog:
    agencies: tuple[str, ...]
    categories: dict[str, Category]


@lru_cache(maxsize=1)
def seed_catalog() -> Catalog:
    spec = importlib.util.spec_from_file_location("peta112_seed_0002", SEED_MIGRATION)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the code
        raise RuntimeError(f"cannot read {SEED_MIGRATION}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cats = {c[0]: Category(code=c[0], priority=c[3], target_s=c[4], emergency=c[5], agencies=tuple(c[6]),
                           plan=tuple(c[7]))
            for c in mod.CATEGORIES}
    return Catalog(agencies=tuple(a[0] for a in mod.AGENCIES), categories=cats)
