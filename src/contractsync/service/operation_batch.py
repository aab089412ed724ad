"""Many subscription operations in one transaction: imports and bursts of changes.

Each operation goes through the same rules as `apply_operation`, in the order given. The state
is loaded once per run of consecutive operations on the same connection, and everything is saved
in one transaction with the audit records and outbox rows (the transactional outbox).

- A malformed operation (unknown type, missing or bad field) refuses the whole batch: nothing
  is stored, the error names `operations[i]`.
- An operation on an unknown subscription, or one the subscription's state refuses, is answered
  `refused` with its reason and changes nothing; the others apply. With `atomic: true` one
  refusal refuses the whole batch instead.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db import state_store
from contractsync.adapters.db.sql import one_of
from contractsync.adapters.db.tables import (
    connection_operations,
    connections,
    subscription_mappings,
    subscriptions,
)
from contractsync.domain import rules
from contractsync.domain.books import Record
from contractsync.domain.engine import SyncEngine
from contractsync.domain.operations import (
    ChangeReseller,
    OperationRefused,
    SubscriptionOperation,
    Upgrade,
    parse_operation,
)
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer, visible_reseller
from contractsync.service.errors import Invalid, NotFound, ServiceError
from contractsync.service.operating import preview_flag, with_retries

JSON = dict[str, Any]
MAX_OPERATIONS = 1000
_RECORD_REFERENCE = re.compile(r"#(\d+)")


@dataclass
class _Item:
    index: int
    subscription_id: str
    body: JSON
    op: SubscriptionOperation | None = None
    error: ServiceError | None = None
    record_ids: list[int] = field(default_factory=list)


def apply_operations(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    unknown = sorted(set(body) - {"operations", "preview", "atomic"})
    if unknown:
        raise Invalid(f"{unknown[0]} is not a known field", {"field": unknown[0]})
    preview = preview_flag(body)
    atomic = body.get("atomic", False)
    if not isinstance(atomic, bool):
        raise Invalid("atomic must be true or false", {"field": "atomic"})
    raw = body.get("operations")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OPERATIONS:
        raise Invalid(
            f"operations must be a list of 1 to {MAX_OPERATIONS} operations", {"field": "operations"}
        )
    return with_retries(
        lambda: _apply(ctx, actor, [_item(i, entry) for i, entry in enumerate(raw)], preview, atomic)
    )


def _item(index: int, entry: object) -> _Item:
    where = f"operations[{index}]"
    if not isinstance(entry, dict):
        raise Invalid(f"{where} must be a JSON object", {"field": where})
    subscription_id = entry.get("subscription_id")
    if not isinstance(subscription_id, str) or not subscription_id:
        raise Invalid(f"{where}.subscription_id is required", {"field": f"{where}.subscription_id"})
    if "preview" in entry:
        raise Invalid(f"{where}.preview: preview applies to the whole batch", {"field": f"{where}.preview"})
    return _Item(index, subscription_id, {k: v for k, v in entry.items() if k != "subscription_id"})


def _apply(ctx: ServiceContext, actor: Actor, items: list[_Item], preview: bool, atomic: bool) -> JSON:
    with ctx.unit_of_work(commit=not preview) as uow:
        session = uow.session
        rows = _visible_subscriptions(session, actor, _subscription_ids(items))
        connection_of = _connections(session, rows)
        for item in items:
            if item.subscription_id not in rows:
                item.error = NotFound(f"subscription {item.subscription_id} not found")
        live = [item for item in items if item.error is None]
        for connection_id, run in groupby(live, key=lambda item: connection_of[item.subscription_id]):
            _apply_run(
                ctx, session, actor, connection_id, _connection_row(session, connection_id), list(run), rows
            )
        refused = [item for item in items if item.error is not None]
        if atomic and refused:
            first = refused[0]
            assert first.error is not None
            raise Invalid(
                f"operations[{first.index}]: {first.error.message}; nothing was applied",
                {"refused": [{"index": i.index, "message": i.error.message} for i in refused if i.error]},
            )
        return _answer(session, items, preview)


def _subscription_ids(items: list[_Item]) -> set[str]:
    ids = {item.subscription_id for item in items}
    for item in items:
        target = item.body.get("target_subscription_id")
        if item.body.get("type") == "upgrade" and isinstance(target, str):
            ids.add(target)
    return ids


def _visible_subscriptions(session: Session, actor: Actor, ids: set[str]) -> dict[str, Any]:
    """The subscriptions the caller may see, by id (another reseller's look unknown)."""
    found = session.execute(select(subscriptions).where(one_of(session, subscriptions.c.id, ids))).all()
    return {row.id: row for row in found if actor.can_see(row.reseller_id)}


def _connections(session: Session, rows: dict[str, Any]) -> dict[str, str | None]:
    """Each subscription's connection: the one it is mapped through, else its reseller's first."""
    mapped = dict(
        session.execute(
            select(subscription_mappings.c.subscription_id, subscription_mappings.c.connection_id).where(
                one_of(session, subscription_mappings.c.subscription_id, rows)
            )
        ).all()
    )
    first_of_reseller: dict[str, str] = {}
    for connection_id, reseller_id in session.execute(
        select(connections.c.id, connections.c.reseller_id).order_by(connections.c.id.desc())
    ):
        first_of_reseller[reseller_id] = connection_id
    return {sid: mapped.get(sid) or first_of_reseller.get(row.reseller_id) for sid, row in rows.items()}


def _connection_row(session: Session, connection_id: str | None) -> Any:
    if connection_id is None:
        return None
    return session.execute(select(connections).where(connections.c.id == connection_id)).one()


def _apply_run(
    ctx: ServiceContext,
    session: Session,
    actor: Actor,
    connection_id: str | None,
    connection: Any,
    run: list[_Item],
    rows: dict[str, Any],
) -> None:
    """Consecutive operations on one connection: one state load, the rules in order, one save."""
    today = ctx.today_in(connection.timezone if connection else "UTC")
    ids: set[str] = set()
    customer_ids: set[str] = set()
    reseller_ids: set[str] = set()
    for item in run:
        try:
            item.op = parse_operation(item.subscription_id, item.body, today)
        except ValueError as error:  # InvalidInput is a ValueError
            raise Invalid(
                f"operations[{item.index}]: {error}", {"field": f"operations[{item.index}]"}
            ) from None
        ids.add(item.subscription_id)
        try:
            if isinstance(item.op, Upgrade):
                if item.op.target_subscription_id not in rows:
                    raise NotFound(f"subscription {item.op.target_subscription_id} not found")
                ids.add(item.op.target_subscription_id)
            if isinstance(item.op, ChangeReseller):
                visible_reseller(session, actor, item.op.reseller_id)
                visible_customer(session, actor, item.op.customer_id)
                customer_ids.add(item.op.customer_id)
                reseller_ids.add(item.op.reseller_id)
        except ServiceError as error:
            item.error = error
    state_store.lock_subscriptions(session, ids)
    loaded = state_store.load(session, connection_id, ids, customer_ids, reseller_ids)
    engine = SyncEngine(loaded.state)
    now = ctx.now()
    for item in run:
        if item.error is not None or item.op is None:
            continue
        try:
            decision = rules.decide(loaded.state.context(), item.op)
        except OperationRefused as refusal:
            item.error = Invalid(refusal.reason)
            continue
        item.record_ids = [record.id for record in engine.apply(decision, now)]
    real_ids = state_store.save(session, loaded, uuid.uuid4().hex, now)
    new_temp_ids = sorted(r for r in loaded.state.records if r >= state_store.TEMP_BASE)
    real_of = dict(zip(new_temp_ids, real_ids, strict=True))
    for item in run:  # the engine's temporary record ids, replaced by the stored ones
        item.record_ids = [real_of[temp] for temp in item.record_ids]
    _renumber_reasons(session, loaded.state.records, real_of)


def _renumber_reasons(session: Session, records: dict[int, Record], real_of: dict[int, int]) -> None:
    """A later operation of the batch may carry an earlier one's adjustment ("carried by connection
    operation #N"): the engine named the temporary id, the audit log must name the stored one."""
    for temp, record in records.items():
        if temp not in real_of or not record.reason:
            continue
        reason = _RECORD_REFERENCE.sub(lambda m: f"#{real_of.get(int(m[1]), int(m[1]))}", record.reason)
        if reason != record.reason:
            session.execute(
                update(connection_operations)
                .where(connection_operations.c.id == real_of[temp])
                .values(reason=reason)
            )


def _answer(session: Session, items: list[_Item], preview: bool) -> JSON:
    records = iter(views.operations_by_id(session, [i for item in items for i in item.record_ids], preview))
    results = []
    for item in items:
        answer: JSON = {
            "index": item.index,
            "subscription_id": item.subscription_id,
            "type": item.body.get("type"),
        }
        if item.error is not None:
            answer.update(
                status="refused", error={"code": item.error.code, "message": item.error.message}, records=[]
            )
        else:
            mine = [next(records) for _ in item.record_ids]
            answer.update(status="previewed" if preview else "applied", error=None, records=mine)
        results.append(answer)
    refused = sum(1 for item in items if item.error is not None)
    return {"preview": preview, "applied": len(items) - refused, "refused": refused, "results": results}
