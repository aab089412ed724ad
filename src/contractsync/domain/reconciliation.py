"""X1: compare, day by day, what Autotask holds with what contractsync planned (pure).

Four step functions per contract service, from its start through the contract's end:

- *Autotask*: the ContractServiceUnits rows;
- *sent*: what contractsync's sent adjustments made of it (the ledger);
- *planned*: sent plus the adjustments still waiting in the outbox;
- *target*: the ideal (the rules' intents), before Autotask's rules (one adjustment per day,
  posted periods, the contract's end) had their say.

Where they disagree, a difference gets a kind: `drift` (Autotask differs from what was sent),
`pending` (planned, not sent yet), `failed` (the plan lacks an adjustment Autotask refused), or
`inexact` (the plan could not match the target on those days). Only `drift` is for "fix".

Money impact is what Autotask bills differently from the kind's expected state, prorated by days
within each contract period (Autotask's billing periods) from the first differing day through
the end of the current period; a difference that lasts beyond that also has a run rate: the
difference per full period from then on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from contractsync.domain.periods import period_containing
from contractsync.domain.schedule import HeldAdjustment, Intent, State, Timeline

ONE_DAY = timedelta(days=1)


class Kind(enum.StrEnum):
    DRIFT = "drift"
    PENDING = "pending"
    INEXACT = "inexact"
    FAILED = "failed"


KINDS = tuple(Kind)
DRIFT_REASON = "Autotask differs from what contractsync sent (changed in Autotask by hand, lost, or unknown)"


@dataclass(frozen=True)
class AutotaskRow:
    start: date
    end: date
    units: int
    price: Decimal
    cost: Decimal
    posted: bool = False


@dataclass(frozen=True)
class OutboxRow:
    """An adjustment contractsync planned and has not (successfully) sent: pending or failed."""

    effective_date: date
    target_units: int
    unit_price: Decimal
    unit_cost: Decimal
    record_id: int
    reason: str


@dataclass(frozen=True)
class SentRow:
    """A ledger entry and the audit record that sent it (None: learned from a read)."""

    adjustment: HeldAdjustment
    record_id: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An operation refused before anything was planned (e.g. outside the contract)."""

    record_id: int
    effective_date: date
    reason: str


@dataclass
class ServiceFacts:
    subscription_id: str
    customer_id: str
    contract_service_id: int
    service_start: date
    contract_start: date
    contract_end: date
    period_months: int
    autotask: list[AutotaskRow]
    sent: list[SentRow]
    pending: list[OutboxRow]
    failed: list[OutboxRow]
    intents: list[Intent]
    refusals: list[Refusal] = field(default_factory=list)
    #: the subscription's own units and price now (what a refused operation wanted)
    wanted: State | None = None


@dataclass(frozen=True)
class Difference:
    kind: Kind
    subscription_id: str
    customer_id: str
    contract_service_id: int
    first_day: date
    last_day: date
    expected: State
    autotask: State
    reason: str
    record_id: int | None
    posted: bool
    money_impact: Decimal
    run_rate: Decimal
    exact_from: date | None = None


def _after_each(rows: list[OutboxRow], base: list[HeldAdjustment]) -> list[HeldAdjustment]:
    """`base` plus each row, as the worker would send it: the unit change from the target units."""
    held = list(base)
    for row in rows:
        before = Timeline.of_held(held).at(row.effective_date)
        change = row.target_units - (before.units if before else 0)
        held.append(HeldAdjustment(row.effective_date, change, row.unit_price, row.unit_cost))
    return held


def _autotask_at(rows: list[AutotaskRow], day: date) -> tuple[State, bool]:
    for row in rows:
        if row.start <= day <= row.end:
            return State(row.units, row.price, row.cost), row.posted
    return State(0, None, None), False


def _or_nothing(state: State | None) -> State:
    return state if state is not None else State(0, None, None)


def _same(actual: State, expected: State) -> bool:
    """Units always; price and cost where the expected state names them."""
    if actual.units != expected.units:
        return False
    if expected.unit_price is None:
        return True
    return actual.unit_price == expected.unit_price and actual.unit_cost == expected.unit_cost


def _amount(state: State) -> Decimal:
    return state.units * (state.unit_price or Decimal(0))


def prorated(first: date, last: date, per_period: Decimal, anchor: date, months: int) -> Decimal:
    """`per_period` for the days [first, last], each period's days counted against its length."""
    total = Decimal(0)
    day = first
    while day <= last:
        period = period_containing(anchor, months, day)
        until = min(period.end, last)
        length = (period.end - period.start).days + 1
        total += per_period * Decimal((until - day).days + 1) / Decimal(length)
        day = until + ONE_DAY
    return total


def compare(facts: ServiceFacts, today: date) -> list[Difference]:
    """The differences of one contract service, in date order."""
    sent = Timeline.of_held([s.adjustment for s in facts.sent])
    planned_held = _after_each(facts.pending, [s.adjustment for s in facts.sent])
    planned = Timeline.of_held(planned_held)
    target = Timeline.of_targets(facts.intents)
    start, end = facts.service_start, facts.contract_end
    points = {start}
    points |= {r.start for r in facts.autotask} | {r.end + ONE_DAY for r in facts.autotask}
    points |= set(sent.change_dates()) | set(planned.change_dates()) | set(target.change_dates())
    points |= {r.effective_date for r in facts.failed}
    # Period starts split the differences, so each carries its own `posted` and run rate.
    ordered = sorted(p for p in points if start <= p <= end)
    found: list[Difference] = []
    for index, day in enumerate(ordered):
        last = ordered[index + 1] - ONE_DAY if index + 1 < len(ordered) else end
        difference = _classify(facts, day, last, sent, planned, target, today)
        if difference is None:
            continue
        if found and _continues(found[-1], difference):
            previous = found.pop()
            difference = _joined(previous, difference, facts, today)
        found.append(difference)
    found += _refused(facts)
    return found


