"""Property tests of the input guard (app/web/hygiene.py) and the XML text filter (app/services/xmltext.py).

The guard decides from raw bytes and parsed values alone, so hypothesis can throw
arbitrary documents and text at it without a server.
"""

from __future__ import annotations

import json
import math
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.xmltext import xml_text
from app.web.hygiene import INT64, MAX_JSON_DEPTH, bad_character, json_depth_exceeds, json_problem

# Any code point, surrogates and controls included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
JSON_VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3)
                           | st.dictionaries(ANY_TEXT, kids, max_size=3), max_leaves=30)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int, inner: Any = 0) -> Any:
    value = inner
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@given(levels=st.integers(0, 80), inner=ANY_TEXT)
def test_depth_limit_is_exact(levels: int, inner: str):
    data = json.dumps(nested(levels, inner)).encode()
    assert json_depth_exceeds(data) == (levels > MAX_JSON_DEPTH)


@given(value=JSON_VALUES, limit=st.integers(0, 6))
def test_depth_agrees_with_the_parsed_document(value: Any, limit: int):
    for data in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")):
        assert json_depth_exceeds(data, limit) == (depth(value) > limit)


@given(junk=st.binary(max_size=200))
def test_depth_scan_never_fails_on_junk(junk: bytes):
    json_depth_exceeds(junk)
    json_depth_exceeds(b'"' + junk)


def test_hostile_body_is_judged_without_parsing():
    assert json_depth_exceeds(b"[" * 1_000_000)
    assert not json_depth_exceeds(b"[" + b'"[[[[",' * 10_000 + b"1]")


def _clean_char(c: str) -> bool:
    o = ord(c)
    return (c in "\t\n\r" or 0x20 <= o < 0x7F or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000)


@given(text=ANY_TEXT)
def test_free_text_rule(text: str):
    assert (bad_character(text, free_text=True) is None) == all(_clean_char(c) for c in text)
    assert (bad_character(text) is None) == all(_clean_char(c) and c not in "\t\n\r" for c in text)


def _expected_problem(value: Any) -> bool:
    if isinstance(value, str):
        return bad_character(value, free_text=True) is not None
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int):
        return abs(value) > INT64 + (value < 0)
    if isinstance(value, dict):
        return any(bad_character(k) is not None or _expected_problem(v) for k, v in value.items())
    return any(_expected_problem(v) for v in value)


@given(value=JSON_VALUES)
def test_json_problem_finds_exactly_the_bad_documents(value: Any):
    found = json_problem(value)
    assert (found is not None) == _expected_problem(value)
    if found is not None:
        field, reason = found
        assert field and reason


def test_json_problem_names_the_path():
    assert json_problem({"location": {"lat": math.inf}}) == ("location.lat", "must be a finite number")
    assert json_problem({"a": [1, {"b": "x\ud800"}]})[0] == "a[1].b"
    assert json_problem([2**63]) == ("[0]", "is out of range")
    assert json_problem({"n": -(2**63)}) is None


@settings(max_examples=300)
@given(text=ANY_TEXT)
def test_xml_text_always_parses_and_keeps_legal_text(text: str):
    clean = xml_text(text)
    doc = f'<a b="{escape(clean, {chr(34): "&quot;"})}">{escape(clean)}</a>'.encode("utf-8", "surrogatepass")
    root = ET.fromstring(doc)
    # The parser normalises CR and CRLF to LF in content and CR/LF/tab to space in attributes.
    assert (root.text or "") == clean.replace("\r\n", "\n").replace("\r", "\n")
    assert all(c in clean for c in text if _clean_char(c) or "\x7f" <= c <= "\x9f")
