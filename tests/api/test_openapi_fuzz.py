"""Schemathesis against the app's own ``/openapi.json``, in process (ASGI, no port): every
operation, with valid and invalid inputs, as a token holder. No answer may be a 5xx other
than a documented 503, and every answer must match the schema: a documented status, the
documented content type, a body of the documented shape. A bounded number of examples per
operation keeps the run near a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from graph_api_data import AUTH, TOKEN, seed
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph

pytestmark = pytest.mark.slow

EXAMPLES = 8  # per operation and generation mode


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    home = tmp_path_factory.mktemp("fuzz")
    graph = Graph.open(f"sqlite:///{home / 'graph.db'}")
    seed(graph)
    config = Settings(home=home, api_token=TOKEN, media_roots=(str(home / "media"),))
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(config, graph))
    finally:
        graph.close()


def no_crash(_ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    """No 5xx but a 503 that says when to retry (no model deployed, a store down,
    saturation); schemathesis' own not_a_server_error refuses every 5xx."""
    if response.status_code >= 500:
        assert response.status_code == 503, f"{response.status_code}: {response.text[:500]}"
        assert response.headers.get("retry-after"), "a 503 without Retry-After"


CHECKS = [no_crash, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> None:  # type: ignore[type-arg]
    # schemathesis' pytest plugin does not run under this pytest, so Hypothesis drives each
    # operation's strategy directly.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    def call(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    call()


def test_every_answer_is_documented_and_never_a_crash(
        api_schema: schemathesis.BaseSchema) -> None:
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40  # the whole API, not an empty schema
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode)
            except Unsatisfiable:  # no input to make invalid (an operation without any)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
