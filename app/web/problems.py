"""RFC 9457 problem details for every error the HTTP API returns.

Clients (dispatch consoles, Open311 integrations) get one machine-readable
shape for every failure, with the offending field named where there is one.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from app.services.errors import ServiceError

PROBLEM_TYPE_BASE = "https://peta112.example/problems/"


class Problem(Exception):
    """Raise from a view or service to answer with problem details."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 field: str | None = None, type_: str | None = None, **extra: Any):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.type = type_
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type or "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.field:
            body["field"] = self.field
            body["errors"] = [{"field": self.field, "detail": self.detail or self.title}]
        with contextlib.suppress(RuntimeError):
            body["instance"] = request.path
        body.update(self.extra)
        return body


def problem_response(problem: Problem) -> Response:
    return Response(
        json.dumps(problem.to_dict()), status=problem.status, mimetype="application/problem+json"
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        return problem_response(Problem(exc.status, exc.title, exc.detail, field=exc.field))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem_response(Problem(exc.code or 500, exc.name, exc.description))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem_response(Problem(500, "Internal Server Error",
                                        "The server failed; the error has been logged."))
