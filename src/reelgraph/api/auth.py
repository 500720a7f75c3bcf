"""Bearer-token checks: writes always need ``Settings.api_token``; reads only when
``Settings.open_reads`` is off.

A server without a token refuses every write rather than accepting anyone's, and says how to
set one. Tokens are compared in constant time so timing reveals nothing about them.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
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


def _check(settings: Settings, credentials: HTTPAuthorizationCredentials | None, what: str
           ) -> None:
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
    _check(get_settings(request), credentials, "writes")


async def require_read(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> None:
    settings = get_settings(request)
    if not settings.open_reads:
        _check(settings, credentials, "reads")
