"""The daily sweep for a date: expirations and renewals by the rules, in chunks of subscriptions,
each chunk in its own transaction (a preview runs them all in one that is rolled back, X2)."""

from __future__ import annotations

import gc
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any

from contractsync.domain import rules
from contractsync.domain.bounds import check_date
from contractsync.domain.commands import Sweep
from contractsync.domain.engine import SyncEngine
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import sweep_alerts, views
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.retries import with_retries

JSON = dict[str, Any]
SWEEP_ANSWER_LIMIT = 200


def sweep(
    ctx: ServiceContext,
    actor: Actor,
    command: Sweep | JSON,
    progress: Callable[[int, int], None] | None = None,
) -> JSON:
    """The daily sweep for a date (expirations, renewals); a second run for the same date does
    nothing. `command`: a `Sweep`, or its body {date, preview?, connection_id?}."""
    if not isinstance(command, Sweep):
        command = read_command(command)
    preview, connection_id = command.preview, command.connection_id
    day = v.check(lambda: check_date(command.date, "date", ctx.now().date()))
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
                for start in range(0, len(ids), ctx.sweep_chunk):
                    chunk = ids[start : start + ctx.sweep_chunk]
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
    if not preview:
        with ctx.units() as uow:
            swept = [connection_id] if connection_id is not None else [
                c.id for c in uow.directory.connections() if actor.can_see(c.reseller_id)
            ]  # fmt: skip
            sweep_alerts.sweep_done(ctx, uow, swept, day)
    return {
        "date": day.isoformat(),
        "preview": preview,
        "subscriptions": total,
        "counts": dict(counts),
        "operations": answer,
    }


def read_command(body: JSON) -> Sweep:
    """The body {date, preview?, connection_id?} as the command, read by the same rules."""
    v.fields(body, {"date"}, {"preview", "connection_id"})
    return v.check(lambda: Sweep.build(**body))


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
