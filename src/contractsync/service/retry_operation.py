"""F1 retry of a failed operation: its failed rows go back to pending, while that is still safe.

It is safe only while no later adjustment of the same contract service has been sent: that
later one already carries the net effect (and the failed row is about to be superseded). An
adjustment Autotask refused because its period was posted is re-planned past the posted periods
instead (`replan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contractsync.domain.enums import RecordType
from contractsync.ports.audit_records import AdjustmentLine, AuditRecord
from contractsync.ports.subscription_books import RetryRefused, SubscriptionBooks
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Conflict
from contractsync.service.operation_queries import visible_operation
from contractsync.service.replan import replan_failed_record

JSON = dict[str, Any]


@dataclass(frozen=True)
class RetryResult:
    operation_id: int
    requeued: list[int]


def retry(books: SubscriptionBooks, operation_id: int, now: datetime) -> RetryResult:
    return RetryResult(operation_id, books.requeue_failed(operation_id, now))


def retry_operation(ctx: ServiceContext, actor: Actor, operation_id: int) -> JSON:
    """F1 retry. An adjustment Autotask refused because its period was posted is not sent again
    as it was: its contract service is re-planned past the posted periods (a new record, which
    supersedes the failed one once it is sent)."""
    with ctx.units() as uow:
        record = visible_operation(uow, actor, operation_id)
        posted = [a for a in uow.audit_records.adjustments([operation_id]) if a.posted_period_refused]
        if posted and record.status == "failed":
            return _replan_past_posted(ctx, uow, record, posted[0], actor)
        try:
            retry(uow.books, operation_id, ctx.now())
        except RetryRefused as refusal:
            raise Conflict(str(refusal)) from None
        return views.operation(uow.audit_records, visible_operation(uow, actor, operation_id))


def _replan_past_posted(
    ctx: ServiceContext, uow: UnitOfWork, record: AuditRecord, failed: AdjustmentLine, actor: Actor
) -> JSON:
    uow.lock_subscription(failed.subscription_id or "")
    new_id = replan_failed_record(
        uow.books, failed, record.id, RecordType(record.type), ctx.now(), actor.name
    )
    if new_id is None:
        raise Conflict(
            f"subscription {failed.subscription_id} is no longer mapped to contract service {failed.contract_service_id}"
        )
    return views.operations_by_id(uow.audit_records, [new_id])[0]


__all__ = ["RetryRefused", "RetryResult", "retry", "retry_operation"]
