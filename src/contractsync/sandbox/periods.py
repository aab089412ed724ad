"""Billing periods of an Autotask contract, by its `contractPeriodType`.

Periods are anchored at the contract start and computed as start + k·n months (never by repeated
addition, which drifts to the 28th after February); relativedelta clamps to the month end. The
last period is cut at the contract end date.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


class PeriodType(enum.IntEnum):
    """Sandbox values of Contracts.contractPeriodType (and Services.periodType)."""

    MONTHLY = 1
    QUARTERLY = 2
    SEMI_ANNUAL = 3
    YEARLY = 4

    @property
    def months(self) -> int:
        return {1: 1, 2: 3, 3: 6, 4: 12}[self.value]


@dataclass(frozen=True)
class Period:
    index: int
    start: date
    end: date  # inclusive


def period_start(contract_start: date, period_type: PeriodType, index: int) -> date:
    return contract_start + relativedelta(months=index * period_type.months)


def billing_periods(contract_start: date, contract_end: date, period_type: PeriodType) -> list[Period]:
    periods: list[Period] = []
    index = 0
    start = contract_start
    while start <= contract_end:
        next_start = period_start(contract_start, period_type, index + 1)
        periods.append(Period(index, start, min(next_start - timedelta(days=1), contract_end)))
        index += 1
        start = next_start
    return periods
