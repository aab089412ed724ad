"""Accepting suggestions: each chosen one applied on its own, answered `mapped` or `refused`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractsync.service.errors import Invalid, ServiceError

JSON = dict[str, Any]


def apply_each(chosen: list[JSON], limit: int, apply: Callable[[JSON], Any]) -> list[JSON]:
    """Apply every chosen suggestion: each answered `mapped` or `refused` with the reason; one
    refusal does not stop the others."""
    if not isinstance(chosen, list) or len(chosen) > limit or not all(isinstance(i, dict) for i in chosen):
        raise Invalid(f"choose at most {limit} suggestions at a time")
    results = []
    for item in chosen:
        try:
            apply(item)
        except ServiceError as error:
            results.append(item | {"status": "refused", "error": error.message})
        else:
            results.append(item | {"status": "mapped", "error": None})
    return results
