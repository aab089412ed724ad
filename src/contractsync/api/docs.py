"""/docs (Swagger UI) and /openapi.json, as the operator chose (CONTRACTSYNC_API_DOCS):

- `on`: open to anyone who reaches the port;
- `auth` (the default): `/openapi.json` answers a valid API token (admin or reseller) or a
  signed-in console session; `/docs` answers a signed-in console session (the page then loads the
  document with the session's cookie) and otherwise sends the browser to sign in first
  (401 when no console is mounted);
- `off`: neither exists (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response

from contractsync.api.errors import envelope
from contractsync.service.errors import ServiceError

DocsMode = Literal["on", "auth", "off"]
OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"

#: app.state.console_viewer(request) → True when a console session is signed in; set by the
#: console when it is mounted (the API does not know about cookies).
ConsoleViewer = Callable[[Request], bool]


def _console_viewer(request: Request) -> bool:
    viewer: ConsoleViewer | None = getattr(request.app.state, "console_viewer", None)
    return viewer is not None and viewer(request)


def _token_holder(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        request.app.state.service.authenticate(token.strip())
    except ServiceError:
        return False
    return True


def _refused() -> Response:
    return envelope(401, "unauthorized", "the API documentation needs an API token or a console sign-in")


def install_docs(app: FastAPI, mode: DocsMode) -> None:
    """For `auth`; `on` and `off` are FastAPI's own `openapi_url` / `docs_url` (see create_api)."""
    if mode != "auth":
        return

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_document(request: Request) -> Response:
        if not (_console_viewer(request) or _token_holder(request)):
            return _refused()
        return JSONResponse(app.openapi())

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui(request: Request) -> Response:
        if _console_viewer(request):
            return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{app.title} — API")
        if getattr(request.app.state, "console_viewer", None) is not None:
            return RedirectResponse(f"/signin?next={quote(DOCS_PATH)}", status_code=303)
        return _refused()
