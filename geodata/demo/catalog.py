"""The demo city's agencies and categories, read from its catalog file (geodata/demo/catalog.toml).

The generator runs without a database (unit tests, notebooks) yet must use the
exact category codes, routing rules and response plans the database holds; the
demo city's catalog file is their single source (``peta112 demo`` applies it, and a
test proves it says what the migrations seed), so it is read rather than copied.
``load`` checks that the target database still has every code used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.city import catalog as city_catalog

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.toml"


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
    cat = city_catalog.load(CATALOG_FILE)
    cats = {c.code: Category(code=c.code, priority=c.priority, target_s=c.target_response_s,
                             emergency=c.is_emergency, agencies=c.agencies, plan=c.plan)
            for c in cat.categories.values()}
    return Catalog(agencies=tuple(cat.agencies), categories=cats)
