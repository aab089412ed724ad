"""Builders for Autotask query filters ({"op", "field", "value"} and and/or groups)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from contractsync.adapters.autotask.wire import format_date

Filter = dict[str, Any]


def _value(value: object) -> object:
    return format_date(value) if isinstance(value, date) else value


def condition(op: str, field: str, value: object) -> Filter:
    return {"op": op, "field": field, "value": _value(value)}


def eq(field: str, value: object) -> Filter:
    return condition("eq", field, value)


def gte(field: str, value: object) -> Filter:
    return condition("gte", field, value)


def lte(field: str, value: object) -> Filter:
    return condition("lte", field, value)


def one_of(field: str, values: Iterable[object]) -> Filter:
    return {"op": "in", "field": field, "value": [_value(v) for v in values]}


def any_of(*items: Filter) -> Filter:
    return {"op": "or", "items": list(items)}


def everything() -> Filter:
    """Autotask needs at least one condition; this is the usual "all rows" idiom."""
    return gte("id", 0)
