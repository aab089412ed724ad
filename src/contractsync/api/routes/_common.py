"""What every router shares: path parameters, paging, the documented answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel

from contractsync.api.errors import ERROR_RESPONSES

JSON = dict[str, Any]

IdPath = Annotated[str, Path(min_length=1, max_length=100)]
# No upper bound: an id bigger than any stored one is simply not found (404).
OperationIdPath = Annotated[int, Path(ge=1)]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000)]
PageSizeQuery = Annotated[int, Query(ge=1, le=200)]


Responses = dict[int | str, dict[str, Any]]


def answers(model: Any, status: int = 200) -> Responses:
    """`responses=` for a route: its success shape plus the error envelopes it can answer."""
    success: dict[str, Any] = {"description": "no content"} if model is None else {"model": model}
    return {status: success, **ERROR_RESPONSES}


def dump(body: BaseModel) -> JSON:
    """The body as the façade takes it: exactly the fields the client sent (null included)."""
    return body.model_dump(exclude_unset=True)


def given(body: BaseModel) -> JSON:
    """The validated values of the fields the client sent (null included), typed as validated,
    for a domain command's `build` (nested bodies are left to the route)."""
    return {name: getattr(body, name) for name in body.model_fields_set}
