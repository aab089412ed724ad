"""What the app's routing says about a request, shared by the API's and the console's error answers.

Both answer a 405 with an `Allow` header listing every method the path answers; this module is
below both in the layers contract, so neither imports the other.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match

_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def http_error_headers(request: Request, exc: HTTPException) -> dict[str, str]:
    """The exception's headers; for a 405, `Allow` lists every method the path answers (Starlette
    names only those of the first route that matched the path, one of several)."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        methods = allowed_methods(request)
        if methods:
            headers["Allow"] = ", ".join(methods)
    return headers


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers on this path: each one is tried against the app's routing
    (which also sees routers included into others)."""
    found = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            found.append(method)
    return found
