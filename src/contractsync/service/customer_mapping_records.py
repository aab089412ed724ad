"""What the customer-mapping use cases share: the mapping as it stands, how many of the customer's
subscriptions are mapped, and the audit record of a change."""

from __future__ import annotations

import uuid
from typing import Any

from contractsync.domain.enums import RecordType
from contractsync.ports.audit_records import NewRecord
from contractsync.ports.directory import CustomerMapping
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.actor import Actor, named_by
from contractsync.service.context import ServiceContext, visible_connection, visible_customer
from contractsync.service.errors import NotFound
from contractsync.service.views import operations_by_id

JSON = dict[str, Any]


def record_change(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, mapped: CustomerMapping, reason: str
) -> JSON:
    """The change in the audit log (who, and why); answers the record."""
    record = NewRecord(
        connection_id=mapped.connection_id,
        operation_key=uuid.uuid4().hex,
        type=RecordType.MAP_CUSTOMER.value,
        status="succeeded",
        customer_id=mapped.customer_id,
        reason=reason,
        details=named_by(actor.name),
    )
    return operations_by_id(uow.audit_records, [uow.audit_records.add(record, ctx.now())])[0]


def current_mapping(uow: UnitOfWork, actor: Actor, customer_id: str, connection_id: str) -> CustomerMapping:
    customer = visible_customer(uow.directory, actor, customer_id)
    connection = visible_connection(uow.directory, actor, connection_id)
    found = next(
        (m for m in uow.directory.customer_mappings_of(connection.id) if m.customer_id == customer.id), None
    )
    if found is None:
        raise NotFound(f"customer {customer_id} is not mapped on connection {connection_id}")
    return found


def mapped_subscriptions(uow: UnitOfWork, customer_id: str, connection_id: str) -> int:
    own = set(uow.directory.subscription_ids(None, customer_id))
    return sum(1 for m in uow.directory.subscription_mappings_of(connection_id) if m.subscription_id in own)


def keeps(count: int) -> str:
    """What becomes of the customer's mapped subscriptions (they keep their contract services)."""
    if count == 0:
        return "it has no mapped subscriptions"
    if count == 1:
        return "its 1 mapped subscription keeps its contract service (unmap it separately to stop syncing)"
    return f"its {count} mapped subscriptions keep their contract services (unmap them separately to stop syncing)"
