"""The audit log, F1 retries, manual actions and alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from contractsync.adapters.db import state_store
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    connections,
    manual_actions,
)
from contractsync.domain.bounds import is_stored_id
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.ports.psa import Refusal
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.replan import replan_service
from contractsync.service.retry_operation import RetryRefused, retry

JSON = dict[str, Any]


def _visible_connection_ids(actor: Actor) -> Any:
    return select(connections.c.id).where(connections.c.reseller_id == actor.reseller_id)


def list_operations(
    ctx: ServiceContext,
    actor: Actor,
    subscription_id: str | None,
    status: str | None,
    type_name: str | None,
    page: int,
    page_size: int,
) -> JSON:
    if status is not None and status not in {s.value for s in RecordStatus}:
        raise Invalid(f"status must be one of {', '.join(s.value for s in RecordStatus)}")
    if type_name is not None and type_name not in {t.value for t in RecordType}:
        raise Invalid(f"type must be a connection operation type, e.g. {RecordType.UPDATE_QUANTITY.value}")
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be ≥ 1 and page_size between 1 and 200")
    query = select(connection_operations)
    if actor.reseller_id is not None:
        query = query.where(connection_operations.c.connection_id.in_(_visible_connection_ids(actor)))
    if subscription_id is not None:
        query = query.where(connection_operations.c.subscription_id == subscription_id)
    if status is not None:
        query = query.where(connection_operations.c.status == status)
    if type_name is not None:
        query = query.where(connection_operations.c.type == type_name)
    with ctx.unit_of_work(commit=False) as uow:
        total = uow.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = uow.session.execute(
            query.order_by(connection_operations.c.id.desc()).offset((page - 1) * page_size).limit(page_size)
        ).all()
        items = views.operations(uow.session, rows)
    return {"items": items, "page": page, "page_size": page_size, "total": int(total)}


def _visible_operation(session: Any, actor: Actor, operation_id: int) -> Any:
    if not is_stored_id(operation_id):  # a bigger id than any row can have (and than SQL takes)
        raise NotFound(f"operation {operation_id} not found")
    row = session.execute(
        select(connection_operations).where(connection_operations.c.id == operation_id)
    ).first()
    if row is None:
        raise NotFound(f"operation {operation_id} not found")
    if actor.reseller_id is not None:
        owner = session.execute(
            select(connections.c.reseller_id).where(connections.c.id == row.connection_id)
        ).scalar()
        if owner != actor.reseller_id:
            raise NotFound(f"operation {operation_id} not found")
    return row


def get_operation(ctx: ServiceContext, actor: Actor, operation_id: int) -> JSON:
    with ctx.unit_of_work(commit=False) as uow:
        return views.operation(uow.session, _visible_operation(uow.session, actor, operation_id))


def retry_operation(ctx: ServiceContext, actor: Actor, operation_id: int) -> JSON:
    """F1 retry. An adjustment Autotask refused because its period was posted is not sent again
    as it was: its contract service is re-planned past the posted periods (a new record, which
    supersedes the failed one once it is sent)."""
    with ctx.unit_of_work() as uow:
        record = _visible_operation(uow.session, actor, operation_id)
        posted = uow.session.execute(
            select(adjustments).where(
                adjustments.c.operation_id == operation_id,
                adjustments.c.status == "failed",
                adjustments.c.refusal == Refusal.POSTED_PERIOD.value,
            )
        ).all()
        if posted and record.status == "failed":
            return _replan_past_posted(ctx, uow, record, posted[0])
        try:
            retry(uow.session, operation_id, ctx.now())
        except RetryRefused as refusal:
            raise Conflict(str(refusal)) from None
        return views.operation(uow.session, _visible_operation(uow.session, actor, operation_id))


def _replan_past_posted(ctx: ServiceContext, uow: Any, record: Any, failed: Any) -> JSON:
    session = uow.session
    uow.lock_subscription(failed.subscription_id)
    replanned = replan_service(
        session,
        connection_id=failed.connection_id,
        subscription_id=failed.subscription_id,
        contract_service_id=failed.contract_service_id,
        since=failed.effective_date,
        now=ctx.now(),
        record_type=RecordType(record.type),
    )
    if replanned is None:
        raise Conflict(
            f"subscription {failed.subscription_id} is no longer mapped to contract service {failed.contract_service_id}"
        )
    replanned.record.reason = (
        f"re-planned past the periods Autotask has posted, for failed operation #{record.id}"
    )
    [new_id] = state_store.save(session, replanned.loaded, f"retry:{record.id}", ctx.now())
    return views.operations_by_id(session, [new_id])[0]


def list_manual_actions(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    query = (
        select(manual_actions).where(manual_actions.c.status == "open").order_by(manual_actions.c.id.desc())
    )
    if actor.reseller_id is not None:
        query = query.where(manual_actions.c.connection_id.in_(_visible_connection_ids(actor)))
    with ctx.unit_of_work(commit=False) as uow:
        return [views.manual_action(r) for r in uow.session.execute(query)]
