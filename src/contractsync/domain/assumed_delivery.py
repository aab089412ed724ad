"""Delivery as `plan` assumes it: Autotask accepts every adjustment, sent when its settle time comes.

The unit change is computed at send time from the target units and what Autotask then holds on
that date, exactly as the worker does. A scenario may make Autotask reject the next deliveries
for a contract service (`rejections`), to show F1: the failure blocks nothing, and a later
successful adjustment on that service carries its net effect and supersedes it.
"""

from __future__ import annotations

from datetime import datetime

from contractsync.domain.books import Record, SentAdjustment, ServiceBook
from contractsync.domain.engine import SyncState
from contractsync.domain.enums import RecordStatus
from contractsync.domain.money import format_money
from contractsync.domain.schedule import HeldAdjustment, Timeline


def deliver_due(
    state: SyncState, now: datetime | None, rejections: dict[int, list[str]] | None = None
) -> None:
    """Send, in order per contract service, every pending adjustment due by `now` (None: all)."""
    rejections = rejections if rejections is not None else {}
    for book in state.books.values():
        last_sent = None
        while book.pending and (now is None or book.pending[0].due_at <= now):
            row = book.pending.pop(0)
            record = state.records[row.owner]
            if rejections.get(book.contract_service_id):
                record.status = RecordStatus.FAILED
                record.reason = rejections[book.contract_service_id].pop(0)
                record.delivery_failed = True
                continue
            held = Timeline.of_held(book.held).at(row.planned.effective_date)
            unit_change = row.planned.target_units - (held.units if held else 0)
            book.held.append(
                HeldAdjustment(
                    row.planned.effective_date, unit_change, row.planned.unit_price, row.planned.unit_cost
                )
            )
            sent_at = row.due_at if last_sent is None else max(row.due_at, last_sent)
            last_sent = sent_at
            record.sent.append(
                SentAdjustment(
                    book.contract_id,
                    book.contract_service_id,
                    row.planned.effective_date,
                    unit_change,
                    format_money(row.planned.unit_price),
                    format_money(row.planned.unit_cost),
                    sent_at,
                )
            )
            _settle(record, state)
            _supersede_failed(book, record, state)


def _settle(record: Record, state: SyncState) -> None:
    if record.status is not RecordStatus.PENDING:
        return
    if not any(row.owner == record.id for other in state.books.values() for row in other.pending):
        record.status = RecordStatus.SUCCEEDED


def _supersede_failed(book: ServiceBook, by: Record, state: SyncState) -> None:
    """F1: a delivery that failed earlier on this service is carried by the one just sent."""
    for record in state.records.values():
        failed_delivery = record.status is RecordStatus.FAILED and record.delivery_failed
        if failed_delivery and record.id < by.id and record.contract_service_id == book.contract_service_id:
            record.status = RecordStatus.SUPERSEDED
            record.reason = f"{record.reason}; carried by connection operation #{by.id}"
