"""Property-based fuzzing of the workspace's JSON API from its own OpenAPI document
(schemathesis): every operation the document lists, as a signed-in lead and as a signed-in
reviewer (session cookie and X-CSRF-Token on every call), must never answer with a 5xx, and
a 2xx answer must match the response schema the document declares. Routes added later are
fuzzed as soon as they appear in the document."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from srma.web.app import create_app
from test_web import PASSWORD, project, sign_in  # noqa: F401  (the project fixture)

EXAMPLES = 25  # per operation and role: bounded, deterministic (derandomize)


@pytest.fixture
def app(project: Path):  # noqa: F811
    made = create_app(project, secret="fuzz-secret")
    yield made
    made.state.project.close()


def operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the OpenAPI document lists no operation"
    return found


def fuzz(operation, cookie: str, token: str) -> None:
    """``EXAMPLES`` generated requests to ``operation`` with the given session."""
    auth = {"X-CSRF-Token": token}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case) -> None:
        response = case.call(headers=auth, cookies={"srma_session": cookie})
        checks = [not_a_server_error]
        if 200 <= response.status_code < 300:
            checks.append(response_schema_conformance)
        case.validate_response(response, checks=checks, headers=auth)

    run()


@pytest.mark.parametrize("name", ["Cy", "Ana"])  # a lead, a reviewer
def test_every_operation_never_fails_on_the_server(app, name: str) -> None:
    found = operations(app)
    paths = {op.path for op in found}
    assert {"/api/login", "/api/decisions", "/api/records/{record_id}"} <= paths
    failures = []
    for operation in found:
        client, token = sign_in(app, name)
        try:
            fuzz(operation, client.cookies.get("srma_session"), token)
        except Exception as error:  # every operation is fuzzed; all failures reported at once
            notes = "\n".join(getattr(error, "__notes__", []))
            failures.append(f"{operation.method.upper()} {operation.path}: {error}\n{notes}")
    assert not failures, "\n\n".join(failures)
