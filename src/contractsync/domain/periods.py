"""Billing periods anchored at a start date, with month-end clamping.

Period k starts at `anchor + k·n months`, computed from the anchor every time (never by repeated
addition, which drifts: 31 Jan → 28 Feb → 28 Mar). Used for subscription billing cycles and for
Autotask contract periods alike.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """`day` plus `months`, clamped to the last day of the target month (like relativedelta)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def period_containing(anchor: date, months: int, day: date) -> Period:
    """The period of an `months`-long cycle anchored at `anchor` that contains `day`."""
    if months <= 0:
        raise ValueError("a billing cycle has at least one month")
    # Estimate k from the month difference, then step to the right period (at most one step).
    k = max(((day.year - anchor.year) * 12 + day.month - anchor.month) // months, 0)
    while k > 0 and add_months(anchor, k * months) > day:
        k -= 1
    while add_months(anchor, (k + 1) * months) <= day:
        k += 1
    if day < anchor:
        # Before the anchor: periods run backwards from it.
        k = 0
        while add_months(anchor, k * months) > day:
            k -= 1
    start = add_months(anchor, k * months)
    return Period(start, add_months(anchor, (k + 1) * months) - timedelta(days=1))


def next_period_start(anchor: date, months: int, day: date) -> date:
    """The first day of the period after the one containing `day`."""
    return period_containing(anchor, months, day).end + timedelta(days=1)


def term_end(start: date, term_months: int) -> date:
    """Last day of a term that starts on `start` (a P1Y term from 2024-01-15 ends 2025-01-14)."""
    return add_months(start, term_months) - timedelta(days=1)
