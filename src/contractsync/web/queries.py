"""Reading query-string filters leniently: a bad filter value shows everything, never an error page."""

from __future__ import annotations

from contractsync.domain.bounds import is_ascii_integer


def clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def page_number(value: str | None) -> int:
    text = (value or "1").strip()
    if not is_ascii_integer(text) or len(text) > 6:
        return 1
    return max(1, min(int(text), 100_000))
