"""JSON views of stored rows, as the façade's docstring describes them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractsync.adapters.db import domain_rows
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    customer_mappings,
)
from contractsync.domain.money import format_money, format_percent
from contractsync.domain.pricing import unit_pricing

JSON = dict[str, Any]


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def instant(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def percent(value: Decimal | None) -> str | None:
    return None if value is None else format_percent(value)


def reseller(row: Any) -> JSON:
    return {
        "id": row.id,
        "name": row.name,
        "promotion_setting": row.promotion_setting,
        "approved_through": day(row.approved_through),
    }


def connection(row: Any, pause: Any = None) -> JSON:
    """`pause`: the connection's `connection_pauses` row, when Autotask refused its credentials."""
    return {
        "id": row.id,
        "reseller_id": row.reseller_id,
        "kind": row.kind,
        "username": row.username,
        "integration_code": row.integration_code,
        "base_url": row.base_url,
        "timezone": row.timezone,
        "settle_seconds": row.settle_seconds,
        "policies": {
            "upgrade": "manual",
            "legacy_suspend": "manual",
            "reseller_change": "manual",
            **(row.policies or {}),
        },
        "created_at": instant(row.created_at),
        "paused": None
        if pause is None
        else {
            "reason": pause.reason,
            "since": instant(pause.since),
            "next_probe_at": instant(pause.next_probe_at),
        },
    }


def customer(session: Session, row: Any) -> JSON:
    mapping = session.execute(
        select(customer_mappings).where(customer_mappings.c.customer_id == row.id)
    ).first()
    return {
        "id": row.id,
        "reseller_id": row.reseller_id,
        "name": row.name,
        "tenant_id": row.tenant_id,
        "provider_margins": {k: format_percent(Decimal(v)) for k, v in (row.provider_margins or {}).items()},
        "mapping": None
        if mapping is None
        else {"connection_id": mapping.connection_id, "company_id": mapping.company_id},
    }


def subscription(
    row: Any, customer_row: Any, reseller_row: Any, mapping: Any, sync_state: str, open_actions: int
) -> JSON:
    value = domain_rows.subscription(row)
    pricing = unit_pricing(
        value, domain_rows.customer(customer_row), domain_rows.reseller(reseller_row).promotion_setting
    )
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "reseller_id": row.reseller_id,
        "offer_id": row.offer_id,
        "offer_name": row.offer_name,
        "kind": row.kind,
        "quantity": row.quantity,
        "status": row.status,
        "term": row.term,
        "billing_cycle": row.billing_cycle,
        "start_date": day(row.start_date),
        "end_date": day(row.end_date),
        "auto_renew": row.auto_renew,
        "friendly_name": row.friendly_name,
        "list_price": format_money(row.list_price),
        "promotion": None
        if value.promotion is None
        else {"id": value.promotion.id, "discount_percent": format_percent(value.promotion.discount_percent)},
        "price_margin_percent": percent(row.price_margin_percent),
        "unit_cost": format_money(pricing.unit_cost),
        "unit_price": format_money(pricing.unit_price),
        "sync_state": sync_state,
        "mapping": None
        if mapping is None
        else {
            "connection_id": mapping.connection_id,
            "contract_id": mapping.contract_id,
            "contract_service_id": mapping.contract_service_id,
            "service_id": mapping.service_id,
            "mapped_on": day(mapping.mapped_on),
        },
        "open_manual_actions": open_actions,
        "version": row.version,
    }


def adjustment(row: Any) -> JSON:
    return {
        "id": row.id,
        "contract_id": row.contract_id,
        "contract_service_id": row.contract_service_id,
        "effective_date": day(row.effective_date),
        "target_units": row.target_units,
        "unit_change": row.sent_unit_change if row.sent_unit_change is not None else row.planned_unit_change,
        "adjusted_unit_price": format_money(row.unit_price),
        "adjusted_unit_cost": format_money(row.unit_cost),
        "status": row.status,
        "attempts": row.attempts,
        "error": row.error,
        "due_at": instant(row.due_at),
        "sent_at": instant(row.sent_at),
    }


def operation(session: Session, row: Any, preview: bool = False) -> JSON:
    return operations(session, [row], preview)[0]


def operations(session: Session, rows: Sequence[Any], preview: bool = False) -> list[JSON]:
    """Audit records with their adjustments, read in one query (a page of the log, not one each)."""
    by_operation: dict[int, list[Any]] = defaultdict(list)
    if rows:
        for adjustment_row in session.execute(
            select(adjustments)
            .where(one_of(session, adjustments.c.operation_id, [r.id for r in rows]))
            .order_by(adjustments.c.id)
        ):
            by_operation[adjustment_row.operation_id].append(adjustment_row)
    return written_operations(rows, by_operation, preview)


def written_operations(
    rows: Sequence[Any], adjustments_by_operation: Mapping[int, list[Any]], preview: bool = False
) -> list[JSON]:
    """Audit records from rows at hand (e.g. as this transaction just wrote them)."""
    return [_operation(row, adjustments_by_operation.get(row.id, []), preview) for row in rows]


def _operation(row: Any, rows: list[Any], preview: bool) -> JSON:
    return {
        "id": row.id,
        "connection_id": row.connection_id,
        "subscription_id": row.subscription_id,
        "customer_id": row.customer_id,
        "operation_key": row.operation_key,
        "type": row.type,
        "status": row.status,
        "reason": row.reason,
        "notes": list((row.details or {}).get("notes", [])),
        "effective_date": day(row.effective_date),
        "created_at": instant(row.created_at),
        "updated_at": instant(row.updated_at),
        "preview": preview,
        "adjustments": [adjustment(r) for r in rows],
        "can_retry": row.status == "failed" and any(r.status == "failed" for r in rows),
    }


def operations_by_id(session: Session, ids: list[int], preview: bool = False) -> list[JSON]:
    if not ids:
        return []
    rows = session.execute(
        select(connection_operations).where(one_of(session, connection_operations.c.id, ids))
    ).all()
    by_id = {r.id: r for r in rows}
    return operations(session, [by_id[i] for i in ids], preview)


def manual_action(row: Any) -> JSON:
    return {
        "id": row.id,
        "connection_id": row.connection_id,
        "operation_id": row.operation_id,
        "subscription_id": row.subscription_id,
        "contract_service_id": row.contract_service_id,
        "effective_date": day(row.effective_date),
        "unit_change": row.unit_change,
        "instruction": row.instruction,
        "status": row.status,
        "created_at": instant(row.created_at),
    }


def alert(row: Any) -> JSON:
    return {
        "id": row.id,
        "kind": row.kind,
        "message": row.message,
        "connection_id": row.connection_id,
        "subscription_id": row.subscription_id,
        "created_at": instant(row.created_at),
    }


def operation_summaries(session: Session, ids: list[int]) -> list[JSON]:
    """Records without their adjustments, in one query (for answers about thousands of records)."""
    if not ids:
        return []
    rows = session.execute(
        select(
            connection_operations.c.id,
            connection_operations.c.type,
            connection_operations.c.status,
            connection_operations.c.subscription_id,
            connection_operations.c.reason,
            connection_operations.c.effective_date,
        ).where(connection_operations.c.id.in_(ids))
    ).all()
    by_id = {r.id: r for r in rows}
    return [
        {
            "id": i,
            "type": by_id[i].type,
            "status": by_id[i].status,
            "subscription_id": by_id[i].subscription_id,
            "reason": by_id[i].reason,
            "effective_date": day(by_id[i].effective_date),
        }
        for i in ids
    ]
