"""Use cases that run the sync rules: a subscription operation, customer margins (R5), the sweep.

Each runs the domain engine on the state it loads and saves the result in one transaction;
with `preview` the same path runs in a transaction that is rolled back (X2).
"""

from __future__ import annotations

import gc
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any, TypeVar

from contractsync.domain import rules
from contractsync.domain.engine import SyncEngine
from contractsync.domain.operations import (
    UpdateProviderMargin,
)
from contractsync.ports.subscription_books import LostRace
from contractsync.ports.unit_of_work import RetriesExhausted, UnitOfWork, UnitOfWorkFactory
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer
from contractsync.service.errors import Conflict, Invalid

JSON = dict[str, Any]
T = TypeVar("T")
ATTEMPTS = 3


def retried(units: UnitOfWorkFactory, run: Callable[[], T]) -> T:
    """`run` again after a deadlock or serialization failure (`units.retrying`); a database that
    stays busy through every attempt is refused as a conflict to try again, never a 500."""
    try:
        return units.retrying(run)
    except RetriesExhausted as error:
        raise Conflict(f"{error}; try again") from error


def with_retries(units: UnitOfWorkFactory, run: Callable[[], T]) -> T:
    """A lost race (a concurrent change, a row the worker started sending, a deadlock) is retried,
    then refused."""
    for attempt in range(ATTEMPTS):
        try:
            return retried(units, run)
        except LostRace as error:
            if attempt == ATTEMPTS - 1:
                raise Conflict(f"a concurrent change won the race; try again ({error})") from None
    raise AssertionError("unreachable")


def preview_flag(body: JSON) -> bool:
    value = body.get("preview", False)
    if not isinstance(value, bool):
        raise Invalid("preview must be true or false")
    return value


def set_provider_margin(
    ctx: ServiceContext, actor: Actor, customer_id: str, provider: str, body: JSON
) -> list[JSON]:
    v.fields(body, {"margin_percent"}, {"effective_date", "preview"})
    preview = preview_flag(body)
    margin = v.decimal(body["margin_percent"], "margin_percent", "-100", "1000")
    provider = v.text(provider, "provider", 50)
    raw_date = body.get("effective_date")
    given = None if raw_date is None else v.day(raw_date, "effective_date", ctx.now().date())
    return with_retries(ctx.units, lambda: _margin(ctx, actor, customer_id, provider, margin, given, preview))


def _margin(
    ctx: ServiceContext,
    actor: Actor,
    customer_id: str,
    provider: str,
    margin: Any,
    given: date | None,
    preview: bool,
) -> list[JSON]:
    with ctx.units(commit=not preview) as uow:
        visible_customer(uow.directory, actor, customer_id)
        groups = uow.books.customer_subscriptions(customer_id)
        groups.setdefault(None, [])  # the customer's own margins change even with no subscription
        key, record_ids = uuid.uuid4().hex, []
        for connection_id, ids in groups.items():
            loaded = uow.books.load(connection_id, ids, {customer_id})
            day = given or ctx.today_in(loaded.state.connection.timezone)
            op = UpdateProviderMargin(customer_id, provider, margin, day)
            SyncEngine(loaded.state).apply(
                rules.update_provider_margin(loaded.state.context(), op), ctx.now()
            )
            record_ids += uow.books.save(loaded, key, ctx.now(), actor.name)
        return views.operations_by_id(uow.audit_records, record_ids, preview)


SWEEP_CHUNK = 2000
SWEEP_ANSWER_LIMIT = 200


def sweep(
    ctx: ServiceContext, actor: Actor, body: JSON, progress: Callable[[int, int], None] | None = None
) -> JSON:
    """The daily sweep for a date (expirations, renewals); a second run for the same date does nothing."""
    v.fields(body, {"date"}, {"preview", "connection_id"})
    preview = preview_flag(body)
    day = v.day(body["date"], "date", ctx.now().date())
    connection_id = body.get("connection_id")
    with ctx.units(commit=False) as uow:
        groups = uow.books.ending_before(day, actor.reseller_id)
    if connection_id is not None:
        # The scheduler sweeps per connection: its mapped subscriptions, and the unmapped ones of
        # its reseller (they still renew and expire locally).
        with ctx.units(commit=False) as uow:
            reseller_id = uow.books.connection_reseller(connection_id)
            own: set[str] = set()
            if actor.can_see(reseller_id):
                own = {i for ids in uow.books.ending_before(day, reseller_id).values() for i in ids}
        groups = {
            k: [i for i in g if k is not None or i in own]
            for k, g in groups.items()
            if k in (connection_id, None)
        }
    total = sum(len(g) for g in groups.values())
    counts: dict[str, int] = defaultdict(int)
    answer: list[JSON] = []
    done = 0
    # A preview runs every chunk in one transaction that is rolled back; a real sweep commits per chunk.
    preview_uow = ctx.units(commit=False).__enter__() if preview else None
    try:
        with _heap_frozen():
            for group_connection, ids in groups.items():
                for start in range(0, len(ids), SWEEP_CHUNK):
                    chunk = ids[start : start + SWEEP_CHUNK]
                    run = partial(_sweep_chunk, ctx, preview_uow, group_connection, chunk, day, actor.name)
                    for record in with_retries(ctx.units, run):
                        counts[f"{record['type']}:{record['status']}"] += 1
                        if len(answer) < SWEEP_ANSWER_LIMIT:
                            answer.append({**record, "preview": preview})
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    finally:
        if preview_uow is not None:
            preview_uow.__exit__(None, None, None)
    return {
        "date": day.isoformat(),
        "preview": preview,
        "subscriptions": total,
        "counts": dict(counts),
        "operations": answer,
    }


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """Keep the cycle collector off the objects that exist before the sweep (SQLAlchemy's and the
    app's, hundreds of thousands): every chunk keeps thousands of new objects alive, so full
    collections come often, and each would walk the whole heap again (a tenth of a sweep's time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _sweep_chunk(
    ctx: ServiceContext,
    shared: UnitOfWork | None,
    connection_id: str | None,
    ids: list[str],
    day: date,
    actor: str | None = None,
) -> list[JSON]:
    def run(uow: UnitOfWork) -> list[JSON]:
        # One statement locks and reads the chunk's subscriptions.
        rows = uow.books.read_subscriptions(ids)
        loaded = uow.books.load(connection_id, ids, locked_rows=rows)
        engine = SyncEngine(loaded.state)
        for decision in rules.sweep(loaded.state.context(), day):
            engine.apply(decision, ctx.now())
        record_ids = uow.books.save(
            loaded, f"sweep:{day.isoformat()}:{uuid.uuid4().hex[:8]}", ctx.now(), actor
        )
        return views.operation_summaries(uow.audit_records, record_ids)

    if shared is not None:
        # A preview keeps every chunk in one transaction: a chunk that lost a race is undone to
        # its savepoint before it is tried again.
        with shared.books.savepoint():
            return run(shared)
    with ctx.units() as uow:
        return run(uow)
