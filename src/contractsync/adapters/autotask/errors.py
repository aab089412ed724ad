"""Turns an HTTP answer or a transport failure into the port's `PsaError`.

The one distinction that matters most: did Autotask certainly *not* apply the request
(REJECTED, THROTTLED, THREAD_THRESHOLD, TIMEOUT_BEFORE_SEND, AUTH, NOT_FOUND), or may it have
(SERVER_ERROR, TIMEOUT_AFTER_SEND)? Autotask answers business rejections with HTTP 500, so a
500 is only a rejection when its text says so; any other 5xx stays "outcome unknown".
"""

from __future__ import annotations

import json
import re

import httpx

from contractsync.adapters.autotask.adjustments import refusal_of
from contractsync.ports.psa import ErrorKind, PsaError

#: Texts of 500 answers that mean "validated and refused, nothing written".
_REJECTION_PATTERNS = re.compile(
    r"unable to|duplicate|must be|required|invalid|not a valid|no \w+ entity with id|does not exist"
    r"|does not reference an existing entity|fewer than 0 units",
    re.IGNORECASE,
)
_THREAD_THRESHOLD = re.compile(r"thread threshold", re.IGNORECASE)
_WHITESPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
#: How much of an answer's error text an error message carries.
EXCERPT_LENGTH = 300
#: A page that is not Autotask's JSON (a proxy's HTML) says less per character: keep less of it.
PAGE_EXCERPT_LENGTH = 200


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """A short, single-line excerpt of an answer's text: control characters and line breaks
    become one space, and a long text is cut (with "…")."""
    line = _WHITESPACE.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def error_messages(body: str) -> list[str]:
    """The texts of an error body; empty when there is none.

    Autotask's own failures answer `{"errors": [...]}`; ASP.NET's routing answers (405 for a
    route's unsupported method, some 404s) `{"Message": "..."}`; a proxy in front may answer
    HTML or plain text, kept as a short excerpt so the error says what came back."""
    parsed = _parse(body)
    if parsed is _NOT_JSON:
        return [excerpt(body, PAGE_EXCERPT_LENGTH)] if body.strip() else []
    errors = _errors_of(parsed)
    if errors:
        return errors
    if isinstance(parsed, dict):
        message = parsed.get("Message", parsed.get("message"))
        return [str(message)] if isinstance(message, str) and message else []
    return [excerpt(body, PAGE_EXCERPT_LENGTH)] if parsed not in (None, "") else []


def autotask_errors(body: str) -> list[str]:
    """Only the `{"errors": [...]}` texts of a body (Autotask's own words)."""
    parsed = _parse(body)
    return [] if parsed is _NOT_JSON else _errors_of(parsed)


_NOT_JSON = object()


def _parse(body: str) -> object:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return _NOT_JSON


def _errors_of(parsed: object) -> list[str]:
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if isinstance(errors, list):
        return [str(e) for e in errors]
    return [errors] if isinstance(errors, str) else []


def classify_response(status_code: int, body: str, *, what: str) -> PsaError:
    """An unsuccessful HTTP answer as a PsaError. `body` must already be redacted."""
    messages = error_messages(body)
    detail = excerpt("; ".join(messages)) or f"HTTP {status_code} without an error text"
    # Only Autotask's own `errors` texts decide a kind: a proxy's HTML page that happens to say
    # "invalid" must not turn an unknown outcome into a rejection.
    text = "; ".join(autotask_errors(body))

    if 300 <= status_code < 400:
        # Redirects are never followed (they would carry the credentials elsewhere), and a
        # redirected create may or may not have been applied.
        return PsaError(
            ErrorKind.SERVER_ERROR, f"{what}: HTTP {status_code} redirect, not followed", status_code
        )
    if status_code in (401, 403):
        return PsaError(ErrorKind.AUTH, f"{what}: credentials refused (HTTP {status_code})", status_code)
    if status_code == 404:
        return PsaError(ErrorKind.NOT_FOUND, f"{what}: {detail}", status_code)
    if status_code == 405:
        # The route does not take this method: refused before anything ran (a connector bug).
        return PsaError(ErrorKind.REJECTED, f"{what}: HTTP 405: {detail}", status_code)
    if status_code == 429 or _THREAD_THRESHOLD.search(text):
        kind = ErrorKind.THREAD_THRESHOLD if _THREAD_THRESHOLD.search(text) else ErrorKind.THROTTLED
        return PsaError(kind, detail, status_code)
    if status_code == 500 and text and _REJECTION_PATTERNS.search(text):
        # Autotask's own words are kept as the message: they are what a billing manager reads.
        return PsaError(ErrorKind.REJECTED, excerpt(text), status_code, refusal_of(text))
    if status_code >= 500:
        return PsaError(ErrorKind.SERVER_ERROR, f"{what}: {detail} (outcome unknown)", status_code)
    if status_code == 408:
        return PsaError(ErrorKind.TIMEOUT_AFTER_SEND, f"{what}: {detail}", status_code)
    # Other 4xx: the request itself was refused before anything was written.
    return PsaError(
        ErrorKind.REJECTED,
        excerpt(text) or f"{what}: HTTP {status_code}: {detail}",
        status_code,
        refusal_of(text),
    )


def classify_transport_error(exc: httpx.TransportError, *, what: str) -> PsaError:
    """A failure without an HTTP answer. `what` must already be redacted.

    Only failures that happen before a single byte of the request can have reached Autotask
    (connect errors and timeouts, waiting for a pooled connection) are "before send"; a write
    or read failure may come after Autotask has received the request, so its outcome is unknown.
    """
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return PsaError(ErrorKind.TIMEOUT_BEFORE_SEND, f"{what}: {name} before sending")
    if isinstance(exc, httpx.TimeoutException):
        return PsaError(ErrorKind.TIMEOUT_AFTER_SEND, f"{what}: {name}, no answer (outcome unknown)")
    return PsaError(ErrorKind.TIMEOUT_AFTER_SEND, f"{what}: {name}, connection lost (outcome unknown)")
