"""The audit log's reads: operation records (a page, one record) and the open manual actions."""

from __future__ import annotations

from typing import Any

from contractsync.domain.bounds import is_stored_id
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.ports.audit_records import AuditRecord, RecordFilter
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid, NotFound
from contractsync.service.partner_center_sources import poll_manual_actions

JSON = dict[str, Any]


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
    where = RecordFilter(actor.reseller_id, subscription_id, status, type_name)
    with ctx.units(commit=False) as uow:
        total, rows = uow.audit_records.page(where, (page - 1) * page_size, page_size)
        items = views.operations(uow.audit_records, rows)
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def visible_operation(uow: UnitOfWork, actor: Actor, operation_id: int) -> AuditRecord:
    if not is_stored_id(operation_id):  # a bigger id than any row can have (and than SQL takes)
        raise NotFound(f"operation {operation_id} not found")
    row = uow.audit_records.record(operation_id)
    if row is None:
        raise NotFound(f"operation {operation_id} not found")
    if actor.reseller_id is not None:
        connection = uow.directory.connection(row.connection_id)
        if connection is None or connection.reseller_id != actor.reseller_id:
            raise NotFound(f"operation {operation_id} not found")
    return row


def get_operation(ctx: ServiceContext, actor: Actor, operation_id: int) -> JSON:
    with ctx.units(commit=False) as uow:
        return views.operation(uow.audit_records, visible_operation(uow, actor, operation_id))


def list_manual_actions(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    """The open U1-U3 items, then the Partner Center polls' `needs_price` / `needs_customer` items
    of the sources the actor may see (`kind` set on those only)."""
    with ctx.units(commit=False) as uow:
        items = [views.manual_action(r) for r in uow.audit_records.open_manual_actions(actor.reseller_id)]
        return items + poll_manual_actions(uow.partner_center, actor.reseller_id)
