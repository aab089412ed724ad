"""Counts and logs every request by route template and status (a pure ASGI middleware, so it
sees the final status of error answers too). Headers are never logged: they carry the token."""

from __future__ import annotations

import time
from urllib.parse import unquote_to_bytes

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contractsync.adapters.metrics import Metrics
from contractsync.api.errors import envelope
from contractsync.domain.bounds import control_character

log = structlog.get_logger("contractsync.api")

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/subscriptions/{subscription_id}`), never the raw
    path, so ids do not turn into metric labels. Routing leaves the route in the scope."""
    route = scope.get("route")
    return str(getattr(route, "path", UNMATCHED)) if route is not None else UNMATCHED


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # stays 500 if the app fails before answering

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            # Read from the app's state on each request, so whoever swaps the registry is heard.
            metrics: Metrics = scope["app"].state.metrics
            metrics.record_request(method, route, status, elapsed)
            log.info(
                "request", method=method, route=route, status=status, duration_ms=round(elapsed * 1000, 1)
            )


MAX_BODY_BYTES = 1_048_576


class LimitBody:
    """Valid bodies are small (a batch of 1,000 operations is ~150 kB): refuse larger ones (413)
    before they are parsed.

    A declared Content-Length is checked up front; a chunked body is counted as it arrives, and
    the HTTPException raised mid-read is answered by the app's own handler, in the envelope."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await envelope(413, "payload_too_large", self._message)(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, self._message)
            return message

        await self.app(scope, counting, send)

    @property
    def _message(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"


class RefuseControlCharacters:
    """Ids in paths and query strings never hold control characters (NUL would reach
    PostgreSQL and fail there): such a request is refused (422) before any route runs, for the
    API and the console alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = bytes(scope.get("query_string") or b"").replace(b"+", b" ")
            query = unquote_to_bytes(raw).decode("utf-8", "replace") if raw else ""
            for where, text in (("path", str(scope.get("path", ""))), ("query", query)):
                # Printable ASCII (most requests) holds no control character: no look-up per character.
                found = None if text.isascii() and text.isprintable() else control_character(text)
                if found is not None:
                    message = (
                        f"the request {where} must not contain control characters (found U+{ord(found):04X})"
                    )
                    await envelope(422, "invalid", message)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
