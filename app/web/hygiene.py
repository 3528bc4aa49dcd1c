"""Input PostgreSQL cannot store is refused at the door, not deep inside a query.

A NUL character is valid JSON and a valid URL escape (%00) but PostgreSQL text
cannot hold it; without this check it surfaces as a 500 from whichever query
first sees it (the OpenAPI fuzz test found one in intake).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from app.web.problems import Problem


def _find_nul(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in str(k):
                return path or "body"
            found = _find_nul(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _find_nul(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _refuse_nul() -> None:
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise Problem(422, "Unprocessable Content", "NUL characters are not allowed", field=name)
    if "\x00" in request.path:
        raise Problem(422, "Unprocessable Content", "NUL characters are not allowed in the path", field="path")
    if request.is_json:
        field = _find_nul(request.get_json(silent=True), "")
        if field is not None:
            raise Problem(422, "Unprocessable Content", "NUL characters are not allowed", field=field or "body")


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
