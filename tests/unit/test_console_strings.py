"""Every unit kind the demo city fields has a name in both languages, and both dictionaries of the
console hold the same keys (but the server's problem texts): a missing key shows a raw code
(``pln_crew``) to the call-taker."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRINGS = ROOT / "static" / "js" / "console" / "strings.js"


def _dictionaries() -> tuple[set[str], set[str]]:
    text = STRINGS.read_text(encoding="utf-8")
    id_part, en_part = text.split("const EN = {", 1)
    keys = re.compile(r'"([a-z_]+\.[a-z0-9_.]+)"\s*:')
    return set(keys.findall(id_part)), set(keys.findall(en_part))


def test_both_languages_have_the_same_keys() -> None:
    """Only the server's problem texts are translated one way: in English the server's own text is shown."""
    id_keys, en_keys = _dictionaries()
    assert id_keys and en_keys <= id_keys, sorted(en_keys - id_keys)
    assert sorted(k for k in id_keys - en_keys if not k.startswith("err.")) == []


def test_every_demo_unit_kind_has_a_name() -> None:
    source = (ROOT / "geodata" / "demo" / "stations.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'\("([a-z_]+)", \d+\)', source))
    assert len(kinds) > 10
    id_keys, _ = _dictionaries()
    missing = sorted(k for k in kinds if f"kind.{k}" not in id_keys)
    assert missing == []
