"""Mapping customers to Autotask companies and subscriptions to contract services."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db import operations as audit
from contractsync.adapters.db import state_store
from contractsync.adapters.db.tables import (
    connection_operations,
    contracts,
    customer_mappings,
    subscription_mappings,
)
from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import RecordType
from contractsync.domain.model import SubscriptionMapping
from contractsync.domain.money import format_money
from contractsync.domain.pricing import unit_pricing
from contractsync.ports.directory import StoredConnection, StoredSubscription
from contractsync.ports.outbox import OperationStatus
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
    with ctx.unit_of_work() as uow:
        session = uow.session
        customer = visible_customer(uow.directory, actor, str(body["customer_id"]))
        connection = visible_connection(uow.directory, actor, str(body["connection_id"]))
        if connection.reseller_id != customer.reseller_id:
            raise NotFound(f"connection {connection.id} not found")
        try:
            with session.begin_nested():
                session.execute(
                    insert(customer_mappings).values(
                        customer_id=customer.id, connection_id=connection.id, company_id=company_id
                    )
                )
        except IntegrityError:
            raise Conflict("the customer, or the company, is already mapped on this connection") from None
        record_id = audit.create_operation(
            session,
            connection_id=connection.id,
            operation_key=uuid.uuid4().hex,
            type=RecordType.MAP_CUSTOMER.value,
            status="succeeded",
            now=ctx.now(),
            customer_id=customer.id,
            reason=f"mapped to Autotask company {company_id}",
            actor=actor.name,
        )
        return views.operations_by_id(uow.audit_records, [record_id])[0]


def contract_known(session: Session, connection_id: str, contract_id: int) -> bool:
    """The contract's dates and period type are kept locally already."""
    query = select(contracts.c.contract_id).where(
        contracts.c.connection_id == connection_id, contracts.c.contract_id == contract_id
    )
    return session.execute(query).first() is not None


def keep_contract(session: Session, connection_id: str, contract: Any) -> None:
    """Keep the contract's dates and period type (as the PSA answered them), once."""
    if contract is None or contract_known(session, connection_id, contract.id):
        return
    session.execute(
        insert(contracts).values(
            connection_id=connection_id,
            contract_id=contract.id,
            start_date=contract.start_date,
            end_date=contract.end_date,
            period_type=period_type_name(contract.period_type),
            posted_through=None,
        )
    )


def unit_pricing_of(session: Session, connection_id: str, subscription_id: str) -> tuple[Decimal, Decimal]:
    """The subscription's unit price and cost now (a new contract service starts with them)."""
    state = state_store.load(session, connection_id, [subscription_id]).state
    subscription = state.subscriptions[subscription_id]
    pricing = unit_pricing(
        subscription,
        state.customers[subscription.customer_id],
        state.resellers[subscription.reseller_id].promotion_setting,
    )
    return pricing.unit_price, pricing.unit_cost


def record_creation(
    session: Session, now: datetime, actor: str | None, subscription: StoredSubscription, connection_id: str,
    contract_id: int, service_id: int,
) -> int:  # fmt: skip
    """The mapping's audit record while its contract service is being created: pending."""
    return audit.create_operation(
        session,
        connection_id=connection_id,
        operation_key=uuid.uuid4().hex,
        type=RecordType.MAP_SUBSCRIPTION.value,
        status=OperationStatus.PENDING.value,
        now=now,
        subscription_id=subscription.value.id,
        customer_id=subscription.value.customer_id,
        reason=f"Autotask is creating a contract service for service {service_id} on contract "
        f"{contract_id}; the mapping follows once it exists",
        details={"contract_id": contract_id, "service_id": service_id},
        actor=actor,
    )


def end_record(session: Session, record_id: int, status: OperationStatus, reason: str, now: datetime) -> None:
    session.execute(
        update(connection_operations)
        .where(connection_operations.c.id == record_id)
        .values(status=status.value, reason=reason, updated_at=now)
    )


def map_to_service(
    ctx: ServiceContext,
    session: Session,
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
    holder = session.execute(
        select(subscription_mappings.c.subscription_id).where(
            subscription_mappings.c.connection_id == connection.id,
            subscription_mappings.c.contract_service_id == cs,
        )
    ).first()
    if holder is not None:
        raise Conflict(f"contract service {cs} is already mapped to subscription {holder.subscription_id}")
    today = ctx.today_in(connection.timezone)
    now = ctx.now()
    loaded = state_store.load(session, connection.id, [subscription_id])
    session.execute(
        insert(subscription_mappings).values(
            subscription_id=subscription_id,
            connection_id=connection.id,
            contract_id=contract_id,
            service_id=service_id,
            contract_service_id=cs,
            mapped_on=today,
            created_at=now,
        )
    )
    engine = SyncEngine(loaded.state)
    mapping = SubscriptionMapping(subscription_id, contract_id, cs, now, today, service_id)
    state_store.load_contract(session, loaded, contract_id)
    state_store.load_book(session, loaded, cs, contract_id, today)
    loaded.mappings_before.add(subscription_id)
    effect = Effect(RecordType.MAP_SUBSCRIPTION, subscription_id, cs, today)
    record = engine.new_record(effect, now)
    if record_id is not None:
        record = replace(record, id=record_id)
    engine.map_subscription(mapping, record, now)
    record_ids = state_store.save(session, loaded, uuid.uuid4().hex, now, actor)
    if record_id is None:
        return record_ids
    session.execute(
        update(connection_operations)
        .where(connection_operations.c.id == record_id)
        .values(
            status=record.status.value,
            reason=record.reason or f"mapped to contract service {cs}, created in Autotask",
            effective_date=today,
            updated_at=now,
        )
    )
    audit.recompute_status(session, record_id, now)
    return [record_id]


#: Autotask's period type picklist (ContractPeriodType / Service periodType) to our names
PERIOD_TYPES = {1: "monthly", 2: "quarterly", 3: "semi_annual", 4: "yearly"}


def period_type_name(value: int | None) -> str:
    return PERIOD_TYPES.get(value or 1, "monthly")


def unmap_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> None:
    """The mapping goes, recorded in the audit log (who, and which contract service it pointed at)."""
    with ctx.unit_of_work() as uow:
        subscription = visible_subscription(uow.directory, actor, subscription_id).value
        mapping = uow.session.execute(
            delete(subscription_mappings)
            .where(subscription_mappings.c.subscription_id == subscription_id)
            .returning(subscription_mappings.c.connection_id, subscription_mappings.c.contract_service_id)
        ).first()
        if mapping is None and uow.service_creations.open_for(subscription_id) is not None:
            raise Conflict(
                f"subscription {subscription_id} is being mapped: Autotask is still creating its "
                "contract service; unmap it once that is done"
            )
        if mapping is None:
            raise NotFound(f"subscription {subscription_id} is not mapped")
        audit.create_operation(
            uow.session,
            connection_id=mapping.connection_id,
            operation_key=uuid.uuid4().hex,
            type=RecordType.MAP_SUBSCRIPTION.value,
            status="succeeded",
            now=ctx.now(),
            subscription_id=subscription_id,
            customer_id=subscription.customer_id,
            reason=f"unmapped from Autotask contract service {mapping.contract_service_id}; "
            "its changes are no longer sent to Autotask",
            actor=actor.name,
        )


def search(ctx: ServiceContext, actor: Actor, connection_id: str, what: str, **filters: Any) -> list[JSON]:
    """Contracts, contract services or services of the connection's Autotask, for the mapping page."""
    with ctx.unit_of_work(commit=False) as uow:
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
