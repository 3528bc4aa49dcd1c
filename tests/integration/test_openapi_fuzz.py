"""Contract test: schemathesis generates requests from /openapi.json and checks every answer.

For every GET operation (but the SSE stream, which never ends) and for
``POST /api/v1/incidents`` it sends a bounded, deterministic set of generated
requests (hypothesis ``derandomize``) to the app, in-process over WSGI, on a
committed scratch database seeded with the tiny city, and fails on any 5xx, a
response that does not match its documented schema, or an undocumented
content type.  A failure names the operation and prints a curl line to replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from app import create_app
from tests import tinycity, users
from tests.scratch import scratch_database

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SKIP_PATHS = {"/api/v1/stream"}  # an endless text/event-stream; covered by tests/integration/test_stream.py
POSTS = {"/api/v1/incidents"}


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


def _fuzz(op: Any) -> int:
    """Run the bounded, deterministic examples of one operation; return how many were sent."""
    count = 0

    @given(case=op.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        nonlocal count
        count += 1
        case.call_and_validate(checks=CHECKS, headers=users.auth("admin"))

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
            examples[label] = _fuzz(op)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report all at once
            failures.append(f"{label}: {str(exc)[:1500]}")
    total = sum(examples.values())
    print(f"\nschemathesis: {len(operations)} operations, {total} generated requests")
    assert not failures, "\n\n".join(failures)
    assert total >= len(operations) * 5
