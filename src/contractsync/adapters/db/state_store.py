"""Loads the slice of state an operation touches into a domain SyncState, and saves what changed.

Use cases run the domain engine on the loaded state, then `save` writes, in the caller's
transaction: the changed subscriptions (optimistic version check + history), customers, released
and new mappings, new audit records, manual actions and alerts, the contract services' intents, and the
outbox rows — superseding the unsent rows a re-plan replaced (the transactional outbox).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, literal, null, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from contractsync.adapters.db import bulk, domain_rows, driver, operations, outbox
from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES, Adjustment, AdjustmentStatus, NewAdjustment
from contractsync.adapters.db.session import UNPREPARED, is_postgres
from contractsync.adapters.db.sql import Part, any_of, one_of
from contractsync.adapters.db.tables import (
    adjustments,
    alerts,
    connections,
    contract_service_state,
    contracts,
    customers,
    ledger,
    manual_actions,
    resellers,
    subscription_history,
    subscription_mappings,
    subscriptions,
)
from contractsync.domain.books import ServiceBook, add_open_rows
from contractsync.domain.engine import SyncState
from contractsync.domain.model import ConnectionSettings, Subscription, SubscriptionMapping
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.errors import Conflict
from contractsync.ports.subscription_books import TEMP_BASE, LostRace

if TYPE_CHECKING:
    from contractsync.adapters.db.operation_store import OperationContext


class ConcurrentChange(LostRace):
    """Another transaction changed a subscription since it was loaded; retry the use case."""


@dataclass
class LoadedState:
    state: SyncState
    connection_id: str | None
    versions: dict[str, int] = field(default_factory=dict)
    subscriptions_before: dict[str, Subscription] = field(default_factory=dict)
    customers_before: dict[str, object] = field(default_factory=dict)
    mappings_before: set[str] = field(default_factory=set)
    pending_before: dict[int, set[int]] = field(default_factory=dict)  # cs -> outbox row ids
    alerts_before: int = 0
    #: contract services whose state row is known to exist (`outbox.enqueue` need not create it)
    services_known: set[int] = field(default_factory=set)
    #: the audit records and outbox rows `save` wrote, as rows (answers need not read them back)
    written_records: dict[int, Part] = field(default_factory=dict)
    written_adjustments: list[Part] = field(default_factory=list)
    actions_before: int = 0


DEFAULT_CONNECTION = ConnectionSettings("none")


def read_subscriptions(session: Session, ids: Iterable[str]) -> dict[str, Any]:
    """Subscription rows by id, locked until the transaction ends (PostgreSQL: FOR UPDATE in id
    order, so that two transactions never wait on each other crosswise; SQLite: BEGIN IMMEDIATE)."""
    query = select(subscriptions).where(one_of(session, subscriptions.c.id, ids)).order_by(subscriptions.c.id)
    if is_postgres(session):
        query = query.with_for_update()
    return {row.id: row for row in session.execute(query)}


def load(
    session: Session,
    connection_id: str | None,
    subscription_ids: Iterable[str] = (),
    customer_ids: Iterable[str] = (),
    reseller_ids: Iterable[str] = (),
    *,
    locked_rows: Mapping[str, Any] | None = None,
    connection_row: Any = None,
    context: OperationContext | None = None,
) -> LoadedState:
    """The state for an operation: the named subscriptions, their customers and resellers, the
    connection's mappings of them, their contracts and their contract services' books.
    `locked_rows` (from `read_subscriptions`, or `read_context`'s subscriptions not saved since)
    and `connection_row`, read by the caller in this transaction, are not read again; with
    `context` (`operation_store.read_context`, which share-locked the services' state rows) the
    customers, resellers, mappings, contracts and books it holds are not either."""
    settings = DEFAULT_CONNECTION
    if connection_id is not None:
        row = connection_row
        if row is None:
            row = session.execute(select(connections).where(connections.c.id == connection_id)).one()
        settings = domain_rows.connection(row)
    state = SyncState(connection=settings, next_record_id=TEMP_BASE, next_row_key=TEMP_BASE)
    loaded = LoadedState(state, connection_id)
    wanted = set(subscription_ids)
    if locked_rows is not None and wanted <= locked_rows.keys():
        sub_rows: Sequence[Any] = [locked_rows[i] for i in sorted(wanted)]
    else:
        sub_rows = session.execute(
            select(subscriptions).where(one_of(session, subscriptions.c.id, wanted))
        ).all()
        context = None  # saved earlier in this transaction: what the context holds is behind
    for row in sub_rows:
        state.subscriptions[row.id] = domain_rows.subscription(row)
        loaded.versions[row.id] = row.version
    customer_set = set(customer_ids) | {s.customer_id for s in state.subscriptions.values()}
    for row in _rows_by_id(session, customers, customer_set, context.customers if context else {}):
        state.customers[row.id] = domain_rows.customer(row)
    reseller_set = set(reseller_ids) | {c.reseller_id for c in state.customers.values()}
    for row in _rows_by_id(session, resellers, reseller_set, context.resellers if context else {}):
        state.resellers[row.id] = domain_rows.reseller(row)
    loaded.subscriptions_before = dict(state.subscriptions)
    loaded.customers_before = dict(state.customers)
    if connection_id is not None:
        _load_mappings_and_books(session, loaded, connection_id, context)
    return loaded


def _rows_by_id(session: Session, table: Any, ids: set[str], known: Mapping[str, Any]) -> list[Any]:
    """The rows with these ids: those `known` already, the others read."""
    missing = ids - known.keys()
    rows = [known[i] for i in sorted(ids - missing)]
    if missing:
        rows += session.execute(select(table).where(one_of(session, table.c.id, missing))).all()
    return rows


def _load_mappings_and_books(
    session: Session, loaded: LoadedState, connection_id: str, context: OperationContext | None
) -> None:
    state = loaded.state
    if context is not None:
        rows: Sequence[Any] = [
            m for sid, m in sorted(context.mappings.items())
            if sid in state.subscriptions and m.connection_id == connection_id
        ]  # fmt: skip
    else:
        rows = session.execute(
            select(subscription_mappings).where(
                subscription_mappings.c.connection_id == connection_id,
                one_of(session, subscription_mappings.c.subscription_id, state.subscriptions),
            )
        ).all()
    for row in rows:
        state.mappings[row.subscription_id] = domain_rows.mapping(row)
    loaded.mappings_before = set(state.mappings)
    contract_ids = sorted({m.contract_id for m in state.mappings.values()})
    known_contracts = context.contracts if context else {}
    if all((connection_id, c) in known_contracts for c in contract_ids):
        contract_rows: Iterable[Any] = [known_contracts[(connection_id, c)] for c in contract_ids]
    else:
        contract_rows = session.execute(
            select(contracts).where(
                contracts.c.connection_id == connection_id,
                one_of(session, contracts.c.contract_id, contract_ids),
            )
        )
    for row in contract_rows:
        state.contracts[row.contract_id] = domain_rows.contract(row)
    wanted = {m.contract_service_id: (m.contract_id, m.service_start) for m in state.mappings.values()}
    if context is None:
        _load_books(session, loaded, wanted)
        return
    held = {cs for conn, cs in context.services if conn == connection_id}
    stored = {cs: row for (conn, cs), row in context.books.items() if conn == connection_id and cs in wanted}
    _load_books(session, loaded, wanted, (held, stored))


def _load_books(
    session: Session,
    loaded: LoadedState,
    wanted: dict[int, tuple[int, date]],
    read: tuple[set[int], dict[int, Any]] | None = None,
) -> None:
    """Books of many contract services in at most three queries (a sweep loads hundreds at once);
    `read`: the services' state rows already share-locked and their stored books already read."""
    state = loaded.state
    connection_id = state.connection.id
    services = sorted(set(wanted) - set(state.books))
    if not services:
        return
    if read is None:
        loaded.services_known |= _hold_services(session, connection_id, services)
        stored = {
            r.contract_service_id: r
            for r in session.execute(
                select(service_books).where(
                    service_books.c.connection_id == connection_id,
                    one_of(session, service_books.c.contract_service_id, services),
                )
            )
        }
    else:
        loaded.services_known |= read[0]
        stored = read[1]
    open_rows, held, sent_ids = _open_rows_and_ledger(session, connection_id, services)
    for cs in services:
        row = stored.get(cs)
        if row is not None:
            book = ServiceBook(
                row.contract_id, cs, row.service_start, domain_rows.intents_from_json(row.intents)
            )
        else:
            book = ServiceBook(wanted[cs][0], cs, wanted[cs][1])
        book.held = held[cs]
        loaded.pending_before[cs] = add_open_rows(book, [r for r in open_rows[cs] if r.id not in sent_ids])
        state.books[cs] = book


def _open_rows_and_ledger(
    session: Session, connection_id: str, services: list[int]
) -> tuple[dict[int, list[Adjustment]], dict[int, list[HeldAdjustment]], set[int]]:
    """The services' open outbox rows (in delivery order) and their ledger (by date), in one
    statement: one snapshot, so a row the worker sends meanwhile is seen either open or in the
    ledger, never in neither."""
    postgres = is_postgres(session)
    query = _open_rows_and_ledger_query(postgres)
    parameters = {"connection_id": connection_id, "services": services}
    read: Sequence[Any]
    if postgres:  # on psycopg directly: SQLAlchemy's result set-up costs more than the read
        names = tuple(query.selected_columns.keys())
        read = [
            Part(dict(zip(names, row, strict=True)))
            for row in driver.read(session.connection(), query, parameters)
        ]
    else:
        read = session.connection().execute(query, parameters).all()
    open_rows: dict[int, list[Adjustment]] = defaultdict(list)
    held_by_date: dict[int, list[tuple[date, HeldAdjustment]]] = defaultdict(list)
    sent_ids: set[int] = set()
    for r in read:
        if r.kind == "open":
            open_rows[r.contract_service_id].append(Adjustment.from_row(r))
            continue
        change = HeldAdjustment(r.effective_date, r.target_units, r.unit_price, r.unit_cost)
        held_by_date[r.contract_service_id].append((r.effective_date, change))
        if r.id is not None:
            sent_ids.add(r.id)
    held: dict[int, list[HeldAdjustment]] = defaultdict(list)
    for cs, changes in held_by_date.items():
        held[cs] = [change for _, change in sorted(changes, key=lambda pair: pair[0])]
    for rows in open_rows.values():
        rows.sort(key=lambda row: row.id)
    return open_rows, held, sent_ids


@lru_cache(maxsize=2)
def _open_rows_and_ledger_query(postgres: bool) -> CompoundSelect[Any]:
    """`_open_rows_and_ledger`'s statement, built once: the open outbox rows and the ledger of the
    contract services `services` of the connection `connection_id`. Planned on every run
    (`UNPREPARED`): both tables grow from empty, and a plan cached while they were small read
    every open row on every group."""
    opened = select(literal("open").label("kind"), *adjustments.c).where(
        adjustments.c.connection_id == bindparam("connection_id"),
        any_of(adjustments.c.contract_service_id, "services", postgres),
        # the statuses as parameters of their own, not one list SQLAlchemy expands at each run:
        # the same SQL for PostgreSQL, and the statement runs on psycopg directly (`driver.read`)
        adjustments.c.status.in_([literal(status) for status in OPEN_STATUSES]),
    )
    # The ledger in the outbox row's shape: its change as `target_units`, its row as `id`.
    as_ledger = {
        "id": ledger.c.adjustment_id,
        "contract_service_id": ledger.c.contract_service_id,
        "effective_date": ledger.c.effective_date,
        "target_units": ledger.c.unit_change,
        "unit_price": ledger.c.unit_price,
        "unit_cost": ledger.c.unit_cost,
    }
    held_rows = select(
        literal("held").label("kind"),
        *(as_ledger.get(c.name, null().cast(c.type)).label(c.name) for c in adjustments.c),
    ).where(
        ledger.c.connection_id == bindparam("connection_id"),
        any_of(ledger.c.contract_service_id, "services", postgres),
    )
    return union_all(opened, held_rows).execution_options(**{UNPREPARED: True})


def _hold_services(session: Session, connection_id: str, services: list[int]) -> set[int]:
    """Share-lock the services' state rows, in key order, before reading or writing their rows;
    answer those that exist (PostgreSQL; SQLite: none known).

    The worker updates a service's state row (its lease) before it locks the service's outbox
    rows; a planner takes the same row first too, so neither can hold an outbox row while waiting
    for the other's state row (the deadlock of issue 15: a planner that had superseded outbox rows
    then waited in `ensure_services` for the worker's lease update, which waited for those rows).
    Rows that do not exist yet are created by `outbox.ensure_services`, in key order as well.
    SQLite: BEGIN IMMEDIATE already serialises writers.
    """
    if not is_postgres(session):
        return set()
    return set(
        session.execute(
            select(contract_service_state.c.contract_service_id)
            .where(
                contract_service_state.c.connection_id == connection_id,
                one_of(session, contract_service_state.c.contract_service_id, services),
            )
            .order_by(contract_service_state.c.contract_service_id)
            .with_for_update(read=True)
        ).scalars()
    )


def load_contract(session: Session, loaded: LoadedState, contract_id: int) -> None:
    row = session.execute(
        select(contracts).where(
            contracts.c.connection_id == loaded.state.connection.id, contracts.c.contract_id == contract_id
        )
    ).one()
    loaded.state.contracts[contract_id] = domain_rows.contract(row)


def load_book(
    session: Session, loaded: LoadedState, cs: int, contract_id: int, service_start: date
) -> ServiceBook:
    """One contract service's book: intents, what Autotask holds (sent and in flight), unsent rows."""
    _load_books(session, loaded, {cs: (contract_id, service_start)})
    return loaded.state.books[cs]


def save(
    session: Session,
    loaded: LoadedState,
    operation_key: str,
    now: datetime,
    actor: str | None = None,
    actors: Mapping[int, str | None] | None = None,
) -> list[int]:
    """Write what the engine changed (a mapping the engine made too); answer the ids of the new
    audit records, in order."""
    state = loaded.state
    record_ids = _save_records(session, loaded, operation_key, now, actor, actors or {})
    _save_subscriptions(session, loaded, operation_key, now)
    for customer_id, value in state.customers.items():
        if loaded.customers_before.get(customer_id) != value:
            margins = {k: str(v) for k, v in value.provider_margins.items()}
            session.execute(
                update(customers).where(customers.c.id == customer_id).values(provider_margins=margins)
            )
    for released in loaded.mappings_before - set(state.mappings):
        session.execute(
            delete(subscription_mappings).where(subscription_mappings.c.subscription_id == released)
        )
    mapped = [state.mappings[i] for i in sorted(set(state.mappings) - loaded.mappings_before)]
    if mapped:
        _insert_mappings(session, state.connection.id, mapped)
    _save_books(session, loaded, record_ids, operation_key, now)
    _save_alerts(session, loaded, now)
    return [record_ids[r] for r in sorted(record_ids) if r >= TEMP_BASE]


def _insert_mappings(session: Session, connection_id: str, mapped: list[SubscriptionMapping]) -> None:
    try:
        session.execute(
            insert(subscription_mappings),
            [
                {"subscription_id": m.subscription_id, "connection_id": connection_id,
                 "contract_id": m.contract_id, "service_id": m.service_id,
                 "contract_service_id": m.contract_service_id, "mapped_on": m.service_start,
                 "created_at": m.mapped_at}
                for m in mapped
            ],
        )  # fmt: skip
    except IntegrityError as exc:
        # The unique index (migration 0014): another subscription was mapped to one of these
        # contract services since this mapping read that it was free.
        services = ", ".join(str(m.contract_service_id) for m in mapped)
        raise Conflict(f"contract service {services} is already mapped to another subscription") from exc


def _save_records(
    session: Session,
    loaded: LoadedState,
    operation_key: str,
    now: datetime,
    actor: str | None,
    actors: Mapping[int, str | None],
) -> dict[int, int]:
    """Insert the new audit records and their manual actions; map temporary ids to real ones.
    Each record names who made it: `actors` by temporary id, else `actor`."""
    state = loaded.state
    new = [(temp_id, record) for temp_id, record in sorted(state.records.items()) if temp_id >= TEMP_BASE]
    ids: dict[int, int] = {record_id: record_id for record_id in state.records if record_id < TEMP_BASE}
    if not new:
        return ids
    assert loaded.connection_id is not None, "records exist only for mapped subscriptions"
    connection_id = loaded.connection_id
    written = [
        operations.NewOperation(
            connection_id=connection_id,
            operation_key=operation_key,
            type=record.type.value,
            status=record.status.value,
            subscription_id=record.subscription_id,
            customer_id=_customer_of(state, record.subscription_id),
            reason=record.reason,
            details=operations.stamped(
                {"notes": record.notes} if record.notes else {}, actors.get(temp_id, actor)
            ),
            effective_date=record.effective_date,
        )
        for temp_id, record in new
    ]
    real = operations.create_operations(session, written, now)
    loaded.written_records.update(
        (real_id, Part({**vars(values), "id": real_id, "created_at": now, "updated_at": now}))
        for real_id, values in zip(real, written, strict=True)
    )
    ids.update({temp_id: real_id for (temp_id, _), real_id in zip(new, real, strict=True)})
    actions = [(ids[temp_id], action) for temp_id, record in new for action in record.manual_actions]
    # Actions that belong to no record (e.g. "map the upgrade target") hang on the first new record.
    attached = {id(action) for _, action in actions}
    actions += [(real[0], a) for a in state.manual_actions[loaded.actions_before :] if id(a) not in attached]
    if actions:
        session.execute(
            insert(manual_actions),
            [
                {
                    "connection_id": connection_id,
                    "operation_id": operation_id,
                    "subscription_id": action.subscription_id,
                    "contract_service_id": action.contract_service_id,
                    "effective_date": action.effective_date,
                    "unit_change": action.unit_change or 0,
                    "instruction": action.instruction,
                    "status": "open",
                    "created_at": now,
                }
                for operation_id, action in actions
            ],
        )
    return ids


def _customer_of(state: SyncState, subscription_id: str | None) -> str | None:
    subscription = state.subscriptions.get(subscription_id or "")
    return subscription.customer_id if subscription else None


def _save_subscriptions(session: Session, loaded: LoadedState, operation_key: str, now: datetime) -> None:
    """UPDATE the changed subscriptions if still at the version loaded (optimistic locking), and
    add a history row with the full snapshot of each."""
    # A sweep changes thousands in a transaction: bulk statements, one per set of changed columns
    # (a renewal changes the term's dates, an expiration the status), and one for the history.
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    history: list[dict[str, Any]] = []
    for subscription_id, value in loaded.state.subscriptions.items():
        before = loaded.subscriptions_before.get(subscription_id)
        if before == value:
            continue
        values = domain_rows.subscription_values(value)
        changes = domain_rows.changed_values(before, value, values)
        seen = loaded.versions[subscription_id]
        updates[tuple(changes)].append({"id": subscription_id, "version": seen, "updated_at": now, **changes})
        history.append(
            {
                "subscription_id": subscription_id,
                "version": seen + 1,
                "changed_at": now,
                "snapshot": domain_rows.snapshot(value, values),
                "operation_id": operation_key,
            }
        )
    connection = session.connection()
    matched = sum(bulk.update_versioned(connection, subscriptions, rows) for rows in updates.values())
    if matched != len(history):
        raise ConcurrentChange("a subscription changed concurrently")
    bulk.insert_rows(connection, subscription_history, history)


def _save_books(
    session: Session, loaded: LoadedState, record_ids: dict[int, int], operation_key: str, now: datetime
) -> None:
    state = loaded.state
    connection_id = state.connection.id
    if not state.books:
        return
    bulk.upsert_rows(
        session.connection(),
        service_books,
        [
            {"connection_id": connection_id, "contract_service_id": cs, "contract_id": book.contract_id,
             "service_start": book.service_start, "intents": domain_rows.intents_to_json(book.intents)}
            for cs, book in state.books.items()
        ],
        key=("connection_id", "contract_service_id"),
    )  # fmt: skip
    discarded: set[int] = set()
    new_rows: list[NewAdjustment] = []
    for cs, book in state.books.items():
        discarded |= loaded.pending_before.get(cs, set()) - {row.key for row in book.pending}
        new_rows += [
            NewAdjustment(
                operation_id=record_ids[row.owner],
                connection_id=connection_id,
                subscription_id=state.records[row.owner].subscription_id,
                contract_id=book.contract_id,
                contract_service_id=cs,
                effective_date=row.planned.effective_date,
                target_units=row.planned.target_units,
                unit_price=row.planned.unit_price,
                unit_cost=row.planned.unit_cost,
                due_at=row.due_at,
                planned_unit_change=row.planned.unit_change,
            )
            for row in book.pending
            if row.key >= TEMP_BASE
        ]
    if discarded:
        outbox.supersede(session, discarded, f"re-planned by operation {operation_key}", now)
    ids = outbox.enqueue(session, new_rows, now, known_services=loaded.services_known)
    loaded.written_adjustments += [
        Part({**vars(row), "id": new_id, "status": AdjustmentStatus.PENDING.value, "attempts": 0,
              "sent_unit_change": None, "error": None, "sent_at": None})
        for new_id, row in zip(ids, new_rows, strict=True)
    ]  # fmt: skip


def _save_alerts(session: Session, loaded: LoadedState, now: datetime) -> None:
    dialect = postgresql if is_postgres(session) else sqlite
    for alert in loaded.state.alerts[loaded.alerts_before :]:
        key = hashlib.sha256(f"{alert.kind}|{alert.subscription_id}|{alert.message}".encode()).hexdigest()
        session.execute(
            dialect.insert(alerts)
            .values(
                kind=alert.kind,
                message=alert.message,
                connection_id=loaded.connection_id,
                subscription_id=alert.subscription_id,
                created_at=now,
                dedupe_key=key,
            )
            .on_conflict_do_nothing()
        )
