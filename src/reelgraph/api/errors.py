"""Every error leaves the API as a 4xx JSON body ``{"error", "problem", "fix"}``.

``ReelgraphError`` subclasses carry their own status and message. Request validation errors
(malformed JSON, a missing or mistyped field) and unknown routes are rewritten into the same
shape, so a client needs one error reader.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from reelgraph.core import ReelgraphError, Unavailable

RETRY_AFTER_S = 1  # what a 503 asks the client to wait

ERROR_EXAMPLE = {
    "error": "InvalidInput",
    "problem": "unknown node kind 'modle'",
    "fix": "use one of ['dataset', 'feature', 'model', ...] or register it first",
}


def error_body(error: str, problem: str, fix: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "problem": problem, "fix": fix, **extra}


def error_response(exc: ReelgraphError) -> JSONResponse:
    headers = {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"  # which scheme to use (RFC 9110)
    if exc.status_code == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


class Refused(HTTPException):
    """A ``ReelgraphError`` raised while FastAPI reads a body, which turns every exception
    but an ``HTTPException`` into a bare 400."""

    def __init__(self, error: ReelgraphError) -> None:
        super().__init__(error.status_code, error.problem)
        self.error = error


def _reelgraph_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReelgraphError)
    return error_response(exc)


def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    """A read that met a transient database failure (a store that does not map its own)."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1]
    return error_response(Unavailable(
        f"the metadata database did not answer ({''.join(reason)})",
        "retry shortly; if it persists, check that the database is running and reachable"))


def _where(loc: tuple[int | str, ...]) -> str:
    """``('query', 'depth')`` -> "query parameter 'depth'"; body paths are dotted."""
    if not loc:
        return "the request"
    place, *path = loc
    name = ".".join(str(p) for p in path)
    if place == "body":
        return f"body field '{name}'" if name else "the request body"
    return f"{place} parameter '{name}'"


def _whole_body_wrong(error: dict[str, Any]) -> bool:
    """The body is not an object at all: a JSON list, or JSON sent without its content type."""
    return tuple(error["loc"]) == ("body",) and error.get("type") in _NOT_AN_OBJECT


_NOT_AN_OBJECT = {"model_attributes_type", "dict_type"}


def _fix_for(errors: list[dict[str, Any]]) -> str:
    kinds = {e.get("type") for e in errors}
    if "json_invalid" in kinds or any(_whole_body_wrong(e) for e in errors):
        return "send a valid JSON document with Content-Type: application/json (see /docs)"
    missing = [_where(tuple(e["loc"])) for e in errors if e.get("type") == "missing"]
    if missing and len(missing) == len(errors):
        return f"add the {', '.join(missing)} (see /docs for an example request)"
    return "correct the value(s) named in the problem; /docs shows each field's type and an example"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [dict(e) for e in exc.errors()]
    parts = []
    for e in errors:
        if e.get("type") == "json_invalid":
            detail = e.get("ctx", {}).get("error", "")
            parts.append(f"the request body is not valid JSON ({detail} at byte {e['loc'][-1]})")
        elif _whole_body_wrong(e):
            parts.append("the request body is not a JSON object")
        else:
            parts.append(f"{_where(tuple(e['loc']))}: {e.get('msg', 'is invalid')}")
    details = [{"loc": list(e["loc"]), "msg": e.get("msg", ""), "type": e.get("type", "")}
               for e in errors]
    body = error_body("InvalidInput", "; ".join(parts), _fix_for(errors), details=details)
    return JSONResponse(body, status_code=422)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, Refused):
        return error_response(exc.error)
    if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, say)
        return JSONResponse(error_body(
            "InvalidInput", f"the request body could not be read ({exc.detail})",
            "send a JSON document in UTF-8 with Content-Type: application/json"),
            status_code=422)
    if exc.status_code == 404:
        body = error_body("NotFound", f"there is no route {request.url.path}",
                          "see /docs or /openapi.json for the API's paths")
    elif exc.status_code == 405:
        body = error_body("MethodNotAllowed",
                          f"{request.method} is not allowed on {request.url.path}",
                          "see /docs for the methods each path accepts")
    else:
        body = error_body(type(exc).__name__, str(exc.detail), "see /docs")
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReelgraphError, _reelgraph_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
