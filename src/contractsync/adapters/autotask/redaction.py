"""Keeps credentials out of logs, exception texts and the stored request/response copies.

The API user name is redacted too: it is half of the credential pair and usually a person's
e-mail address, and nobody reading an audit record needs it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from contractsync.adapters.secrets import redact

REDACTED = "***"
#: Header names (lower case) whose values are never shown.
SENSITIVE_HEADERS = frozenset({"secret", "username", "apiintegrationcode", "authorization"})
#: Query parameters that carry the user name (zone discovery).
SENSITIVE_QUERY_PARAMS = frozenset({"user", "username", "secret"})


@dataclass(frozen=True)
class ExchangeRecord:
    """One HTTP exchange with Autotask, safe to store in the audit log."""

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: str | None
    status_code: int | None  # None when no answer came (timeout, reset)
    response_body: str | None
    error: str | None = None
    elapsed_seconds: float | None = field(default=None, compare=False)


def exchange_json(record: ExchangeRecord | None) -> dict[str, Any] | None:
    """An exchange as redacted JSON data for the outbox row (what the audit shows)."""
    if record is None:
        return None
    data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    safe = json.loads(
        json.dumps(data, default=lambda value: dict(value) if isinstance(value, Mapping) else str(value))
    )
    result: dict[str, Any] = redact(safe)
    return result


class Redactor:
    """Replaces every known secret value wherever it appears."""

    def __init__(self, secret_values: Iterable[str]) -> None:
        # As written and as they appear URL-encoded (the user name rides in zone discovery's
        # query); longest first, so a value that contains another is replaced whole.
        values = {form for v in secret_values if v for form in (v, quote(v, safe=""), quote_plus(v))}
        self._values = sorted(values, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            value = value.replace(secret, REDACTED)
        return value

    def optional_text(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if name.lower() in SENSITIVE_HEADERS else self.text(value)
            for name, value in headers.items()
        }

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.query:
            pairs = [
                (k, REDACTED if k.lower() in SENSITIVE_QUERY_PARAMS else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ]
            parts = parts._replace(query=urlencode(pairs, safe="*"))
        return self.text(urlunsplit(parts))


class RedactingLogFilter(logging.Filter):
    """Masks the user name that httpx's own INFO line shows in zone discovery's URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _mask_user_param(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_USER_PARAM = re.compile(r"([?&](?:user|username|secret)=)[^&\s\"']*", re.IGNORECASE)


def _mask_user_param(text: str) -> str:
    return _USER_PARAM.sub(r"\1" + REDACTED, text)


def install_log_filter() -> None:
    """Idempotent: attach the filter to httpx's logger once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
        logger.addFilter(RedactingLogFilter())
