"""What the commands' readers share: a flag, an enum member, a bounded decimal, an optional name,
and `ABSENT` (a field the caller did not give, told apart from one given as null)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeVar

from contractsync.domain.bounds import STORED_NAME_MAX_LENGTH
from contractsync.domain.enums import parse_enum
from contractsync.domain.operations import InvalidInput, parse_decimal, parse_text

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
R = TypeVar("R")


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


#: The default of a `build` argument whose absence means something else than null.
ABSENT: Final = _Absent()


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false")
    return value


def enum_value(kind: type[E], value: object, field: str) -> E:
    try:
        return parse_enum(kind, value, field)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def bounded_decimal(value: object, field: str, bounds: tuple[Decimal, Decimal]) -> Decimal:
    return parse_decimal(value, field, *bounds)


def optional_text(value: object, field: str, max_length: int = STORED_NAME_MAX_LENGTH) -> str | None:
    return None if value is None else parse_text(value, field, max_length)


def checked(check: Callable[[T, str], R], value: T, field: str) -> R:
    """A `bounds` check (which raises ValueError naming the field) as the domain's InvalidInput."""
    try:
        return check(value, field)
    except InvalidInput:
        raise
    except ValueError as error:
        raise InvalidInput(str(error)) from None
