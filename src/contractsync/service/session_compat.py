"""Transitional: session-based look-ups for the service modules not yet on the ports (mapping,
reconcile, reconcile_fix, audit_search). Rows come back as SQL rows, as
those modules expect. Delete this module when they take a `UnitOfWork`; use `context.visible_*` and
`views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractsync.adapters.db.audit_records import SqlAuditRecords
from contractsync.adapters.db.tables import connections, customers, resellers, subscriptions
from contractsync.domain.bounds import control_character
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.errors import NotFound

JSON = dict[str, Any]


def _visible(session: Session, actor: Actor, table: Any, key: str, what: str) -> Any:
    """The row with id `key`, or NotFound — also for another reseller's rows, so ids don't leak."""
    if control_character(key) is not None:  # no stored id has one (and NUL fails on PostgreSQL)
        raise NotFound(f"{what} {key!r} not found")
    row = session.execute(select(table).where(table.c.id == key)).first()
    if row is None or not actor.can_see(row.id if table is resellers else row.reseller_id):
        raise NotFound(f"{what} {key} not found")
    return row


def visible_reseller(session: Session, actor: Actor, reseller_id: str) -> Any:
    return _visible(session, actor, resellers, reseller_id, "reseller")


def visible_customer(session: Session, actor: Actor, customer_id: str) -> Any:
    return _visible(session, actor, customers, customer_id, "customer")


def visible_subscription(session: Session, actor: Actor, subscription_id: str) -> Any:
    return _visible(session, actor, subscriptions, subscription_id, "subscription")


def visible_connection(session: Session, actor: Actor, connection_id: str) -> Any:
    return _visible(session, actor, connections, connection_id, "connection")


def operations(session: Session, rows: Sequence[Any], preview: bool = False) -> list[JSON]:
    """Audit records (SQL rows of `connection_operations`) with their adjustments."""
    return views.operations(SqlAuditRecords(session), rows, preview)


def operations_by_id(session: Session, ids: list[int], preview: bool = False) -> list[JSON]:
    return views.operations_by_id(SqlAuditRecords(session), ids, preview)


def operation_summaries(session: Session, ids: list[int]) -> list[JSON]:
    return views.operation_summaries(SqlAuditRecords(session), ids)


written_operations = views.written_operations
