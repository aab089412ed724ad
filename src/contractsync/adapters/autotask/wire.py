"""JSON on Autotask's wire: exact money both ways, midnight date-times, tolerant number parsing.

The stdlib encoder turns a Decimal into a float (12.3456 may become 12.345600000000001), so
request bodies are written by a tiny serialiser of our own; responses are parsed with
``parse_float=Decimal`` so no price ever passes through a float.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: The shape the REST API uses for every date field: a local midnight without a zone.
_DATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def dumps(value: Any) -> str:
    """Serialise a request body; Decimals become JSON numbers written digit for digit."""
    return _encode(value)


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send a non-finite number: {value}")
        # 'f' never uses exponent notation, which some .NET binders refuse for decimals.
        return format(value, "f")
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        raise TypeError("floats are not sent to Autotask: use Decimal for money")
    if isinstance(value, datetime | date):
        return json.dumps(format_date(value))
    if isinstance(value, dict):
        parts = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} for Autotask")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def format_date(value: date) -> str:
    """Autotask dates are midnight date-times: 2024-03-01 -> "2024-03-01T00:00:00"."""
    if isinstance(value, datetime):
        return value.strftime(_DATE_TIME_FORMAT)
    return datetime(value.year, value.month, value.day).strftime(_DATE_TIME_FORMAT)


def parse_date(value: object) -> date:
    """Read "2024-03-01T00:00:00" (with or without fraction or zone) as the date 2024-03-01."""
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"not an Autotask date: {value!r}")
    return date.fromisoformat(value[:10])


def parse_optional_date(value: object) -> date | None:
    return None if value is None else parse_date(value)


def to_decimal(value: object) -> Decimal:
    """Money from a parsed response: ints and Decimals stay exact; strings are accepted too."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    raise ValueError(f"not a number: {value!r}")


def to_optional_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def to_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise ValueError(f"not an integer: {value!r}")


def to_optional_int(value: object) -> int | None:
    return None if value is None else to_int(value)
