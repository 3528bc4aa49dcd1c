"""Contract and hostile-input tests: schemathesis generates requests from /openapi.json.

Two runs, both bounded and deterministic (hypothesis ``derandomize``), in-process
over WSGI on a committed scratch database seeded with the tiny city:

- conformance: every GET operation (but the SSE stream, which never ends) and
  ``POST /api/v1/incidents``, signed in as admin with valid data, fails on a 5xx,
  a response that does not match its documented schema, or an undocumented
  content type;
- no 5xx: every operation (unsafe methods included), as admin and anonymous, with
  valid and with negative data (values that break the schema: wrong types, out of
  range, missing or extra fields), fails on any 5xx (issue 14: hostile input never
  makes a 500).

A failure names the operation and prints a curl line to replay.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from app import create_app
from tests import tinycity, users
from tests.scratch import scratch_database

MAX_EXAMPLES = 25
HOSTILE_EXAMPLES = 20  # per operation, mode and identity: about 3,000 requests in all
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SKIP_PATHS = {"/api/v1/stream"}  # an endless text/event-stream; covered by tests/integration/test_stream.py
POSTS = {"/api/v1/incidents"}
# Each request builds a whole report (two matplotlib charts and a folium map, about a second on the tiny
# city): a few examples cover its four parameters without adding minutes to the suite.
FEW_EXAMPLES = {"/api/v1/analytics/weekly-report": 5}


@pytest.fixture(scope="module")
def fuzz_app(cluster, base_settings) -> Iterator[Any]:
    with scratch_database(cluster, "peta112_fuzz", seed=tinycity.seed) as url:
        application = create_app(base_settings.with_overrides(database_url=url, open311_keys=("fuzz-key",)))
        try:
            yield application
        finally:
            application.extensions["peta112.engine"].dispose()


def _selected(schema: Any) -> list[Any]:
    ops = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIP_PATHS:
            continue
        if op.method.upper() == "GET" or (op.method.upper() == "POST" and op.path in POSTS):
            ops.append(op)
    return ops


def _fuzz(op: Any, mode: GenerationMode = GenerationMode.POSITIVE, headers: dict[str, str] | None = None,
          checks: list[Any] = CHECKS, max_examples: int = MAX_EXAMPLES) -> int:
    """Run the bounded, deterministic examples of one operation; return how many were sent."""
    count = 0

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=max_examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        nonlocal count
        count += 1
        case.call_and_validate(checks=checks, headers=headers)

    run()
    return count


def test_every_get_and_intake_conforms_to_the_openapi_document(fuzz_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    operations = _selected(schema)
    labels = {f"{o.method.upper()} {o.path}" for o in operations}
    assert {"GET /api/v1/incidents", "POST /api/v1/incidents", "GET /healthz", "GET /api/v1/collections",
            "GET /open311/v2/requests.{fmt}", "GET /api/v1/collections/{collection_id}/items"} <= labels
    examples: dict[str, int] = {}
    failures: list[str] = []

    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        try:
            examples[label] = _fuzz(op, headers=users.auth("admin"),
                                    max_examples=FEW_EXAMPLES.get(op.path, MAX_EXAMPLES))
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report all at once
            failures.append(f"{label}: {str(exc)[:1500]}")
    total = sum(examples.values())
    print(f"\nschemathesis: {len(operations)} operations, {total} generated requests")
    assert not failures, "\n\n".join(failures)
    assert total >= len(operations) * 5


def test_no_operation_answers_5xx_to_anonymous_or_hostile_requests(fuzz_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path not in SKIP_PATHS]
    assert len({o.method.upper() for o in operations}) >= 4  # GET, POST, PATCH, PUT, DELETE
    runs = [(GenerationMode.NEGATIVE, "admin"), (GenerationMode.NEGATIVE, None), (GenerationMode.POSITIVE, None),
            (GenerationMode.POSITIVE, "admin")]
    sent = 0
    failures: list[str] = []
    started = time.monotonic()
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        for mode, role in runs:
            if mode is GenerationMode.POSITIVE and role and op.method.upper() == "GET":
                continue  # the conformance test above covers these
            try:
                sent += _fuzz(op, mode, users.auth(role) if role else None, [not_a_server_error],
                              FEW_EXAMPLES.get(op.path, HOSTILE_EXAMPLES))
            except Unsatisfiable:  # nothing to break: no parameters and no body
                continue
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report all at once
                failures.append(f"{label} ({mode.value}, {role or 'anonymous'}): {str(exc)[:1500]}")
            # Account operations may revoke the admin's token, lock or disable a test user: undo that, so the
            # operations after them still run signed in.
            with fuzz_app.extensions["peta112.engine"].begin() as conn:
                users.seed(conn)
    print(f"\nschemathesis hostile run: {len(operations)} operations, {sent} requests, "
          f"{time.monotonic() - started:.0f} s")
    assert not failures, "\n\n".join(failures)
    assert sent >= len(operations) * 10
