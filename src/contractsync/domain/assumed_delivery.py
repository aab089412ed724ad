"""Delivery as `plan` assumes it: Autotask accepts every adjustment, sent when its settle time comes.

The unit change is computed at send time from the target units and what Autotask then holds on
that date, exactly as the worker does.
"""

from __future__ import annotations

from datetime import datetime

from contractsync.domain.books import Record, SentAdjustment, ServiceBook
from contractsync.domain.engine import SyncState
from contractsync.domain.enums import RecordStatus
from contractsync.domain.money import format_money
from contractsync.domain.schedule import HeldAdjustment, Timeline


def deliver_due(state: SyncState, now: datetime | None) -> None:
    """Send, in order per contract service, every pending adjustment due by `now` (None: all)."""
    for book in state.books.values():
        last_sent = None
        while book.pending and (now is None or book.pending[0].due_at <= now):
            row = book.pending.pop(0)
            held = Timeline.of_held(book.held).at(row.planned.effective_date)
            unit_change = row.planned.target_units - (held.units if held else 0)
            book.held.append(
                HeldAdjustment(
                    row.planned.effective_date, unit_change, row.planned.unit_price, row.planned.unit_cost
                )
            )
            sent_at = row.due_at if last_sent is None else max(row.due_at, last_sent)
            last_sent = sent_at
            record = state.records[row.owner]
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
            _settle(record, book, state)


def _settle(record: Record, book: ServiceBook, state: SyncState) -> None:
    if record.status is not RecordStatus.PENDING:
        return
    if not any(row.owner == record.id for other in state.books.values() for row in other.pending):
        record.status = RecordStatus.SUCCEEDED
