"""What mapping a subscription and delivering a contract-service creation share: the contract's
service line for a service, the pending record while the PSA creates one, and the mapping onto an
existing contract service with the adjustment that aligns it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import RecordType
from contractsync.domain.model import SubscriptionMapping
from contractsync.domain.pricing import unit_pricing
from contractsync.ports.audit_records import NewRecord
from contractsync.ports.directory import StoredConnection, StoredSubscription
from contractsync.ports.outbox import OperationStatus
from contractsync.ports.psa import PsaContractServices
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.actor import named_by
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Conflict


def line_of(connector: PsaContractServices, contract_id: int, service_id: int) -> int | None:
    """The contract's service line for `service_id`, if the PSA has one."""
    for line in connector.find_contract_services(contract_id):
        if line.service_id == service_id:
            return int(line.id)
    return None


def unit_pricing_of(uow: UnitOfWork, connection_id: str, subscription_id: str) -> tuple[Decimal, Decimal]:
    """The subscription's unit price and cost now (a new contract service starts with them)."""
    state = uow.books.load(connection_id, [subscription_id]).state
    subscription = state.subscriptions[subscription_id]
    pricing = unit_pricing(
        subscription,
        state.customers[subscription.customer_id],
        state.resellers[subscription.reseller_id].promotion_setting,
    )
    return pricing.unit_price, pricing.unit_cost


def record_creation(
    uow: UnitOfWork, now: datetime, actor: str | None, subscription: StoredSubscription, connection_id: str,
    contract_id: int, service_id: int,
) -> int:  # fmt: skip
    """The mapping's audit record while its contract service is being created: pending."""
    record = NewRecord(
        connection_id, uuid.uuid4().hex, RecordType.MAP_SUBSCRIPTION.value, OperationStatus.PENDING.value,
        customer_id=subscription.value.customer_id, subscription_id=subscription.value.id,
        reason=f"Autotask is creating a contract service for service {service_id} on contract "
        f"{contract_id}; the mapping follows once it exists",
        details={"contract_id": contract_id, "service_id": service_id, **named_by(actor)},
    )  # fmt: skip
    return uow.audit_records.add(record, now)


def fail_record(uow: UnitOfWork, record_id: int, reason: str, now: datetime) -> None:
    """The waiting mapping's record fails with the reason."""
    uow.audit_records.settle(record_id, OperationStatus.FAILED.value, reason, now)


def map_to_service(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: str | None,
    subscription_id: str,
    connection: StoredConnection,
    service: tuple[int, int | None, int],
    record_id: int | None = None,
) -> list[int]:
    """Map the subscription to the existing contract service `service` (contract, service,
    contract service) and plan aligning it (SPEC: units, price and cost from the mapping date);
    the audit record is `record_id` when the mapping waited for its contract service, else new."""
    contract_id, service_id, cs = service
    holder = uow.books.mapped_to(connection.id, cs)
    if holder is not None:
        raise Conflict(f"contract service {cs} is already mapped to subscription {holder}")
    today = ctx.today_in(connection.timezone)
    now = ctx.now()
    loaded = uow.books.load(connection.id, [subscription_id])
    uow.books.load_service(loaded, contract_id, cs, today)
    engine = SyncEngine(loaded.state)
    mapping = SubscriptionMapping(subscription_id, contract_id, cs, now, today, service_id)
    effect = Effect(RecordType.MAP_SUBSCRIPTION, subscription_id, cs, today)
    record = engine.new_record(effect, now)
    if record_id is not None:
        record = replace(record, id=record_id)
    engine.map_subscription(mapping, record, now)  # `save` writes the mapping with its plan
    record_ids = uow.books.save(loaded, uuid.uuid4().hex, now, actor)
    if record_id is None:
        return record_ids
    # The waiting record had no outbox rows: its status is the plan's (pending while rows go out).
    reason = record.reason or f"mapped to contract service {cs}, created in Autotask"
    uow.audit_records.settle(record_id, record.status.value, reason, now, effective_date=today)
    return [record_id]
