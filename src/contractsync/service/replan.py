"""Re-planning one contract service from a date with the intents it already has.

Used after Autotask refused an adjustment because its period is posted: by the worker, which
moves the adjustment past the posted periods at once (SPEC §2), and by a retry of a record that
failed that way. The caller locks the subscription first and saves `loaded` (`SubscriptionBooks.save`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contractsync.domain.books import Record
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import RecordType
from contractsync.ports.audit_records import AdjustmentLine
from contractsync.ports.subscription_books import TEMP_BASE, LoadedState, SubscriptionBooks


@dataclass(frozen=True)
class Replanned:
    loaded: LoadedState
    #: the record that owns the re-planned rows; FAILED when they would fall outside the contract
    record: Record

    def new_dates(self) -> list[date]:
        """Effective dates of the rows the re-plan added for `record`, in delivery order."""
        book = self.loaded.state.books[self.record.contract_service_id or 0]
        return [
            row.planned.effective_date
            for row in book.pending
            if row.owner == self.record.id and row.key >= TEMP_BASE
        ]


def replan_service(
    books: SubscriptionBooks,
    *,
    connection_id: str,
    subscription_id: str,
    contract_service_id: int,
    since: date,
    now: datetime,
    record_type: RecordType,
    owner_id: int | None = None,
) -> Replanned | None:
    """Re-plan from `since`; the changed rows belong to the existing record `owner_id`, or to a
    new record when it is None. None when the subscription is no longer mapped to the service."""
    loaded = books.load(connection_id, [subscription_id])
    if contract_service_id not in loaded.state.books:
        return None
    engine = SyncEngine(loaded.state)
    if owner_id is None:
        record = engine.repair(subscription_id, contract_service_id, since, now, record_type)
    else:
        record = Record(owner_id, record_type, subscription_id, contract_service_id, since, now)
        engine.replan_service(record, since, now)
    return Replanned(loaded, record)


def replan_failed_record(
    books: SubscriptionBooks,
    failed: AdjustmentLine,
    record_id: int,
    record_type: RecordType,
    now: datetime,
    actor: str | None = None,
) -> int | None:
    """A retry of record `record_id`, whose adjustment `failed` Autotask refused because its period
    was posted: its contract service re-planned past the posted periods as a new record, saved;
    the new record's id (None when the subscription is no longer mapped to the service)."""
    replanned = replan_service(
        books,
        connection_id=failed.connection_id,
        subscription_id=failed.subscription_id or "",
        contract_service_id=failed.contract_service_id,
        since=failed.effective_date,
        now=now,
        record_type=record_type,
    )
    if replanned is None:
        return None
    replanned.record.reason = (
        f"re-planned past the periods Autotask has posted, for failed operation #{record_id}"
    )
    [new_id] = books.save(replanned.loaded, f"retry:{record_id}", now, actor)
    return new_id
