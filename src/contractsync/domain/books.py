"""The state contractsync keeps per contract service and per connection operation record.

A `ServiceBook` is one contract service: its target intents, what Autotask holds from our sent
adjustments, and the planned adjustments waiting to be sent (the outbox, ordered). `replan`
turns new intents into a new outbox, keeping the unchanged prefix so R1a's settle timers and
owners survive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from contractsync.domain.decisions import ManualAction
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.domain.model import Contract
from contractsync.domain.periods import period_containing
from contractsync.domain.schedule import (
    HeldAdjustment,
    Intent,
    PlannedAdjustment,
    ServiceWindow,
    Timeline,
    plan_adjustments,
)


@dataclass(frozen=True)
class PendingAdjustment:
    key: int  # outbox row id: the delivery order within the contract service
    owner: int  # the record that planned it
    planned: PlannedAdjustment
    due_at: datetime  # not sent before: the settle window (R1a)


@dataclass(frozen=True)
class SentAdjustment:
    contract_id: int
    contract_service_id: int
    effective_date: date
    unit_change: int
    unit_price: str
    unit_cost: str
    sent_at: datetime


@dataclass
class Record:
    """A connection operation: the audit record of one operation on one mapped subscription."""

    id: int
    type: RecordType
    subscription_id: str | None
    contract_service_id: int | None
    effective_date: date
    created_at: datetime
    status: RecordStatus = RecordStatus.PENDING
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    manual_actions: list[ManualAction] = field(default_factory=list)
    sent: list[SentAdjustment] = field(default_factory=list)
    #: failed because Autotask refused a delivery (F1 may supersede it), not by a rule or policy
    delivery_failed: bool = False


@dataclass
class ServiceBook:
    contract_id: int
    contract_service_id: int
    service_start: date
    intents: dict[date, Intent] = field(default_factory=dict)
    held: list[HeldAdjustment] = field(default_factory=list)
    pending: list[PendingAdjustment] = field(default_factory=list)

    def with_intents(self, new: tuple[Intent, ...]) -> dict[date, Intent]:
        """The intents after `new`: the newest knowledge wins from its date on.

        A newer intent also clears the fields it sets from older intents dated after it: a
        back-dated quantity of 15 made after a change to 12 on a later date means 15 from then on.
        """
        merged = dict(self.intents)
        for intent in new:
            for day, older in list(merged.items()):
                if day > intent.effective_date:
                    cleared = older.without(
                        units=intent.units is not None, price=intent.unit_price is not None
                    )
                    if cleared.is_empty:
                        del merged[day]
                    else:
                        merged[day] = cleared
            older_same_day = merged.get(intent.effective_date)
            merged[intent.effective_date] = intent.merged_over(older_same_day) if older_same_day else intent
        return merged


@dataclass(frozen=True)
class Replan:
    keep: list[PendingAdjustment]
    discard: list[PendingAdjustment]
    new: list[PlannedAdjustment]
    notes: list[str]


def replan(
    book: ServiceBook, intents: dict[date, Intent], window: ServiceWindow, changed_from: date
) -> Replan:
    """Re-plan the unsent adjustments of `book` for the given intents (raises OutsideContract)."""
    start = min([changed_from, *(p.planned.effective_date for p in book.pending)])
    walk = plan_adjustments(book.held, list(intents.values()), window, start)
    keep: list[PendingAdjustment] = []
    for old, new in zip(book.pending, walk.adjustments, strict=False):
        if not old.planned.same_target(new):
            break
        keep.append(old)
    return Replan(keep, book.pending[len(keep) :], walk.adjustments[len(keep) :], walk.notes)


def service_window(contract: Contract, service_start: date) -> ServiceWindow:
    first_unposted = None
    if contract.posted_through is not None:
        # Only whole periods are posted: one that ends after `posted_through` is still open.
        period = period_containing(contract.start_date, contract.period_type.months, contract.posted_through)
        first_unposted = (
            period.end + timedelta(days=1) if period.end == contract.posted_through else period.start
        )
    return ServiceWindow(service_start, contract.start_date, contract.end_date, first_unposted)


class OpenRow(Protocol):
    """An outbox row not delivered yet, as a store holds it."""

    @property
    def id(self) -> int: ...
    @property
    def operation_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def effective_date(self) -> date: ...
    @property
    def target_units(self) -> int: ...
    @property
    def planned_unit_change(self) -> int | None: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def unit_cost(self) -> Decimal: ...
    @property
    def due_at(self) -> datetime: ...


def add_open_rows(book: ServiceBook, rows: Iterable[OpenRow]) -> set[int]:
    """A service's rows not delivered yet, in delivery order: one in flight (`sending`) counts as
    held (the worker verifies when unsure); a pending one is re-plannable. Answers the pending ids."""
    pending: set[int] = set()
    for row in rows:
        planned = PlannedAdjustment(
            row.effective_date, row.target_units, row.planned_unit_change or 0, row.unit_price, row.unit_cost
        )
        if row.status == "sending":
            before = Timeline.of_held(book.held).at(row.effective_date)
            change = row.target_units - (before.units if before else 0)
            book.held.append(HeldAdjustment(row.effective_date, change, row.unit_price, row.unit_cost))
            continue
        book.pending.append(PendingAdjustment(row.id, row.operation_id, planned, row.due_at))
        pending.add(row.id)
    return pending
