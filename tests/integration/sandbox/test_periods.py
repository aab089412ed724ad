"""Contract billing periods: start + k·n months with month-end clamping, cut at the contract end."""

from __future__ import annotations

from datetime import date

from contractsync.sandbox.periods import PeriodType, billing_periods


def spans(start: date, end: date, period_type: PeriodType) -> list[tuple[date, date]]:
    return [(p.start, p.end) for p in billing_periods(start, end, period_type)]


def test_monthly_periods_from_a_month_end_do_not_drift() -> None:
    got = spans(date(2024, 1, 31), date(2024, 5, 30), PeriodType.MONTHLY)
    assert got == [
        (date(2024, 1, 31), date(2024, 2, 28)),
        (date(2024, 2, 29), date(2024, 3, 30)),
        (date(2024, 3, 31), date(2024, 4, 29)),
        (date(2024, 4, 30), date(2024, 5, 30)),
    ]


def test_quarterly_semi_annual_and_yearly_periods_are_cut_at_the_contract_end() -> None:
    assert spans(date(2024, 1, 1), date(2024, 8, 15), PeriodType.QUARTERLY) == [
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 8, 15)),
    ]
    assert spans(date(2024, 2, 15), date(2025, 2, 14), PeriodType.SEMI_ANNUAL) == [
        (date(2024, 2, 15), date(2024, 8, 14)),
        (date(2024, 8, 15), date(2025, 2, 14)),
    ]
    assert spans(date(2024, 2, 29), date(2026, 12, 31), PeriodType.YEARLY) == [
        (date(2024, 2, 29), date(2025, 2, 27)),
        (date(2025, 2, 28), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 12, 31)),
    ]


def test_a_one_day_contract_has_one_period() -> None:
    assert spans(date(2024, 3, 5), date(2024, 3, 5), PeriodType.MONTHLY) == [
        (date(2024, 3, 5), date(2024, 3, 5))
    ]
