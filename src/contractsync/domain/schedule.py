"""ContractServiceSchedule: from target intents to the adjustments Autotask needs (SPEC §2).

Truth is target state. Rules record *intents* ("from D on this contract service has 12 units",
"from P on the unit price is 14.40"); Autotask holds what our sent adjustments made of it. Planning
walks forward through time from the earliest changed date and, at the first date where Autotask
would differ from the target, places an adjustment that makes it exact from there on:

- never in a posted contract period, never before the contract service's start (it moves to the
  first allowed date), never outside the contract (that is an error the caller reports);
- at most one adjustment per contract service and date: when the date is already taken, the
  difference goes on the first free date after it, and the days in between are named as
  "could not be made exact" (R1a, and the order rule for back-dated changes).

The same walk serves R1a coalescing, back-dated corrections, F1 (a later plan carries the net
effect of a failed one) and X1 repair.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Intent:
    """A target point: from `effective_date` on, units and/or price and cost are these."""

    effective_date: date
    units: int | None = None
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None

    @property
    def is_empty(self) -> bool:
        return self.units is None and self.unit_price is None

    def without(self, units: bool, price: bool) -> Intent:
        return Intent(
            self.effective_date,
            None if units else self.units,
            None if price else self.unit_price,
            None if price else self.unit_cost,
        )

    def merged_over(self, older: Intent) -> Intent:
        """Same-date intents: the later one wins for the fields it sets (R1a: the last one wins)."""
        return Intent(
            self.effective_date,
            self.units if self.units is not None else older.units,
            self.unit_price if self.unit_price is not None else older.unit_price,
            self.unit_cost if self.unit_cost is not None else older.unit_cost,
        )


@dataclass(frozen=True)
class HeldAdjustment:
    """An adjustment Autotask holds (sent), or will hold once an in-flight request lands."""

    effective_date: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal


@dataclass(frozen=True)
class PlannedAdjustment:
    effective_date: date
    target_units: int
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal
    note: str | None = None

    def same_target(self, other: PlannedAdjustment) -> bool:
        return (
            self.effective_date == other.effective_date
            and self.target_units == other.target_units
            and self.unit_price == other.unit_price
            and self.unit_cost == other.unit_cost
        )


@dataclass(frozen=True)
class ServiceWindow:
    """Where adjustments for one contract service may land."""

    service_start: date
    contract_start: date
    contract_end: date
    #: first day of the first contract period Autotask has not posted (None: nothing posted)
    first_unposted: date | None = None

    @property
    def earliest(self) -> date:
        return max(self.service_start, self.contract_start, self.first_unposted or self.contract_start)


class OutsideContract(Exception):
    def __init__(self, day: date, window: ServiceWindow) -> None:
        super().__init__(
            f"effective date {day.isoformat()} is outside the contract "
            f"({window.contract_start.isoformat()} to {window.contract_end.isoformat()})"
        )
        self.day = day


@dataclass(frozen=True)
class State:
    units: int
    unit_price: Decimal | None
    unit_cost: Decimal | None


class Timeline:
    """Units, price and cost as a step function of the date."""

    def __init__(self) -> None:
        self._dates: list[date] = []
        self._states: list[State] = []

    @classmethod
    def of_targets(cls, intents: list[Intent]) -> Timeline:
        timeline = cls()
        units, price, cost = 0, None, None
        for intent in sorted(intents, key=lambda i: i.effective_date):
            units = intent.units if intent.units is not None else units
            if intent.unit_price is not None:
                price, cost = intent.unit_price, intent.unit_cost
            timeline._push(intent.effective_date, State(units, price, cost))
        return timeline

    @classmethod
    def of_held(cls, held: list[HeldAdjustment]) -> Timeline:
        timeline = cls()
        units = 0
        for adjustment in sorted(held, key=lambda a: a.effective_date):
            units += adjustment.unit_change
            timeline._push(
                adjustment.effective_date, State(units, adjustment.unit_price, adjustment.unit_cost)
            )
        return timeline

    def _push(self, day: date, state: State) -> None:
        if self._dates and self._dates[-1] == day:
            self._states[-1] = state
        else:
            self._dates.append(day)
            self._states.append(state)

    def at(self, day: date) -> State | None:
        index = bisect_right(self._dates, day) - 1
        return self._states[index] if index >= 0 else None

    def change_dates(self) -> list[date]:
        return list(self._dates)


def _differs(target: State, held: State | None) -> bool:
    if held is None:
        return True
    if target.units != held.units:
        return True
    return target.unit_price is not None and (
        target.unit_price != held.unit_price or target.unit_cost != held.unit_cost
    )


@dataclass
class WalkResult:
    adjustments: list[PlannedAdjustment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_adjustments(
    held: list[HeldAdjustment], intents: list[Intent], window: ServiceWindow, start: date
) -> WalkResult:
    """The adjustments that make Autotask equal the target from `start` (or the first allowed day) on.

    Raises OutsideContract when a needed adjustment would land after the contract's end.
    """
    target = Timeline.of_targets(intents)
    taken = {adjustment.effective_date for adjustment in held}
    working = list(held)
    result = WalkResult()
    day = max(start, window.earliest)
    if start < window.earliest:
        result.notes.append(_moved_note(start, window))
    while True:
        current = Timeline.of_held(working)
        candidates = sorted({day} | {d for d in target.change_dates() + current.change_dates() if d > day})
        first_difference = None
        for candidate in candidates:
            wanted = target.at(candidate)
            if wanted is not None and _differs(wanted, current.at(candidate)):
                first_difference = candidate
                break
        if first_difference is None:
            return result
        place = first_difference
        while place in taken:
            place += ONE_DAY
        if place > window.contract_end:
            raise OutsideContract(place, window)
        wanted = target.at(place)
        assert wanted is not None  # a difference was found at or before `place`
        note = None
        if place != first_difference:
            note = (
                f"{first_difference.isoformat()} already has an adjustment; the difference is sent "
                f"effective {place.isoformat()}; days that could not be made exact: "
                f"{_day_span(first_difference, place - ONE_DAY)}"
            )
            result.notes.append(note)
        held_state = current.at(place)
        held_units = held_state.units if held_state else 0
        units, blocked = _within_floor(current, place, wanted.units - held_units)
        if blocked is not None:
            # A unit change counts for every later day too: Autotask refuses one that would take a
            # later day below 0 units (an adjustment dated there removes them). Go as far as
            # that allows; the days up to the blocking one cannot be made exact.
            note = (
                f"{place.isoformat()}: {wanted.units} units would leave {blocked.isoformat()} below 0 units "
                f"(Autotask holds an adjustment there that removes units); days that could not be made "
                f"exact: {_day_span(place, blocked)}"
            )
            result.notes.append(note)
        target_units = held_units + units
        price = wanted.unit_price if wanted.unit_price is not None else _held_price(held_state)
        cost = wanted.unit_cost if wanted.unit_cost is not None else _held_cost(held_state)
        if held_state is None or _differs(State(target_units, price, cost), held_state):
            planned = PlannedAdjustment(
                effective_date=place,
                target_units=target_units,
                unit_change=units,
                unit_price=price,
                unit_cost=cost,
                note=note,
            )
            result.adjustments.append(planned)
            working.append(HeldAdjustment(place, planned.unit_change, planned.unit_price, planned.unit_cost))
            taken.add(place)
        if blocked is not None:
            # Nothing changes until the next change date: look again from there.
            later = [d for d in target.change_dates() + current.change_dates() if d > place]
            if not later:
                return result
            day = min(later)
        else:
            day = place + ONE_DAY if place == first_difference else place


def _within_floor(current: Timeline, place: date, change: int) -> tuple[int, date | None]:
    """`change`, raised as far as needed so that no day from `place` on goes below 0 units;
    and the first day that limits it (None: not limited)."""
    if change >= 0:
        return change, None
    days = [place, *(d for d in current.change_dates() if d > place)]
    lowest = min((_or_zero(current.at(d)) for d in days), default=0)
    if lowest + change >= 0:
        return change, None
    blocked = next(d for d in days if _or_zero(current.at(d)) == lowest)
    return -max(lowest, 0), blocked


def _or_zero(state: State | None) -> int:
    return state.units if state is not None else 0


def _held_price(state: State | None) -> Decimal:
    if state is None or state.unit_price is None:
        raise ValueError("a contract service needs a price before its first adjustment (map it first)")
    return state.unit_price


def _held_cost(state: State | None) -> Decimal:
    if state is None or state.unit_cost is None:
        raise ValueError("a contract service needs a cost before its first adjustment (map it first)")
    return state.unit_cost


def _day_span(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _moved_note(day: date, window: ServiceWindow) -> str:
    if window.first_unposted is not None and day < window.first_unposted:
        return (
            f"{day.isoformat()} falls in a posted contract period; effective "
            f"{window.earliest.isoformat()}, the start of the first unposted period"
        )
    return (
        f"{day.isoformat()} is before the contract service's start; effective {window.earliest.isoformat()}"
    )
