"""Input checks shared by the use cases; every failure is `Invalid` naming the field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from contractsync.domain import bounds
from contractsync.domain.enums import parse_enum
from contractsync.domain.operations import InvalidInput, parse_date, parse_decimal, parse_int, parse_text
from contractsync.service.errors import Invalid

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

__all__ = ["Invalid", "check", "fields", "parse_date", "parse_decimal", "parse_int", "parse_text"]


def check(build: Callable[[], T]) -> T:
    """Run a parse, turning the domain's InvalidInput / ValueError into `Invalid`."""
    try:
        return build()
    except (InvalidInput, ValueError) as error:
        raise Invalid(str(error)) from None


def fields(body: Mapping[str, Any], required: set[str], optional: set[str]) -> None:
    if not isinstance(body, Mapping):
        raise Invalid("the body must be a JSON object")
    unknown = set(body) - required - optional
    if unknown:
        raise Invalid(f"{sorted(unknown)[0]} is not a known field", {"field": sorted(unknown)[0]})
    missing = required - set(body)
    if missing:
        raise Invalid(f"{sorted(missing)[0]} is required", {"field": sorted(missing)[0]})


def enum(kind: type[E], value: object, field: str) -> E:
    return check(lambda: parse_enum(kind, value, field))


def text(value: object, field: str, max_length: int = 200) -> str:
    return check(lambda: parse_text(value, field, max_length))


def optional_text(value: object, field: str, max_length: int = 300) -> str | None:
    return None if value is None else text(value, field, max_length)


def day(value: object, field: str, today: date) -> date:
    """A date within the documented bounds (2000-01-01 .. today + 5 years)."""
    return check(lambda: bounds.check_date(parse_date(value, field), field, today))
