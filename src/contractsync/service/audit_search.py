"""The audit log searched the way a billing manager asks: by customer, part of a subscription id,
operation type, status and the days it was recorded; and the same rows for a CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from contractsync.adapters.db.tables import connection_operations, connections
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.service import session_compat
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid

JSON = dict[str, Any]
FILTERS = {"customer_id", "subscription", "type", "status", "recorded_from", "recorded_to"}
MAX_EXPORT = 50_000


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _query(ctx: ServiceContext, actor: Actor, filters: JSON) -> Any:
    unknown = set(filters) - FILTERS
    if unknown:
        raise Invalid(f"unknown filter {sorted(unknown)[0]!r}; filters are {', '.join(sorted(FILTERS))}")
    table = connection_operations.c
    query = select(connection_operations)
    if actor.reseller_id is not None:
        mine = select(connections.c.id).where(connections.c.reseller_id == actor.reseller_id)
        query = query.where(table.connection_id.in_(mine))
    if filters.get("customer_id"):
        query = query.where(table.customer_id == v.text(filters["customer_id"], "customer_id", 100))
    if filters.get("subscription"):
        part = v.text(filters["subscription"], "subscription", 100)
        query = query.where(func.lower(table.subscription_id).like(_like(part), escape="\\"))
    if filters.get("status"):
        if filters["status"] not in {s.value for s in RecordStatus}:
            raise Invalid(f"status must be one of {', '.join(s.value for s in RecordStatus)}")
        query = query.where(table.status == filters["status"])
    if filters.get("type"):
        if filters["type"] not in {t.value for t in RecordType}:
            raise Invalid(
                "type must be a connection operation type, e.g. " + RecordType.UPDATE_QUANTITY.value
            )
        query = query.where(table.type == filters["type"])
    today = ctx.now().date()
    start = _day(ctx, filters.get("recorded_from"), "recorded_from", today)
    end = _day(ctx, filters.get("recorded_to"), "recorded_to", today)
    if start is not None and end is not None and end < start:
        raise Invalid(f"recorded_to ({end}) is before recorded_from ({start})")
    if start is not None:
        query = query.where(table.created_at >= datetime.combine(start, time.min, UTC))
    if end is not None:
        query = query.where(table.created_at < datetime.combine(end + timedelta(days=1), time.min, UTC))
    return query


def _day(ctx: ServiceContext, value: Any, field: str, today: date) -> date | None:
    if value in (None, ""):
        return None
    return v.day(value, field, today)


def search_operations(ctx: ServiceContext, actor: Actor, filters: JSON, page: int, page_size: int) -> JSON:
    """A page of records, newest first: {items, page, page_size, total}."""
    if page < 1 or not 1 <= page_size <= 200:
        raise Invalid("page must be 1 or more and page_size from 1 to 200")
    query = _query(ctx, actor, filters)
    window = query.order_by(connection_operations.c.id.desc()).limit(page_size).offset(page_size * (page - 1))
    with ctx.unit_of_work(commit=False) as uow:
        session = uow.session
        counted = session.scalar(select(func.count()).select_from(query.subquery()))
        found = session_compat.operations(session, session.execute(window).all())
    return {"items": found, "page": page, "page_size": page_size, "total": int(counted or 0)}


def export_operations(ctx: ServiceContext, actor: Actor, filters: JSON) -> list[JSON]:
    """Every matching record (at most 50,000), newest first, for a CSV file."""
    query = _query(ctx, actor, filters).order_by(connection_operations.c.id.desc()).limit(MAX_EXPORT)
    with ctx.unit_of_work(commit=False) as uow:
        return session_compat.operations(uow.session, uow.session.execute(query).all())
