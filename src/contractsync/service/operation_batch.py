"""Many subscription operations in one transaction: imports and bursts of changes.

Each operation goes through the same rules as a single operation, in the order given, and ends
exactly as if it had come alone. The state is loaded and saved once per run of consecutive
operations on one connection that touch different subscriptions; all runs share one transaction
with their audit records and outbox rows (the transactional outbox). Single operations arriving
together are grouped the same way (`group_commit`).

- A malformed operation (unknown type, missing or bad field) refuses the whole batch: nothing
  is stored, the error names `operations[i]`.
- An operation on an unknown subscription, or one the subscription's state refuses, is answered
  `refused` with its reason and changes nothing; the others apply. With `atomic: true` one
  refusal refuses the whole batch instead.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from contractsync.domain import rules
from contractsync.domain.batch_command import BatchCommand
from contractsync.domain.bounds import MAX_BATCH_OPERATIONS
from contractsync.domain.engine import SyncEngine
from contractsync.domain.operations import (
    ChangeReseller,
    InvalidInput,
    OperationCommand,
    OperationRefused,
    SubscriptionOperation,
    Upgrade,
)
from contractsync.ports.subscription_books import TEMP_BASE, LoadedState, OperationContext
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import operation_keys, views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer, visible_reseller
from contractsync.service.errors import Invalid, NotFound, ServiceError
from contractsync.service.retries import with_retries

JSON = dict[str, Any]
MAX_OPERATIONS = MAX_BATCH_OPERATIONS


@dataclass
class Item:
    """One operation of a batch: what was asked, by whom, and how it ended."""

    index: int
    subscription_id: str
    #: what was asked; None when it could not be read (`malformed` says why)
    command: OperationCommand | None
    actor: Actor
    #: a malformed operation refuses the whole batch (an API batch) or only itself (group commit)
    strict: bool = True
    malformed: InvalidInput | None = None
    #: the type asked for, as given (answered even for a malformed operation)
    type: object = None
    op: SubscriptionOperation | None = None
    error: ServiceError | None = None
    record_ids: list[int] = field(default_factory=list)
    records: list[JSON] = field(default_factory=list)
    #: sent again under an idempotency key: the records of the first time, or the batch's earlier item
    replayed_record_ids: list[int] | None = None
    replay_of: Item | None = None

    def __post_init__(self) -> None:
        if self.type is None and self.command is not None:
            self.type = self.command.type

    def fresh(self) -> Item:
        """The same request, before any attempt (a lost race runs the batch again)."""
        return Item(
            self.index, self.subscription_id, self.command, self.actor, self.strict, self.malformed, self.type
        )

    @property
    def key(self) -> str | None:
        return self.command.idempotency_key if self.command is not None else None

    @property
    def request(self) -> JSON:
        """The operation itself, as API.md writes it, without its idempotency key."""
        assert self.command is not None
        return {k: v for k, v in self.command.as_json().items() if k != operation_keys.FIELD}

    @property
    def fingerprint(self) -> str:
        return operation_keys.fingerprint(self.subscription_id, self.request)

    @property
    def is_replay(self) -> bool:
        return self.replay_of is not None or self.replayed_record_ids is not None


def apply_operations(ctx: ServiceContext, actor: Actor, batch: BatchCommand) -> JSON:
    preview, atomic = batch.preview, batch.atomic
    requested = [
        Item(i, entry.subscription_id, entry.command, actor, malformed=entry.malformed, type=entry.type)
        for i, entry in enumerate(batch.entries)
    ]

    def attempt() -> JSON:
        items = [item.fresh() for item in requested]
        with ctx.units(commit=not preview) as uow:
            apply_items(ctx, uow, items, preview)
            refused = [item for item in items if item.error is not None]
            if atomic and refused:
                raise Invalid(
                    f"operations[{refused[0].index}]: {_message(refused[0])}; nothing was applied",
                    {"refused": [{"index": i.index, "message": _message(i)} for i in refused]},
                )
        return _answer(items, preview)

    return with_retries(ctx.units, attempt)


def as_command(operation: OperationCommand | JSON) -> OperationCommand:
    """A caller's operation as a command: a JSON body (API.md) is read by the same rules."""
    if isinstance(operation, OperationCommand):
        return operation
    if not isinstance(operation, dict):
        raise Invalid("the body must be a JSON object")
    try:
        return OperationCommand.from_json(operation)
    except InvalidInput as error:
        raise Invalid(str(error)) from None


def _malformed(item: Item, error: Exception) -> None:
    """A malformed operation refuses a strict batch whole, else only itself."""
    if item.strict:
        where = f"operations[{item.index}]"
        raise Invalid(f"{where}: {error}", {"field": where})
    item.error = Invalid(str(error))


def _message(item: Item) -> str:
    return item.error.message if item.error else ""


