"""Use case `unmap_subscription`: the mapping goes, recorded in the audit log (who, and which
contract service it pointed at); its changes are no longer sent to the PSA."""

from __future__ import annotations

import uuid

from contractsync.domain.enums import RecordType
from contractsync.ports.audit_records import NewRecord
from contractsync.service.actor import Actor, named_by
from contractsync.service.context import ServiceContext, visible_subscription
from contractsync.service.errors import Conflict, NotFound


def unmap_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> None:
    with ctx.units() as uow:
        subscription = visible_subscription(uow.directory, actor, subscription_id).value
        mapping = uow.directory.remove_subscription_mapping(subscription_id)
        if mapping is None and uow.service_creations.open_for(subscription_id) is not None:
            raise Conflict(
                f"subscription {subscription_id} is being mapped: Autotask is still creating its "
                "contract service; unmap it once that is done"
            )
        if mapping is None:
            raise NotFound(f"subscription {subscription_id} is not mapped")
        record = NewRecord(
            mapping.connection_id, uuid.uuid4().hex, RecordType.MAP_SUBSCRIPTION.value, "succeeded",
            customer_id=subscription.customer_id, subscription_id=subscription_id,
            reason=f"unmapped from Autotask contract service {mapping.contract_service_id}; "
            "its changes are no longer sent to Autotask",
            details=named_by(actor.name),
        )  # fmt: skip
        uow.audit_records.add(record, ctx.now())
