from datetime import date

import pytest

from contractsync.domain.periods import add_months, next_period_start, period_containing, term_end


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year month end
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),  # computed from the anchor, not from 29 Feb
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # annual from 29 Feb
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_monthly_periods_from_the_31st_do_not_drift_to_the_28th() -> None:
    anchor = date(2024, 1, 31)
    starts = [period_containing(anchor, 1, add_months(anchor, k)).start for k in range(6)]
    assert starts == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]
    assert period_containing(anchor, 1, date(2024, 3, 15)).start == date(2024, 2, 29)
    assert period_containing(anchor, 1, date(2024, 3, 15)).end == date(2024, 3, 30)


def test_annual_period_from_29_february() -> None:
    period = period_containing(date(2024, 2, 29), 12, date(2025, 3, 1))
    assert (period.start, period.end) == (date(2025, 2, 28), date(2026, 2, 27))
    assert next_period_start(date(2024, 2, 29), 12, date(2024, 6, 1)) == date(2025, 2, 28)


def test_triennial_term_end() -> None:
    assert term_end(date(2024, 2, 29), 36) == date(2027, 2, 27)
    assert term_end(date(2024, 1, 15), 12) == date(2025, 1, 14)


def test_day_before_the_anchor_belongs_to_the_previous_period() -> None:
    period = period_containing(date(2024, 3, 31), 1, date(2024, 3, 1))
    assert (period.start, period.end) == (date(2024, 2, 29), date(2024, 3, 30))
