"""``/openapi.json`` says what the server does: which operations need the token under these
settings (open reads carry no security requirement), and every status an operation can
answer with the one error body ``{error, problem, fix}`` (FastAPI's default 422 schema is
not what our handler sends).

The schema and ``/docs`` are open on every server, closed reads or not: they describe the
API, never stored data, and clients need them to know how to authenticate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from reelgraph.core import Settings

Json = dict[str, Any]

ERROR_SCHEMA: Json = {
    "title": "Error",
    "type": "object",
    "required": ["error", "problem", "fix"],
    "properties": {
        "error": {"type": "string", "description": "the error's class name"},
        "problem": {"type": "string", "description": "what is wrong"},
        "fix": {"type": "string", "description": "what to do about it"},
        "details": {"type": "array", "items": {"type": "object"},
                    "description": "one entry per invalid field (422 from validation)"},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Answers any operation may give, from the middleware (limits) and the error handlers.
EVERY_OPERATION = {
    "413": "the request body is larger than max_body_bytes",
    "414": "the URL is longer than the server's limit",
    "422": "invalid input: a parameter or body field is missing, mistyped or out of range",
    "503": "the server is saturated (every max_in_flight slot busy and its queue full: "
           "max_queue_seconds) or a store is unavailable: retry after Retry-After seconds",
}
GUARDED = {
    "401": "the bearer token is missing or wrong",
    "403": "the server has no API token configured",
}


def honest_openapi(app: FastAPI, settings: Settings) -> Callable[[], Json]:
    def openapi() -> Json:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = \
                ERROR_SCHEMA
            for path in schema["paths"].values():
                for operation in path.values():
                    # Writes carry the bearer scheme (auth.require_write); reads need it
                    # only on a server whose reads are closed.
                    _describe(operation, "security" in operation or not settings.open_reads)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _describe(operation: Json, guarded: bool) -> None:
    responses: Json = operation.setdefault("responses", {})
    expected = {**EVERY_OPERATION, **(GUARDED if guarded else {})}
    if guarded:
        operation["security"] = [{"HTTPBearer": []}]
    else:
        for status in GUARDED:
            responses.pop(status, None)
    for status, description in expected.items():
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            example = response.get("content", {}).get("application/json", {}).get("example")
            body: Json = {"schema": ERROR_REF}
            if example is not None:
                body["example"] = example
            response["content"] = {"application/json": body}
