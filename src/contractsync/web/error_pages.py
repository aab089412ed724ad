"""Errors on console pages are answered as pages (404, 405, 400/422, 500), in the console's own
look; the API's paths keep their JSON envelope.

`install(app)` wraps the handlers the API installed: a request to an API path goes to them, any
other path gets a page.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from contractsync.routing import http_error_headers
from contractsync.web.context import SECURITY_HEADERS, render

log = structlog.get_logger(__name__)

API_PATHS = ("/healthz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

_TITLES = {
    400: "Bad request",
    404: "Page not found",
    405: "Not allowed here",
    422: "Not accepted",
    500: "Something went wrong",
}
_MESSAGES = {
    400: "This request could not be understood. Nothing was changed.",
    404: "There is no page at this address. It may have moved, or the link is mistyped.",
    405: "This page cannot be used that way (the browser sent a method it does not answer).",
    422: "Something in this request is not valid. Nothing was changed. Go back and check the values.",
    500: "The console hit an unexpected error; nothing more was changed. The details are in the "
    "server log. Try again, and tell your administrator if it keeps happening.",
}


def is_api_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/") or path in API_PATHS


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    title = _TITLES.get(status, "Request refused")
    message = _MESSAGES.get(status, "This request was refused. Nothing was changed.")
    try:
        response = render(request, "refused.html", {"page": "", "title": title, "message": message}, status)
    except Exception:  # the page itself failed (e.g. the database is down): plain, but still HTML
        response = HTMLResponse(
            f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(message)}</p>",
            status_code=status,
            headers=SECURITY_HEADERS,
        )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _for_console(api_handler: Handler | None, page: Callable[[Request, Any], Response]) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        if not is_api_path(request.url.path):
            return page(request, exc)
        if api_handler is None:
            return PlainTextResponse("Internal Server Error", status_code=500)
        answer = api_handler(request, exc)
        return await answer if isinstance(answer, Awaitable) else answer

    return handle


def _http_page(request: Request, exc: Any) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, http_error_headers(request, exc))


def _invalid_page(request: Request, _: Any) -> Response:
    return error_page(request, 422)


def _crash_page(request: Request, exc: Any) -> Response:
    log.error("unhandled_error", method=request.method, path=request.url.path, exc_info=exc)
    return error_page(request, 500)


def install(app: FastAPI) -> None:
    handlers = app.exception_handlers
    for kind, page in (
        (HTTPException, _http_page),
        (RequestValidationError, _invalid_page),
        (Exception, _crash_page),
    ):
        app.add_exception_handler(kind, _for_console(handlers.get(kind), page))
