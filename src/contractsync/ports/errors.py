"""Typed failures of the use cases (and of the adapters they call, e.g. a refused outbound URL);
the API maps them to HTTP, the CLI to exit codes. Part of the ports: adapters raise them too."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ServiceError):
    """Unknown id — and ids of another reseller, which a reseller token must not learn exist."""

    code = "not_found"
    http_status = 404


class Invalid(ServiceError):
    """Input of the wrong shape or type, or an operation the subscription's state refuses."""

    code = "invalid"
    http_status = 422


class Conflict(ServiceError):
    """The id exists already, or a concurrent change won the race."""

    code = "conflict"
    http_status = 409


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


class Unauthorized(ServiceError):
    code = "unauthorized"
    http_status = 401


class Unavailable(ServiceError):
    """A service we depend on could not be reached or refused us (Partner Center); retry later."""

    code = "unavailable"
    http_status = 503