def apply_items(ctx: ServiceContext, uow: UnitOfWork, items: list[Item], preview: bool) -> None:
    """Run the operations in order in the unit of work's transaction; each ends with its records
    or its error. Raises `Invalid` for a malformed strict item (the caller rolls back)."""
    context = uow.books.read_context(_subscription_ids(items))
    rows = context.subscriptions
    unsaved = dict(rows)  # rows as read; a run that saves a subscription drops it from here
    for item in items:
        row = rows.get(item.subscription_id)
        if row is None or not item.actor.can_see(row.reseller_id):
            item.error = NotFound(f"subscription {item.subscription_id} not found")
            continue
        if item.malformed is not None:
            _malformed(item, item.malformed)
    operation_keys.settle_known(uow.books, items)
    live = [item for item in items if item.error is None and not item.is_replay]
    written = []
    for connection_id, run in _runs(live, context.connection_of):
        written.append(_apply_run(ctx, uow, connection_id, context, run, unsaved))
    for item in items:
        if item.replay_of is not None:
            item.record_ids, item.error = item.replay_of.record_ids, item.replay_of.error
        elif item.replayed_record_ids is not None:
            item.record_ids = item.replayed_record_ids
    if not preview:
        operation_keys.remember(uow.books, items, ctx.now())
    record_ids = [i for item in items for i in item.record_ids]
    if len(written) == 1 and all(not item.is_replay for item in items):
        # One run wrote every record answered, and nothing changed them since: no need to read them back.
        loaded = written[0]
        by_operation: dict[int, list[Any]] = defaultdict(list)
        for adjustment in loaded.written_adjustments:
            by_operation[adjustment.operation_id].append(adjustment)
        answers = views.written_operations(
            [loaded.written_records[i] for i in record_ids], by_operation, preview
        )
    else:
        answers = views.operations_by_id(uow.audit_records, record_ids, preview)
    records = iter(answers)
    for item in items:
        item.records = [next(records) for _ in item.record_ids]


def _touches(item: Item) -> set[str]:
    """The subscriptions an operation changes: its own, and an upgrade's target."""
    if item.command is None:
        return {item.subscription_id}
    return item.command.touches(item.subscription_id)


def _subscription_ids(items: list[Item]) -> set[str]:
    return set().union(*(_touches(item) for item in items))


def _runs(items: list[Item], connection_of: dict[str, str | None]) -> Iterator[tuple[str | None, list[Item]]]:
    """Consecutive operations on one connection that touch different subscriptions: each run is
    loaded and saved once. A second operation on a subscription starts a new run, so that every
    operation gets its own subscription version and history row, as if it had come alone."""
    run: list[Item] = []
    touched: set[str] = set()
    for item in items:
        connection_id = connection_of[item.subscription_id]
        if run and (connection_id != connection_of[run[0].subscription_id] or touched & _touches(item)):
            yield connection_of[run[0].subscription_id], run
            run, touched = [], set()
        run.append(item)
        touched |= _touches(item)
    if run:
        yield connection_of[run[0].subscription_id], run


def _apply_run(
    ctx: ServiceContext,
    uow: UnitOfWork,
    connection_id: str | None,
    context: OperationContext,
    run: list[Item],
    unsaved: dict[str, Any],
) -> LoadedState:
    """Consecutive operations on one connection: one state load, the rules in order, one save."""
    connection = context.connections.get(connection_id or "")
    rows = context.subscriptions
    today = ctx.today_in(connection.timezone if connection else "UTC")
    ids: set[str] = set()
    customer_ids: set[str] = set()
    reseller_ids: set[str] = set()
    for item in run:
        assert item.command is not None  # a malformed item has its error already
        try:
            item.op = item.command.operation(item.subscription_id, today)
        except InvalidInput as error:
            _malformed(item, error)
            continue
        ids.add(item.subscription_id)
        try:
            if isinstance(item.op, Upgrade):
                target = rows.get(item.op.target_subscription_id)
                if target is None or not item.actor.can_see(target.reseller_id):
                    raise NotFound(f"subscription {item.op.target_subscription_id} not found")
                ids.add(target.id)
            if isinstance(item.op, ChangeReseller):
                visible_reseller(uow.directory, item.actor, item.op.reseller_id)
                visible_customer(uow.directory, item.actor, item.op.customer_id)
                customer_ids.add(item.op.customer_id)
                reseller_ids.add(item.op.reseller_id)
        except ServiceError as error:
            item.error = error
    loaded = uow.books.load(
        connection_id,
        ids,
        customer_ids,
        reseller_ids,
        locked_rows=unsaved,
        connection_row=connection,
        context=context,
    )
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
    actors = {temp: item.actor.name for item in run for temp in item.record_ids}
    real_ids = uow.books.save(loaded, uuid.uuid4().hex, now, actors=actors)
    for subscription_id in ids:  # a later run on them reads the saved version
        unsaved.pop(subscription_id, None)
    new_temp_ids = sorted(r for r in loaded.state.records if r >= TEMP_BASE)
    real_of = dict(zip(new_temp_ids, real_ids, strict=True))
    for item in run:  # the engine's temporary record ids, replaced by the stored ones
        item.record_ids = [real_of[temp] for temp in item.record_ids]
    return loaded


def _answer(items: list[Item], preview: bool) -> JSON:
    results = []
    for item in items:
        answer: JSON = {
            "index": item.index,
            "subscription_id": item.subscription_id,
            "type": item.type,
        }
        if item.error is not None:
            error = {"code": item.error.code, "message": item.error.message}
            answer.update(status="refused", error=error, records=[], replayed=False)
        else:
            status = "previewed" if preview else "applied"
            answer.update(status=status, error=None, records=item.records, replayed=item.is_replay)
        results.append(answer)
    refused = sum(1 for item in items if item.error is not None)
    return {"preview": preview, "applied": len(items) - refused, "refused": refused, "results": results}
