"""The units / price / cost of one contract service over time (SPEC §3).

Autotask keeps no units on the contract service: units at a date are the sum of the unit changes
of the adjustments effective on or before it (0 before the first). Price and cost at a date are
those set by the latest adjustment on or before it that sets them, else the contract service's
own unit price and cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from contractsync.sandbox.periods import Period


@dataclass(frozen=True)
class Adjustment:
    id: int
    effective_date: date
    unit_change: int
    unit_price: Decimal | None  # None: this adjustment leaves the price as it was
    unit_cost: Decimal | None


@dataclass(frozen=True)
class ChangePoint:
    """From `start` on (until the next change point) the service has these values."""

    start: date
    units: int
    price: Decimal
    cost: Decimal
    adjustment_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnitRow:
    """One ContractServiceUnits row: a period, or the part of it between split points."""

    period: Period
    start: date
    end: date
    units: int
    price: Decimal
    cost: Decimal


class ServiceLedger:
    def __init__(self, base_price: Decimal, base_cost: Decimal, adjustments: list[Adjustment]) -> None:
        self.base_price = base_price
        self.base_cost = base_cost
        self.adjustments = sorted(adjustments, key=lambda adj: (adj.effective_date, adj.id))

    def change_points(self) -> list[ChangePoint]:
        """The exact dates where units, price or cost change, with the values from then on."""
        points: list[ChangePoint] = []
        units, price, cost = 0, self.base_price, self.base_cost
        by_date: dict[date, list[Adjustment]] = {}
        for adjustment in self.adjustments:
            by_date.setdefault(adjustment.effective_date, []).append(adjustment)
        for day, adjustments in by_date.items():
            for adjustment in adjustments:
                units += adjustment.unit_change
                if adjustment.unit_price is not None:
                    price = adjustment.unit_price
                if adjustment.unit_cost is not None:
                    cost = adjustment.unit_cost
            points.append(ChangePoint(day, units, price, cost, tuple(a.id for a in adjustments)))
        return points

    def at(self, day: date) -> tuple[int, Decimal, Decimal]:
        """(units, price, cost) in force on `day`."""
        current = (0, self.base_price, self.base_cost)
        for point in self.change_points():
            if point.start > day:
                break
            current = (point.units, point.price, point.cost)
        return current

    def has_date(self, day: date) -> bool:
        return any(adjustment.effective_date == day for adjustment in self.adjustments)

    def lowest_units(self) -> int:
        return min((point.units for point in self.change_points()), default=0)

    def rows(self, periods: list[Period]) -> list[UnitRow]:
        """One row per period, split at every change point inside it."""
        points = self.change_points()
        rows: list[UnitRow] = []
        cursor = 0  # index of the first change point after the current position
        units, price, cost = 0, self.base_price, self.base_cost
        for period in periods:
            while cursor < len(points) and points[cursor].start <= period.start:
                units, price, cost = points[cursor].units, points[cursor].price, points[cursor].cost
                cursor += 1
            start = period.start
            while cursor < len(points) and points[cursor].start <= period.end:
                split = points[cursor].start
                rows.append(UnitRow(period, start, split - timedelta(days=1), units, price, cost))
                units, price, cost = points[cursor].units, points[cursor].price, points[cursor].cost
                start = split
                cursor += 1
            rows.append(UnitRow(period, start, period.end, units, price, cost))
        return rows
