"""Money and percentages: always `Decimal`, rounded half-up to Autotask's 4 places at the boundary."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PSA_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


class NotANumber(ValueError):
    """A value that should be a decimal number is not one."""


def to_decimal(value: object, field: str) -> Decimal:
    """Parse a decimal from a string or int (never a float: floats have already lost digits)."""
    if isinstance(value, bool | float):
        raise NotANumber(f"{field} must be a decimal string, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise NotANumber(f"{field} is not a number: {value!r}") from None
    else:
        raise NotANumber(f"{field} must be a decimal string, not {type(value).__name__}")
    if not result.is_finite():
        raise NotANumber(f"{field} is not a finite number: {value!r}")
    return result


def to_psa(amount: Decimal) -> Decimal:
    """Round half-up to the 4 decimal places Autotask keeps."""
    return amount.quantize(PSA_PLACES, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Render an amount the way the API and `plan` show it: 4 places, e.g. "12.3400"."""
    return str(to_psa(amount))


def format_percent(value: Decimal) -> str:
    """Render a percentage without trailing zeros, e.g. "20" or "12.5"."""
    text = format(value.normalize(), "f")
    return text
