"""Mapping customers to Autotask companies and subscriptions to contract services."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import ContractPeriodType, RecordType
from contractsync.domain.model import Contract, SubscriptionMapping
from contractsync.domain.money import format_money
from contractsync.domain.pricing import unit_pricing
from contractsync.ports.audit_records import NewRecord
from contractsync.ports.directory import CustomerMapping, StoredConnection, StoredSubscription
from contractsync.ports.outbox import OperationStatus
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import (
    ServiceContext,
    visible_connection,
    visible_customer,
    visible_subscription,
)
from contractsync.service.errors import Conflict, NotFound

JSON = dict[str, Any]


def map_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    with ctx.units() as uow:
        customer = visible_customer(uow.directory, actor, str(body["customer_id"]))
        connection = visible_connection(uow.directory, actor, str(body["connection_id"]))
        if connection.reseller_id != customer.reseller_id:
            raise NotFound(f"connection {connection.id} not found")
        if not uow.directory.add_customer_mapping(CustomerMapping(customer.id, connection.id, company_id)):
            raise Conflict("the customer, or the company, is already mapped on this connection")
        record = NewRecord(
            connection.id, uuid.uuid4().hex, RecordType.MAP_CUSTOMER.value, "succeeded",
            customer_id=customer.id, reason=f"mapped to Autotask company {company_id}", details=_by(actor.name),
        )  # fmt: skip
        return views.operations_by_id(uow.audit_records, [uow.audit_records.add(record, ctx.now())])[0]


def _by(actor: str | None) -> dict[str, Any]:
    """An audit record's details naming who made it, when known."""
    return {"actor": actor} if actor else {}


def contract_of(found: Any) -> Contract:
    """The contract as the PSA answered it: dates and period type."""
    return Contract(
        found.id, found.start_date, found.end_date, ContractPeriodType(period_type_name(found.period_type))
    )


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
        details={"contract_id": contract_id, "service_id": service_id, **_by(actor)},
    )  # fmt: skip
    return uow.audit_records.add(record, now)


def end_record(uow: UnitOfWork, record_id: int, status: OperationStatus, reason: str, now: datetime) -> None:
    uow.audit_records.settle(record_id, status.value, reason, now)


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


#: Autotask's period type picklist (ContractPeriodType / Service periodType) to our names
PERIOD_TYPES = {1: "monthly", 2: "quarterly", 3: "semi_annual", 4: "yearly"}


def period_type_name(value: int | None) -> str:
    return PERIOD_TYPES.get(value or 1, "monthly")


def unmap_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> None:
    """The mapping goes, recorded in the audit log (who, and which contract service it pointed at)."""
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
            details=_by(actor.name),
        )  # fmt: skip
        uow.audit_records.add(record, ctx.now())


def search(ctx: ServiceContext, actor: Actor, connection_id: str, what: str, **filters: Any) -> list[JSON]:
    """Contracts, contract services or services of the connection's Autotask, for the mapping page."""
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
    connector = ctx.connector_for(connection)
    if what == "contracts":
        return [_contract_json(c) for c in connector.find_contracts(filters.get("company_id"))]
    if what == "contract_services":
        names = {s.id: s.name for s in connector.find_services()}
        return [
            {
                "id": line.id,
                "contract_id": line.contract_id,
                "service_id": line.service_id,
                "service_name": names.get(line.service_id),
                "unit_price": _money(line.unit_price),
                "unit_cost": _money(line.unit_cost),
            }
            for line in connector.find_contract_services(filters["contract_id"])
        ]
    return [
        {"id": s.id, "name": s.name, "unit_price": _money(s.unit_price), "unit_cost": _money(s.unit_cost)}
        for s in connector.find_services(filters.get("name"))
    ]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)


def _contract_json(contract: Any) -> JSON:
    start: date = contract.start_date
    end: date = contract.end_date
    return {
        "id": contract.id,
        "name": contract.name,
        "company_id": contract.company_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "period_type": period_type_name(contract.period_type),
    }
