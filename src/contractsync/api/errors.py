"""One error envelope for every refusal: `{"error": {"code", "message", "details"}}`.

FastAPI's own answers (request validation, unknown routes, wrong methods) are rewritten into the
same envelope, so a client handles exactly one error shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contractsync.api.answers import ErrorEnvelope
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.routing import http_error_headers
from contractsync.service.errors import ServiceError

log = structlog.get_logger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    501: "not_implemented",
    502: "psa_unavailable",
    503: "unavailable",
}

# The documented error answers, for `responses=` on routes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": HTTP_CODES[status]}
    for status in (400, 401, 403, 404, 409, 413, 422, 502, 503)
}


def envelope(status: int, code: str, message: str, details: object = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status, headers=headers
    )


def _where(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Never echo `input`: a refused body can hold a secret.
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in errors
    ]


def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return envelope(400, "bad_request", "the request body is not valid JSON")
    details = validation_details(errors)
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    message = f"{_where(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return envelope(422, "invalid", message, details)


def _on_service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return envelope(exc.http_status, exc.code, exc.message, exc.details)


def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = HTTP_CODES.get(status, "error")
    if status == 404 and exc.detail == "Not Found":
        message = f"no such route: {request.method} {request.url.path}"
    else:
        message = str(exc.detail)
    response = envelope(status, code, message)
    for name, value in http_error_headers(request, exc).items():
        response.headers[name] = value
    return response


# What an Autotask failure during a request means for the caller: a missing or refused Autotask
# record is about their input; bad stored credentials or an unreachable Autotask is a gateway
# problem, and throttling will pass.
_PSA_STATUS = {
    ErrorKind.NOT_FOUND: (404, "psa_not_found"),
    ErrorKind.REJECTED: (422, "psa_rejected"),
    ErrorKind.AUTH: (502, "psa_auth_failed"),
    ErrorKind.THROTTLED: (503, "psa_throttled"),
    ErrorKind.THREAD_THRESHOLD: (503, "psa_throttled"),
}


def _on_psa_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PsaError)
    status, code = _PSA_STATUS.get(exc.kind, (502, "psa_unavailable"))
    # PsaError messages never hold a secret (the connector's contract).
    response = envelope(status, code, f"Autotask: {exc.message}", {"kind": exc.kind.value})
    if status == 503:
        response.headers["Retry-After"] = "60"
    return response


def _on_not_implemented(_: Request, exc: Exception) -> JSONResponse:
    return envelope(501, "not_implemented", str(exc) or "not implemented yet")


def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The message stays generic: internals (SQL, connector errors) are for the log, not the client.
    log.error("unhandled_error", method=request.method, path=request.url.path, exc_info=exc)
    return envelope(500, "internal", "internal error; the details are in the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(PsaError, _on_psa_error)
    app.add_exception_handler(NotImplementedError, _on_not_implemented)
    app.add_exception_handler(Exception, _on_unexpected)
