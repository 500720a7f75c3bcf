"""The door's own limits, enforced before any route runs (an ASGI middleware).

* Load shedding: at most ``Settings.max_in_flight`` requests are worked on at once; the rest
  wait in one queue bounded by time (``Settings.max_queue_seconds``; ``api/admission.py``),
  and one it cannot take is answered 503 with ``Retry-After`` instead of queueing without
  bound.
* Auth before the body: a route that needs the token (every write; reads when
  ``open_reads`` is off) is refused 401/403 from its headers alone, before a byte of its
  body is read, so an anonymous client cannot make the server buffer or parse anything
  (the check runs when the route first asks for its body, so routing decides the route).
* URL size: a path plus query string past ``MAX_URL_BYTES`` is refused 414 (a 5 MB search
  query stalled the whole API for seconds).
* Body size: a ``Content-Length`` past ``Settings.max_body_bytes`` is refused 413 unread; a
  chunked body is counted as it arrives and refused at the first byte past the limit.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelgraph.api.admission import Admission
from reelgraph.api.auth import bearer_of, check_token, guard_of
from reelgraph.api.errors import RETRY_AFTER_S, Refused, error_response
from reelgraph.core import ReelgraphError, Settings

MAX_URL_BYTES = 16 * 1024


class TooLarge(ReelgraphError):
    status_code = 413


class UrlTooLong(ReelgraphError):
    status_code = 414


class Overloaded(ReelgraphError):
    status_code = 503


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"the request body is larger than this server's limit of {limit} bytes",
                    "send a smaller body (split a batch), or raise max_body_bytes "
                    "(REELGRAPH_MAX_BODY_BYTES) on the server")


class RequestLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.admission = Admission(settings.max_in_flight, settings.max_queue_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not await self.admission.enter():
            await error_response(Overloaded(
                f"the server is saturated: {self.admission.slots} requests are being worked "
                "on and the queue behind them is full",
                f"retry after {RETRY_AFTER_S} s (Retry-After); on a bigger machine run more "
                "workers (reelgraph serve --workers)"))(scope, receive, send)
            return
        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await error_response(refusal)(scope, receive, send)
                return
            await self.app(scope, self._guarded(scope, receive), send)
        finally:
            self.admission.leave()

    def _refusal(self, scope: Scope) -> ReelgraphError | None:
        """What can be refused before routing: an oversized URL or declared body."""
        if len(scope.get("raw_path") or b"") + len(scope["query_string"]) > MAX_URL_BYTES:
            return UrlTooLong(f"the URL is longer than {MAX_URL_BYTES} bytes",
                              "send shorter parameters (a search needs a few words)")
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            return too_large(self.settings.max_body_bytes)
        return None

    def _guarded(self, scope: Scope, receive: Receive) -> Receive:
        """``receive`` that, at its first call (the router has matched the route by then,
        its dependencies have not run), checks the route's token from the headers alone,
        then counts body bytes against the limit."""
        limit = self.settings.max_body_bytes
        seen = 0
        checked = False

        async def guarded() -> Message:
            nonlocal seen, checked
            if not checked:
                checked = True
                route = scope.get("route")
                guard = guard_of(route, self.settings) if isinstance(route, APIRoute) else None
                if guard is not None:
                    try:
                        check_token(self.settings, bearer_of(Headers(scope=scope)), guard)
                    except ReelgraphError as exc:
                        raise Refused(exc) from None
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise Refused(too_large(limit))
            return message

        return guarded
