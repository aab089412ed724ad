"""JSON views of stored rows, as the façade's docstring describes them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from contractsync.domain.model import Customer, Reseller
from contractsync.domain.money import format_money, format_percent
from contractsync.domain.pricing import unit_pricing
from contractsync.ports.alerts import Alert
from contractsync.ports.audit_records import AdjustmentLine, AuditRecord, AuditRecords, ManualAction
from contractsync.ports.directory import (
    ConnectionPause,
    CustomerMapping,
    StoredConnection,
    StoredSubscription,
    SubscriptionMapping,
)

JSON = dict[str, Any]


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def instant(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def percent(value: Decimal | None) -> str | None:
    return None if value is None else format_percent(value)


def reseller(value: Reseller) -> JSON:
    return {
        "id": value.id,
        "name": value.name,
        "promotion_setting": value.promotion_setting.value,
        "approved_through": day(value.approved_through),
    }


def connection(row: StoredConnection, pause: ConnectionPause | None = None) -> JSON:
    """`pause`: when Autotask refused the connection's credentials."""
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


def customer(row: Customer, mapping: CustomerMapping | None) -> JSON:
    return {
        "id": row.id,
        "reseller_id": row.reseller_id,
        "name": row.name,
        "tenant_id": row.tenant_id,
        "provider_margins": {k: format_percent(v) for k, v in row.provider_margins.items()},
        "mapping": None
        if mapping is None
        else {"connection_id": mapping.connection_id, "company_id": mapping.company_id},
    }


@dataclass(frozen=True)
class SubscriptionFacts:
    """What a subscription's answer shows besides the subscription itself."""

    customer: Customer
    reseller: Reseller
    mapping: SubscriptionMapping | None
    sync_state: str
    open_actions: int


def subscription(stored: StoredSubscription, facts: SubscriptionFacts) -> JSON:
    value, mapping = stored.value, facts.mapping
    pricing = unit_pricing(value, facts.customer, facts.reseller.promotion_setting)
    return {
        "id": value.id,
        "customer_id": value.customer_id,
        "reseller_id": value.reseller_id,
        "offer_id": value.offer_id,
        "offer_name": value.offer_name,
        "kind": value.kind.value,
        "quantity": value.quantity,
        "status": value.status.value,
        "term": value.term.value,
        "billing_cycle": value.billing_cycle.value,
        "start_date": day(value.start_date),
        "end_date": day(value.end_date),
        "auto_renew": value.auto_renew,
        "friendly_name": value.friendly_name,
        "list_price": format_money(value.list_price),
        "promotion": None
        if value.promotion is None
        else {"id": value.promotion.id, "discount_percent": format_percent(value.promotion.discount_percent)},
        "price_margin_percent": percent(value.price_margin_percent),
        "unit_cost": format_money(pricing.unit_cost),
        "unit_price": format_money(pricing.unit_price),
        "sync_state": facts.sync_state,
        "mapping": None
        if mapping is None
        else {
            "connection_id": mapping.connection_id,
            "contract_id": mapping.contract_id,
            "contract_service_id": mapping.contract_service_id,
            "service_id": mapping.service_id,
            "mapped_on": day(mapping.mapped_on),
        },
        "open_manual_actions": facts.open_actions,
        "version": stored.version,
    }


def adjustment(row: AdjustmentLine) -> JSON:
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


def operation(records: AuditRecords, row: AuditRecord, preview: bool = False) -> JSON:
    return operations(records, [row], preview)[0]


def operations(records: AuditRecords, rows: Sequence[AuditRecord], preview: bool = False) -> list[JSON]:
    """Audit records with their adjustments, read in one query (a page of the log, not one each)."""
    by_operation: dict[int, list[AdjustmentLine]] = defaultdict(list)
    for line in records.adjustments([r.id for r in rows]):
        by_operation[line.operation_id].append(line)
    return written_operations(rows, by_operation, preview)


def written_operations(
    rows: Sequence[Any], adjustments_by_operation: Mapping[int, list[Any]], preview: bool = False
) -> list[JSON]:
    """Audit records from rows at hand (e.g. as this transaction just wrote them)."""
    return [_operation(row, adjustments_by_operation.get(row.id, []), preview) for row in rows]


def _operation(row: AuditRecord, rows: list[AdjustmentLine], preview: bool) -> JSON:
    return {
        "id": row.id,
        "connection_id": row.connection_id,
        "subscription_id": row.subscription_id,
        "customer_id": row.customer_id,
        "operation_key": row.operation_key,
        "type": row.type,
        "status": row.status,
        "reason": row.reason,
        "notes": list(row.details.get("notes", [])),
        "actor": row.details.get("actor"),
        "effective_date": day(row.effective_date),
        "created_at": instant(row.created_at),
        "updated_at": instant(row.updated_at),
        "preview": preview,
        "adjustments": [adjustment(r) for r in rows],
        "can_retry": row.status == "failed" and any(r.status == "failed" for r in rows),
    }


def operations_by_id(records: AuditRecords, ids: list[int], preview: bool = False) -> list[JSON]:
    if not ids:
        return []
    by_id = {r.id: r for r in records.records(ids)}
    return operations(records, [by_id[i] for i in ids], preview)


def manual_action(row: ManualAction) -> JSON:
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


def alert(row: Alert) -> JSON:
    return {
        "id": row.id,
        "kind": row.kind,
        "message": row.message,
        "connection_id": row.connection_id,
        "subscription_id": row.subscription_id,
        "reseller_id": row.reseller_id,
        "created_at": instant(row.created_at),
    }


def operation_summaries(records: AuditRecords, ids: list[int]) -> list[JSON]:
    """Records without their adjustments, in one query (for answers about thousands of records)."""
    by_id = {r.id: r for r in records.summaries(ids)}
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
