"""Mapping customers to Autotask companies and subscriptions to contract services."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db import operations as audit
from contractsync.adapters.db import state_store
from contractsync.adapters.db.tables import contracts, customer_mappings, subscription_mappings
from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import RecordType
from contractsync.domain.model import SubscriptionMapping
from contractsync.domain.money import format_money
from contractsync.domain.pricing import unit_pricing
from contractsync.service import session_compat as views
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import (
    ServiceContext,
)
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.operating import with_retries
from contractsync.service.session_compat import visible_connection, visible_customer, visible_subscription

JSON = dict[str, Any]


def map_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    with ctx.unit_of_work() as uow:
        session = uow.session
        customer = visible_customer(session, actor, str(body["customer_id"]))
        connection = visible_connection(session, actor, str(body["connection_id"]))
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
        return views.operations_by_id(session, [record_id])[0]


def map_subscription(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, {"subscription_id", "connection_id", "contract_id", "service_id"}, {"contract_service_id"})
    contract_id = v.integer(body["contract_id"], "contract_id", 1, 2**31 - 1)
    service_id = v.integer(body["service_id"], "service_id", 1, 2**31 - 1)
    raw_cs = body.get("contract_service_id")
    given_cs = None if raw_cs is None else v.integer(raw_cs, "contract_service_id", 1, 2**31 - 1)
    return with_retries(
        ctx.units,
        lambda: _map(
            ctx,
            actor,
            str(body["subscription_id"]),
            str(body["connection_id"]),
            contract_id,
            service_id,
            given_cs,
        ),
    )


def _map(
    ctx: ServiceContext,
    actor: Actor,
    subscription_id: str,
    connection_id: str,
    contract_id: int,
    service_id: int,
    given_cs: int | None,
) -> JSON:
    with ctx.unit_of_work() as uow:
        session = uow.session
        subscription = visible_subscription(session, actor, subscription_id)
        connection = visible_connection(session, actor, connection_id)
        if connection.reseller_id != subscription.reseller_id:
            raise NotFound(f"connection {connection_id} not found")
        uow.lock_subscription(subscription_id)
        existing = session.execute(
            select(subscription_mappings).where(subscription_mappings.c.subscription_id == subscription_id)
        ).first()
        if existing is not None:
            raise Conflict(
                f"subscription {subscription_id} is already mapped to contract service {existing.contract_service_id}"
            )
        today = ctx.today_in(connection.timezone)
        _ensure_contract(ctx, session, connection, contract_id)
        loaded = state_store.load(session, connection.id, [subscription_id])
        state = loaded.state
        if not state.subscriptions[subscription_id].is_live:
            raise Invalid(
                f"subscription {subscription_id} is {subscription.status}; only live subscriptions can be mapped"
            )
        cs = (
            given_cs
            if given_cs is not None
            else _find_or_create_service(ctx, connection, loaded, subscription_id, contract_id, service_id)
        )
        holder = session.execute(
            select(subscription_mappings.c.subscription_id).where(
                subscription_mappings.c.connection_id == connection.id,
                subscription_mappings.c.contract_service_id == cs,
            )
        ).first()
        if holder is not None:
            raise Conflict(
                f"contract service {cs} is already mapped to subscription {holder.subscription_id}"
            )
        now = ctx.now()
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
        mapping = SubscriptionMapping(subscription_id, contract_id, cs, now, today, service_id)
        state_store.load_contract(session, loaded, contract_id)
        state_store.load_book(session, loaded, cs, contract_id, today)
        loaded.mappings_before.add(subscription_id)
        engine = SyncEngine(state)
        effect = Effect(RecordType.MAP_SUBSCRIPTION, subscription_id, cs, today)
        engine.map_subscription(mapping, engine.new_record(effect, now), now)
        record_ids = state_store.save(session, loaded, uuid.uuid4().hex, now, actor.name)
        return views.operations_by_id(session, record_ids)[0]


def _ensure_contract(ctx: ServiceContext, session: Session, connection: Any, contract_id: int) -> None:
    """Keep the contract's dates and period type locally (read from Autotask the first time)."""
    known = session.execute(
        select(contracts).where(
            contracts.c.connection_id == connection.id, contracts.c.contract_id == contract_id
        )
    ).first()
    if known is not None:
        return
    contract = ctx.connector_for(connection).get_contract(contract_id)
    session.execute(
        insert(contracts).values(
            connection_id=connection.id,
            contract_id=contract_id,
            start_date=contract.start_date,
            end_date=contract.end_date,
            period_type=period_type_name(contract.period_type),
            posted_through=None,
        )
    )


#: Autotask's period type picklist (ContractPeriodType / Service periodType) to our names
PERIOD_TYPES = {1: "monthly", 2: "quarterly", 3: "semi_annual", 4: "yearly"}


def period_type_name(value: int | None) -> str:
    return PERIOD_TYPES.get(value or 1, "monthly")


def _find_or_create_service(
    ctx: ServiceContext,
    connection: Any,
    loaded: state_store.LoadedState,
    subscription_id: str,
    contract_id: int,
    service_id: int,
) -> int:
    """The contract's service line for `service_id`, created with the subscription's price when missing."""
    connector = ctx.connector_for(connection)
    for line in connector.find_contract_services(contract_id):
        if line.service_id == service_id:
            return int(line.id)
    state = loaded.state
    subscription = state.subscriptions[subscription_id]
    pricing = unit_pricing(
        subscription,
        state.customers[subscription.customer_id],
        state.resellers[subscription.reseller_id].promotion_setting,
    )
    return int(
        connector.create_contract_service(contract_id, service_id, pricing.unit_price, pricing.unit_cost)
    )


def unmap_subscription(ctx: ServiceContext, actor: Actor, subscription_id: str) -> None:
    """The mapping goes, recorded in the audit log (who, and which contract service it pointed at)."""
    with ctx.unit_of_work() as uow:
        subscription = visible_subscription(uow.session, actor, subscription_id)
        mapping = uow.session.execute(
            delete(subscription_mappings)
            .where(subscription_mappings.c.subscription_id == subscription_id)
            .returning(subscription_mappings.c.connection_id, subscription_mappings.c.contract_service_id)
        ).first()
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
        connection = visible_connection(uow.session, actor, connection_id)
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
