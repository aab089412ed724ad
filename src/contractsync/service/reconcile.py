"""X1 reconciliation: compare what Autotask holds with what contractsync expects, and repair.

For every mapped contract service of a connection we read Autotask's ContractServiceUnits and
compare each period with the target timeline (the intents). Each difference carries its money
impact for the period (expected units x price - Autotask units x price). `fix` plans, through
the normal outbox, the adjustments that make Autotask exact again, computed from what Autotask
really holds; the worker re-reads the units before sending (the service is marked units-unknown),
so a manual edit in Autotask is never double-corrected.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from contractsync.adapters.db import state_store
from contractsync.adapters.db.tables import contract_service_state, subscription_mappings
from contractsync.domain.engine import SyncEngine
from contractsync.domain.money import format_money
from contractsync.domain.schedule import HeldAdjustment, Timeline
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.psa import ServiceUnitsPeriod

JSON = dict[str, Any]


def reconciliation(ctx: ServiceContext, actor: Actor, connection_id: str, fix: bool) -> JSON:
    with ctx.unit_of_work(commit=fix) as uow:
        session = uow.session
        connection = visible_connection(session, actor, connection_id)
        connector = ctx.connector_for(connection)
        subscription_ids = [
            r.subscription_id
            for r in session.execute(
                select(subscription_mappings.c.subscription_id).where(
                    subscription_mappings.c.connection_id == connection_id
                )
            )
        ]
        loaded = state_store.load(session, connection_id, subscription_ids)
        differences: list[JSON] = []
        repaired: list[int] = []
        engine = SyncEngine(loaded.state)
        for subscription_id, mapping in sorted(loaded.state.mappings.items()):
            book = loaded.state.books[mapping.contract_service_id]
            contract = loaded.state.contracts[mapping.contract_id]
            periods = connector.service_units(
                mapping.contract_service_id, book.service_start, contract.end_date
            )
            target = Timeline.of_targets(list(book.intents.values()))
            found = _differences(subscription_id, mapping.contract_service_id, periods, target)
            differences += found
            if fix and found:
                book.held = _held_from(periods)
                book.pending = []
                first = min(date.fromisoformat(d["date"]) for d in found)
                engine.repair(subscription_id, mapping.contract_service_id, first, ctx.now())
                repaired.append(mapping.contract_service_id)
        record_ids = (
            state_store.save(session, loaded, f"reconcile:{uuid.uuid4().hex[:12]}", ctx.now()) if fix else []
        )
        for service in repaired:
            session.execute(
                update(contract_service_state)
                .where(
                    contract_service_state.c.connection_id == connection_id,
                    contract_service_state.c.contract_service_id == service,
                )
                .values(units_unknown=True)
            )
        impact = sum((Decimal(d["money_impact"]) for d in differences), Decimal(0))
        return {
            "connection_id": connection_id,
            "differences": differences,
            "money_impact": format_money(impact),
            "fixed": len(repaired),
            "operations": views.operations_by_id(session, record_ids),
        }


def _differences(
    subscription_id: str, service: int, periods: list[ServiceUnitsPeriod], target: Timeline
) -> list[JSON]:
    found: list[JSON] = []
    for period in sorted(periods, key=lambda p: p.start_date):
        expected = target.at(period.start_date)
        if expected is None or expected.unit_price is None:
            continue
        if expected.units == period.units and expected.unit_price == period.price:
            continue
        expected_amount = expected.units * expected.unit_price
        found.append(
            {
                "subscription_id": subscription_id,
                "contract_service_id": service,
                "date": period.start_date.isoformat(),
                "period_end": period.end_date.isoformat(),
                "posted": period.posted,
                "expected_units": expected.units,
                "autotask_units": period.units,
                "expected_price": format_money(expected.unit_price),
                "autotask_price": format_money(period.price),
                "money_impact": format_money(expected_amount - period.units * period.price),
            }
        )
    return found


def _held_from(periods: list[ServiceUnitsPeriod]) -> list[HeldAdjustment]:
    """Autotask's periods as dated changes (each period start where something changed)."""
    held: list[HeldAdjustment] = []
    units = 0
    price: Decimal | None = None
    cost: Decimal | None = None
    for period in sorted(periods, key=lambda p: p.start_date):
        if (period.units, period.price, period.cost) != (units, price, cost):
            held.append(HeldAdjustment(period.start_date, period.units - units, period.price, period.cost))
            units, price, cost = period.units, period.price, period.cost
    return held
