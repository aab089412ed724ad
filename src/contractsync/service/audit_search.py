"""The audit log searched the way a billing manager asks: by customer, part of a subscription id,
operation type, status and the days it was recorded; and the same rows for a CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.ports.audit_records import RecordFilter
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid

JSON = dict[str, Any]
FILTERS = {"customer_id", "subscription", "type", "status", "recorded_from", "recorded_to"}
MAX_EXPORT = 50_000


def _filter(ctx: ServiceContext, actor: Actor, filters: JSON) -> RecordFilter:
    unknown = set(filters) - FILTERS
    if unknown:
        raise Invalid(f"unknown filter {sorted(unknown)[0]!r}; filters are {', '.join(sorted(FILTERS))}")
    status = filters.get("status") or None
    if status is not None and status not in {s.value for s in RecordStatus}:
        raise Invalid(f"status must be one of {', '.join(s.value for s in RecordStatus)}")
    type_name = filters.get("type") or None
    if type_name is not None and type_name not in {t.value for t in RecordType}:
        raise Invalid("type must be a connection operation type, e.g. " + RecordType.UPDATE_QUANTITY.value)
    today = ctx.now().date()
    start = _day(filters.get("recorded_from"), "recorded_from", today)
    end = _day(filters.get("recorded_to"), "recorded_to", today)
    if start is not None and end is not None and end < start:
        raise Invalid(f"recorded_to ({end}) is before recorded_from ({start})")
    customer = filters.get("customer_id")
    part = filters.get("subscription")
    return RecordFilter(
        reseller_id=actor.reseller_id,
        status=status,
        type=type_name,
        customer_id=v.text(customer, "customer_id", 100) if customer else None,
        subscription_part=v.text(part, "subscription", 100) if part else None,
        recorded_from=None if start is None else datetime.combine(start, time.min, UTC),
        recorded_before=None if end is None else datetime.combine(end + timedelta(days=1), time.min, UTC),
    )


def _day(value: Any, field: str, today: date) -> date | None:
    if value in (None, ""):
        return None
    return v.day(value, field, today)


def search_operations(ctx: ServiceContext, actor: Actor, filters: JSON, page: int, page_size: int) -> JSON:
    """A page of records, newest first: {items, page, page_size, total}."""
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be 1 or more and page_size from 1 to 200")
    where = _filter(ctx, actor, filters)
    with ctx.units(commit=False) as uow:
        total, found = uow.audit_records.page(where, page_size * (page - 1), page_size)
        items = views.operations(uow.audit_records, found)
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def export_operations(ctx: ServiceContext, actor: Actor, filters: JSON) -> list[JSON]:
    """Every matching record (at most 50,000), newest first, for a CSV file."""
    where = _filter(ctx, actor, filters)
    with ctx.units(commit=False) as uow:
        return views.operations(uow.audit_records, uow.audit_records.page(where, 0, MAX_EXPORT)[1])
