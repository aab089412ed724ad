"""structlog as JSON lines: timestamp, level, event, plus whatever is bound (e.g. operation_id).

The standard library's records (uvicorn, SQLAlchemy, the worker's `logging.getLogger`) go through
the same processors, so a process writes one format. A redaction step drops secrets and
Authorization headers by key, wherever they appear in an event, before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "***"
# Matched case-insensitively against event keys (and keys of nested dicts).
SECRET_KEYS = frozenset(
    {"secret", "password", "token", "authorization", "api_key", "apiintegrationcode", "cookie", "secret_key"}
)


@lru_cache(maxsize=4096)  # keys are the code's own names: a few hundred at most
def _is_secret_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return lowered in SECRET_KEYS or lowered.endswith(("_secret", "_token", "_password"))


#: values with nothing inside to redact (most of a log line's): answered as they are, at once
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _scrub(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _is_secret_key(k) else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: secret-looking keys lose their values, at any depth."""
    return {
        k: REDACTED if _is_secret_key(k) else v if type(v) in _PLAIN else _scrub(v)
        for k, v in event_dict.items()
    }


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


class _NamedWriter(structlog.WriteLogger):
    """Writes rendered lines to a stream, with the name `add_logger_name` reads."""

    def __init__(self, stream: TextIO, name: str | None) -> None:
        super().__init__(stream)
        self.name = name


def configure_logging(json: bool = True, level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Idempotent; call once at process start (serve, worker, demo). `stream`: default stderr.

    Our own events are rendered and written by structlog itself (the API writes one per request:
    ~16 µs each this way, ~28 µs through the standard library's records and handler); the
    standard library's records (uvicorn, httpx, SQLAlchemy) go through a handler that renders
    them with the same processors, to the same stream."""
    stream = stream or sys.stderr
    shared = _shared_processors()
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=lambda *args: _NamedWriter(stream, str(args[0]) if args else None),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # No caching: module-level loggers must follow a later reconfiguration (the demo's
        # console format, structlog.testing.capture_logs in tests) instead of freezing the first.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    # No line shows the thread, process or task a record was made in: don't collect them for every
    # record (the logging HOWTO's "Optimization").
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    # uvicorn's access log prints request lines with its own handlers; ours (without headers) replaces it.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind values (e.g. `operation_id=…`) to every log line in this context, thread or task."""
    with structlog.contextvars.bound_contextvars(**values):
        yield
