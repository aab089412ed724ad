"""What reconciliation needs from the database, per mapped contract service of a connection.

Read in a handful of queries for all services at once (a connection may have thousands); the
caller reads Autotask only after this transaction has ended.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from contractsync.adapters.db import domain_rows
from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.reconciliation_tables import (
    DEFAULT_CURRENCY,
    DEFAULT_EVERY_HOURS,
    reconciliation_settings,
)
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    contracts,
    customers,
    ledger,
    manual_actions,
    resellers,
    subscription_mappings,
    subscriptions,
)
from contractsync.domain.enums import RecordType
from contractsync.domain.pricing import unit_pricing
from contractsync.domain.reconciliation import OutboxRow, Refusal, SentRow
from contractsync.domain.schedule import HeldAdjustment, State
from contractsync.ports.reconciliation_facts import ConnectionRecords, ServiceRecords, why_open


def settings_of(session: Session, connection_id: str) -> tuple[int, str]:
    """(every_hours, currency): no row means daily, in the default currency."""
    row = session.execute(
        select(reconciliation_settings).where(reconciliation_settings.c.connection_id == connection_id)
    ).first()
    return (DEFAULT_EVERY_HOURS, DEFAULT_CURRENCY) if row is None else (row.every_hours, row.currency)


def read(session: Session, connection_id: str, timezone: str) -> ConnectionRecords:
    every_hours, currency = settings_of(session, connection_id)
    mappings = session.execute(
        select(subscription_mappings, subscriptions.c.customer_id)
        .join(subscriptions, subscriptions.c.id == subscription_mappings.c.subscription_id)
        .where(subscription_mappings.c.connection_id == connection_id)
        .order_by(subscription_mappings.c.subscription_id)
    ).all()
    services = {
        m.contract_service_id: ServiceRecords(
            m.subscription_id, m.customer_id, m.contract_id, m.contract_service_id, m.mapped_on
        )
        for m in mappings
    }
    contract_rows = session.execute(select(contracts).where(contracts.c.connection_id == connection_id))
    found = {r.contract_id: domain_rows.contract(r) for r in contract_rows}
    ids = sorted(services)
    for row in session.execute(
        select(service_books).where(
            service_books.c.connection_id == connection_id,
            one_of(session, service_books.c.contract_service_id, ids),
        )
    ):
        book = services[row.contract_service_id]
        book.intents = list(domain_rows.intents_from_json(row.intents).values())
        book.service_start = min(book.service_start, row.service_start)
    _read_ledger(session, connection_id, services)
    _read_outbox(session, connection_id, services)
    _read_refusals(session, connection_id, services)
    return ConnectionRecords(connection_id, timezone, currency, every_hours, found, list(services.values()))


class SqlReconciliationFacts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def read(self, connection_id: str, timezone: str) -> ConnectionRecords:
        return read(self.session, connection_id, timezone)


def _read_ledger(session: Session, connection_id: str, services: dict[int, ServiceRecords]) -> None:
    query = (
        select(ledger, adjustments.c.operation_id, connection_operations.c.details)
        .outerjoin(adjustments, adjustments.c.id == ledger.c.adjustment_id)
        .outerjoin(connection_operations, connection_operations.c.id == adjustments.c.operation_id)
        .where(ledger.c.connection_id == connection_id)
        .order_by(ledger.c.effective_date, ledger.c.id)
    )
    for row in session.execute(query):
        service = services.get(row.contract_service_id)
        if service is None:
            continue
        notes = list((row.details or {}).get("notes", []))
        note = next((n for n in notes if row.effective_date.isoformat() in n), None)
        held = HeldAdjustment(row.effective_date, row.unit_change, row.unit_price, row.unit_cost)
        service.sent.append(SentRow(held, row.operation_id, note))


def _read_outbox(session: Session, connection_id: str, services: dict[int, ServiceRecords]) -> None:
    query = (
        select(adjustments)
        .where(
            adjustments.c.connection_id == connection_id,
            adjustments.c.status.in_(("pending", "sending", "failed")),
        )
        .order_by(adjustments.c.id)
    )
    for row in session.execute(query):
        service = services.get(row.contract_service_id)
        if service is None:
            continue
        outbox_row = OutboxRow(
            row.effective_date,
            row.target_units,
            row.unit_price,
            row.unit_cost,
            row.operation_id,
            why_open(row.status, row.error, row.attempts, row.due_at),
        )
        (service.failed if row.status == "failed" else service.open_rows).append(outbox_row)


def refused_records_query(connection_id: str | None = None) -> Any:
    """Failed records that planned nothing (e.g. outside the contract) and that no later record of
    their subscription has overtaken; unsupported attributes (R1c) and manual actions excluded."""
    later = connection_operations.alias("later")
    query = select(connection_operations).where(
        connection_operations.c.status == "failed",
        connection_operations.c.type != RecordType.UPDATE_UNSUPPORTED.value,
        ~exists().where(adjustments.c.operation_id == connection_operations.c.id),
        ~exists().where(manual_actions.c.operation_id == connection_operations.c.id),
        ~exists().where(
            and_(
                later.c.subscription_id == connection_operations.c.subscription_id,
                later.c.id > connection_operations.c.id,
                later.c.status.in_(("pending", "succeeded", "skipped")),
            )
        ),
    )
    if connection_id is not None:
        query = query.where(connection_operations.c.connection_id == connection_id)
    return query


def _read_refusals(session: Session, connection_id: str, services: dict[int, ServiceRecords]) -> None:
    by_subscription = {s.subscription_id: s for s in services.values()}
    refused = [
        r
        for r in session.execute(refused_records_query(connection_id).order_by(connection_operations.c.id))
        if r.subscription_id in by_subscription
    ]
    for row in refused:
        service = by_subscription[row.subscription_id]
        day = row.effective_date or service.service_start
        service.refusals.append(Refusal(row.id, day, row.reason or "refused"))
    wanted_ids = {r.subscription_id for r in refused}
    if not wanted_ids:
        return
    subs = session.execute(select(subscriptions).where(one_of(session, subscriptions.c.id, wanted_ids))).all()
    customer_rows = {
        r.id: r
        for r in session.execute(
            select(customers).where(one_of(session, customers.c.id, {s.customer_id for s in subs}))
        )
    }
    reseller_rows = {r.id: r for r in session.execute(select(resellers))}
    for sub in subs:
        value = domain_rows.subscription(sub)
        customer = customer_rows[sub.customer_id]
        reseller = domain_rows.reseller(reseller_rows[customer.reseller_id])
        pricing = unit_pricing(value, domain_rows.customer(customer), reseller.promotion_setting)
        units = value.quantity if value.is_live else 0
        by_subscription[sub.id].wanted = State(units, pricing.unit_price, pricing.unit_cost)
