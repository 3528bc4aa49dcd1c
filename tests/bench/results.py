"""Benchmarks write their figures here: bench/results.json, merged by section."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"


def full_run() -> bool:
    """`make bench` sets PETA112_BENCH_FULL=1; `make test` runs each benchmark as a quick smoke."""
    return os.environ.get("PETA112_BENCH_FULL") == "1"


def record(section: str, figures: dict[str, Any]) -> None:
    """Merge one section into bench/results.json (only on full runs, so smokes never overwrite)."""
    if not full_run():
        return
    data: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[section] = {
        **figures,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]