def _classify(
    facts: ServiceFacts,
    day: date,
    last: date,
    sent: Timeline,
    planned: Timeline,
    target: Timeline,
    today: date,
) -> Difference | None:
    held, posted = _autotask_at(facts.autotask, day)
    sent_state, planned_state = _or_nothing(sent.at(day)), _or_nothing(planned.at(day))
    wanted = target.at(day)
    record_id: int | None = None
    exact_from: date | None = None
    if not _same(held, sent_state) and not _same(held, planned_state):
        kind, expected, reason = Kind.DRIFT, sent_state, DRIFT_REASON
    elif not _same(held, planned_state) or not _same(sent_state, planned_state):
        # Not sent yet, or being sent (Autotask may already show it while our ledger does not).
        row = max(
            (r for r in facts.pending if r.effective_date <= day),
            key=lambda r: r.effective_date,
            default=None,
        )
        kind, expected = Kind.PENDING, planned_state
        reason, record_id = (row.reason, row.record_id) if row else ("planned, not sent yet", None)
    elif wanted is not None and not _same(planned_state, wanted):
        expected = wanted
        failed = _latest_failed(facts, day)
        if failed is not None:
            kind, reason, record_id = Kind.FAILED, failed.reason, failed.record_id
        else:
            kind = Kind.INEXACT
            record_id, reason, exact_from = _made_exact(facts, planned, target, day)
    else:
        return None
    return _difference(facts, kind, day, last, expected, held, reason, record_id, posted, today, exact_from)


def _difference(
    facts: ServiceFacts,
    kind: Kind,
    first: date,
    last: date,
    expected: State,
    held: State,
    reason: str,
    record_id: int | None,
    posted: bool,
    today: date,
    exact_from: date | None,
) -> Difference:
    impact, run_rate = money_impact(facts, first, last, expected, held, today)
    return Difference(
        kind, facts.subscription_id, facts.customer_id, facts.contract_service_id, first, last,
        expected, held, reason, record_id, posted, impact, run_rate, exact_from,
    )  # fmt: skip


def money_impact(
    facts: ServiceFacts, first: date, last: date, expected: State, held: State, today: date
) -> tuple[Decimal, Decimal]:
    """(prorated impact through the end of the current period, run rate per period after it)."""
    per_period = _amount(expected) - _amount(held)
    anchor, months = facts.contract_start, facts.period_months
    current_end = period_containing(anchor, months, max(today, first)).end
    impact = prorated(first, min(last, current_end), per_period, anchor, months)
    return impact, per_period if last > current_end else Decimal(0)


def _continues(previous: Difference, current: Difference) -> bool:
    return (
        previous.last_day + ONE_DAY == current.first_day
        and previous.kind is current.kind
        and previous.expected == current.expected
        and previous.autotask == current.autotask
        and previous.record_id == current.record_id
        and previous.posted == current.posted
    )


def _joined(previous: Difference, current: Difference, facts: ServiceFacts, today: date) -> Difference:
    return _difference(
        facts, current.kind, previous.first_day, current.last_day, current.expected, current.autotask,
        current.reason, current.record_id, current.posted, today, current.exact_from,
    )  # fmt: skip


def _latest_failed(facts: ServiceFacts, day: date) -> OutboxRow | None:
    """A failed adjustment explains the day when no later sent or planned one came after it."""
    failed = [r for r in facts.failed if r.effective_date <= day]
    if not failed:
        return None
    latest = max(failed, key=lambda r: r.effective_date)
    later = [s.adjustment.effective_date for s in facts.sent] + [r.effective_date for r in facts.pending]
    return None if any(latest.effective_date < d <= day for d in later) else latest


def _made_exact(
    facts: ServiceFacts, planned: Timeline, target: Timeline, day: date
) -> tuple[int | None, str, date | None]:
    """The record whose adjustment made the plan exact again after `day`, its note and the day."""
    for change in planned.change_dates():
        wanted = target.at(change)
        if change > day and wanted is not None and _same(_or_nothing(planned.at(change)), wanted):
            for row in facts.sent:
                if row.adjustment.effective_date == change:
                    return row.record_id, row.note or _INEXACT, change
            for pending in facts.pending:
                if pending.effective_date == change:
                    return pending.record_id, pending.reason, change
            return None, _INEXACT, change
    return None, _INEXACT, None


_INEXACT = (
    "Autotask's rules (one adjustment per contract service and day, posted periods, the contract's "
    "dates) made these days impossible to match"
)


def _refused(facts: ServiceFacts) -> list[Difference]:
    """Operations refused before planning: nothing of them reached Autotask (outside the contract)."""
    found = []
    for refusal in facts.refusals:
        day = min(max(refusal.effective_date, facts.service_start), facts.contract_end)
        held, posted = _autotask_at(facts.autotask, day)
        expected = facts.wanted or held
        inside = facts.service_start <= refusal.effective_date <= facts.contract_end
        impact, run_rate = (
            money_impact(facts, refusal.effective_date, facts.contract_end, expected, held, day)
            if inside
            else (Decimal(0), Decimal(0))
        )
        difference = Difference(
            Kind.FAILED, facts.subscription_id, facts.customer_id, facts.contract_service_id,
            refusal.effective_date, refusal.effective_date, expected, held, refusal.reason,
            refusal.record_id, posted, impact, run_rate,
        )  # fmt: skip
        found.append(difference)
    return found
