"""Bearer-token checks: writes always need ``Settings.api_token``; reads only when
``Settings.open_reads`` is off.

A server without a token refuses every write rather than accepting anyone's, and says how to
set one. Tokens are compared in constant time so timing reveals nothing about them.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reelgraph.api.deps import get_settings
from reelgraph.core import ReelgraphError, Settings, Unauthorized

# auto_error=False: a missing header reaches our check, which answers in our error shape.
bearer = HTTPBearer(
    auto_error=False,
    description="The server's API token (REELGRAPH_API_TOKEN), sent as `Authorization: Bearer`.",
)


class WritesDisabled(ReelgraphError):
    """The server has no token configured, so no credential could be accepted."""

    status_code = 403


def check_token(settings: Settings, credentials: HTTPAuthorizationCredentials | None,
                what: str) -> None:
    if not settings.api_token:
        raise WritesDisabled(
            f"this server has no API token configured, so {what} over HTTP are refused",
            "set REELGRAPH_API_TOKEN (or api_token in $REELGRAPH_HOME/reelgraph.toml) to a long "
            "random secret, restart the server, and send it as 'Authorization: Bearer TOKEN'",
        )
    if credentials is None:
        raise Unauthorized(
            f"{what} need a bearer token and the request has none",
            "send the header 'Authorization: Bearer TOKEN' with the server's REELGRAPH_API_TOKEN",
        )
    if not hmac.compare_digest(
        credentials.credentials.encode("utf-8"), settings.api_token.encode("utf-8")
    ):
        raise Unauthorized(
            "the bearer token is not this server's API token",
            "send the token the server was started with (REELGRAPH_API_TOKEN)",
        )


# Async on purpose: FastAPI runs a sync dependency on its thread pool, a hop that costs
# more than the check itself on every request.
async def require_write(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> None:
    check_token(get_settings(request), credentials, "writes")


# The header is read here, not through ``bearer``: the schema then marks only writes as
# needing the token, and ``openapi.py`` marks reads too on a server whose reads are closed.
async def require_read(request: Request) -> None:
    settings = get_settings(request)
    if not settings.open_reads:
        check_token(settings, bearer_of(request.headers), "reads")


def bearer_of(headers: Mapping[str, str]) -> HTTPAuthorizationCredentials | None:
    """The credentials of an ``Authorization: Bearer TOKEN`` header, if there is one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())


Guard = Literal["writes", "reads"]


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def guard_of(route: APIRoute, settings: Settings) -> Guard | None:
    """What the token guards on this route under these settings: "writes", "reads" (only
    while ``open_reads`` is off) or nothing. The middleware asks, to refuse before the
    body is read."""
    calls = _calls(route.dependant)
    if require_write in calls:
        return "writes"
    if require_read in calls and not settings.open_reads:
        return "reads"
    return None
