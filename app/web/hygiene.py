"""Hostile input is refused at the door: before authentication, before any parsing a view does.

Each of these once reached a query or a parser and came back as a 500 (found by the
OpenAPI fuzz run and a penetration test, issue 14):

- a deeply nested JSON body: Python's json parser recurses once per level and a
  10 KB body of ``[[[[...`` raises RecursionError, which no view expects;
- NUL (PostgreSQL text cannot hold it) and lone surrogates such as ``"\\ud800"``
  (valid JSON, but not encodable as UTF-8 for the database);
- control characters, which PostgreSQL stores but XML 1.0 cannot carry, so one
  of them in a note broke the public CAP feed;
- ``1e400`` / ``NaN`` (Python reads them as inf/nan) and integers beyond bigint.

So every request is checked once here: the body size, JSON nesting depth (counted on
the raw bytes, before parsing), then every text a view may read (path, query
arguments, JSON keys and strings, form fields, the headers we store) and every JSON
number.  Free text (JSON string values, form values) may hold tab, newline and
carriage return; names, paths and query values may not.  A refusal is 413/422
problem details naming the field.  The pure functions below are what the
hypothesis tests in tests/unit/test_hygiene.py exercise.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from app.web.problems import Problem

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
INT64 = 2**63 - 1
# Characters no field may hold: C0/C1 controls, DEL, surrogates and the two noncharacters XML 1.0 excludes.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Free text may also hold tab, newline and carriage return.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A JSON string literal (with escapes), removed before counting brackets.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
# Headers whose value a view stores or compares: printable ASCII only.
CHECKED_HEADERS = ("Idempotency-Key", "X-CSRF-Token")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")


def bad_character(value: str, free_text: bool = False) -> str | None:
    """A description of the first character ``value`` may not hold, or None when it is clean."""
    m = (_BAD_TEXT if free_text else _BAD_NAME).search(value)
    if m is None:
        return None
    ch = m.group()
    kind = "surrogate" if "\ud800" <= ch <= "\udfff" else "control character" if ch < "\ufffe" else "noncharacter"
    return f"{kind} U+{ord(ch):04X}"


def json_depth_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit`` (brackets inside strings do not count).

    Works on the raw bytes without recursion, and stops at the first level too deep,
    so a hostile body costs microseconds.  Malformed text is judged as written.
    """
    depth = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub(b"", data)):
        if m.group() in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(0, depth - 1)
    return False


def json_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field, reason) of the first value a view must not see in a parsed JSON document, else None.

    Strings: no controls but tab/newline/CR, no surrogates; keys: no controls at all;
    numbers: finite floats, integers within bigint.  The caller bounds the depth.
    """
    if isinstance(value, str):
        bad = bad_character(value, free_text=True)
        return (path or "body", f"{bad} is not allowed") if bad else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "body", "must be a finite number")
    if isinstance(value, int):
        return None if -INT64 - 1 <= value <= INT64 else (path or "body", "is out of range")
    if isinstance(value, dict):
        for k, v in value.items():
            bad = bad_character(k)
            if bad:
                return (path or "body", f"{bad} is not allowed in a member name")
            found = json_problem(v, f"{path}.{k}" if path else k)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = json_problem(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _refuse(field: str, reason: str, status: int = 422) -> Problem:
    title = "Content Too Large" if status == 413 else "Unprocessable Content"
    return Problem(status, title, f"{field}: {reason}", field=field)


def _check_names() -> None:
    bad = bad_character(request.path)
    if bad:
        raise _refuse("path", f"{bad} is not allowed in the path")
    for name, value in request.args.items(multi=True):
        bad = bad_character(name) or bad_character(value)
        if bad:
            raise _refuse(name if not bad_character(name) else "query", f"{bad} is not allowed")
    for name in CHECKED_HEADERS:
        value = request.headers.get(name)
        if value is not None and not _PRINTABLE_ASCII.match(value):
            raise _refuse(name, "only printable ASCII characters are allowed")


def _check_body() -> None:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise _refuse("body", f"the body may be at most {MAX_BODY_BYTES} bytes", 413)
    if request.is_json:
        data = request.get_data(cache=True)  # 413 from MAX_CONTENT_LENGTH when a chunked body is larger
        if not data:
            return
        if json_depth_exceeds(data):
            raise _refuse("body", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")
        found = json_problem(request.get_json(silent=True))  # parsed once, cached for the view
        if found:
            raise _refuse(*found)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            bad = bad_character(name) or bad_character(value, free_text=True)
            if bad:
                raise _refuse(name if not bad_character(name) else "body", f"{bad} is not allowed")


def check_request() -> None:
    """The door: runs before every other before-request function (authentication included)."""
    _check_names()
    _check_body()


class BigintConverter(IntegerConverter):
    """``<int:...>`` in every route: an id beyond bigint matches no route (404) instead of failing a query."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", INT64)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: the converter applies to rules added afterwards."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.converters["int"] = BigintConverter
    app.before_request(check_request)
