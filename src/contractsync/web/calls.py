"""Calling the façade from async routes: in a worker thread, refusals turned into readable text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from contractsync.service.errors import ServiceError

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The façade blocks (database, Autotask over HTTP): keep it off the event loop, which also
    serves the API."""
    return await run_in_threadpool(fn, *args, **kwargs)


def refusal_text(error: ServiceError) -> str:
    """The façade's message plus any per-field details, as one sentence a person can act on."""
    text = error.message.strip() or error.code.replace("_", " ")
    details = error.details
    if isinstance(details, dict):
        parts = [f"{key}: {value}" for key, value in details.items() if value not in (None, "", [], {})]
        if parts:
            text += " (" + "; ".join(str(part) for part in parts) + ")"
    elif isinstance(details, list) and details:
        text += " (" + "; ".join(str(part) for part in details[:5]) + ")"
    elif isinstance(details, str) and details and details not in text:
        text += f" ({details})"
    return text
