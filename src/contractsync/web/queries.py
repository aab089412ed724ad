"""Reading query-string filters leniently: a bad filter value shows everything, never an error page."""

from __future__ import annotations


def clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return max(1, min(number, 100_000))
