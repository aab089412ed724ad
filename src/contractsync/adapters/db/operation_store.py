"""What applying operations reads and writes besides the state itself: the subscriptions an
operation touches with everything around them in one statement, idempotency keys, and the
subscriptions a sweep or a margin change covers.

`read_context` is the first read of an operation: it answers, per subscription, the
subscription, its customer and that customer's reseller, its mapping, the connection the
operation runs on (the mapped one, else the reseller's first), the mapped contract and the
contract service's book — one statement where the state store would need seven.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, and_, func, insert, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnClause

from contractsync.adapters.db import driver
from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.keys_table import operation_keys
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.sql import Part, any_of
from contractsync.adapters.db.state_store import ConcurrentChange
from contractsync.adapters.db.tables import (
    connections,
    contract_service_state,
    contracts,
    customers,
    resellers,
    subscription_mappings,
    subscriptions,
)

#: PostgreSQL, for the context read (`read_context`): joins planned in the order written, and an
#: index look-up priced as the cached read it is (1.1, unless the server's own price is lower) —
#: set for the rest of the transaction …
PLANNER_FIXED: tuple[ColumnClause[str], ...] = (
    literal_column("set_config('join_collapse_limit', '1', true)"),
    literal_column(
        "set_config('random_page_cost', least(current_setting('random_page_cost')::float8, 1.1)::text, true)"
    ),
)
#: … and back to their defaults (a NULL value resets: the server's, the database's or the role's)
PLANNER_RESET: tuple[ColumnClause[str], ...] = (
    literal_column("set_config('join_collapse_limit', NULL, true)"),
    literal_column("set_config('random_page_cost', NULL, true)"),
)


@dataclass
class OperationContext:
    """Rows around the subscriptions an operation touches, as read by `read_context`."""

    subscriptions: dict[str, Part] = field(default_factory=dict)
    customers: dict[str, Part] = field(default_factory=dict)
    resellers: dict[str, Part] = field(default_factory=dict)
    mappings: dict[str, Part] = field(default_factory=dict)  # by subscription
    connections: dict[str, Part] = field(default_factory=dict)
    connection_of: dict[str, str | None] = field(default_factory=dict)  # subscription -> connection
    contracts: dict[tuple[str, int], Part] = field(default_factory=dict)
    books: dict[tuple[str, int], Part] = field(default_factory=dict)
    #: contract services whose state row exists (PostgreSQL: share-locked by the read, in key order)
    services: set[tuple[str, int]] = field(default_factory=set)


_TABLES: tuple[tuple[str, Table], ...] = (
    ("s", subscriptions),
    ("cu", customers),
    ("r", resellers),
    ("m", subscription_mappings),
    ("cn", connections),
    ("ct", contracts),
    ("sb", service_books),
)


def read_context(session: Session, ids: Iterable[str]) -> OperationContext:
    """Lock the subscriptions (PostgreSQL: FOR UPDATE in id order; SQLite: BEGIN IMMEDIATE already
    serialises writers), then read them with everything around them.

    The lock is a statement of its own: a statement that waited for a row lock still reads the
    other tables as they were when it started, so the read comes after the lock, and sees what
    the transaction that held it committed. On PostgreSQL the same read share-locks the state rows
    of the mapped contract services, in key order, before anything of theirs is read: the worker
    takes a service's state row before its outbox rows (see `state_store._hold_services`).

    Both statements are built once per dialect (`_lock_query`, `_context_query`); each joined
    row is cut into its tables' parts by position.

    On PostgreSQL the read is planned with its joins in the order written: from the subscriptions
    asked for outwards, the best order for one id or a thousand. Left to itself PostgreSQL weighs
    every order of the read's eight tables each time it plans it — for an operation that comes
    alone, every time (a custom plan): 1.4 to 1.6 ms of planning for one id, 0.4 to 0.6 ms in the
    written order, execution about the same up to 1,000 ids (measured on 250,000
    subscriptions; `benchmarks/README.md`, sessions 10 and 11). And it finds a batch's mappings
    and contract-service states by index: at PostgreSQL's default `random_page_cost` (4, a
    disk's) it prices each look-up above reading the whole table, and from ~100 ids on it
    scanned all 25,000 mappings and states and hash-joined them; at 1.1 (the usual setting for a
    database in memory or on SSD, which these small hot tables are) 100 ids took 1.8 ms instead
    of 12.7, 200 ids 5.7 instead of 15.4 (`EXPLAIN ANALYZE`, 250,000 subscriptions); one to 15
    ids and 1,000 the same.
    The lock sets both for the transaction as it returns its rows (`PLANNER_FIXED`), the read is
    planned under them and puts them back to their defaults as it returns its own
    (`PLANNER_RESET`): no statement more. (The read returns a row for every subscription locked:
    customers and resellers are foreign keys.)"""
    wanted = sorted(set(ids))
    answer = OperationContext()
    if not wanted:
        return answer
    postgres = is_postgres(session)
    parameters = {"ids": wanted}
    connection = session.connection()  # the session's transaction, without its per-call bookkeeping
    rows: Sequence[Sequence[Any]]
    if postgres:  # on psycopg directly: SQLAlchemy's result set-up costs more than the read
        driver.read(connection, _lock_query(), parameters)
        rows = driver.read(connection, _context_query(postgres), parameters)
    else:
        rows = connection.execute(_context_query(postgres), parameters).all()  # fetched at once
    subscriptions_, customers_, resellers_ = answer.subscriptions, answer.customers, answer.resellers
    for row in rows:
        sub, cu, r, mapping, cn, ct, sb = (
            Part(dict(zip(names, row[a:b], strict=True))) for names, a, b in _SLICES
        )
        subscriptions_[sub.id] = sub
        customers_[cu.id] = cu
        resellers_[r.id] = r
        answer.connection_of[sub.id] = cn.id
        if cn.id is not None:
            answer.connections[cn.id] = cn
        if mapping.subscription_id is None:
            continue
        answer.mappings[sub.id] = mapping
        service = (mapping.connection_id, mapping.contract_service_id)
        if ct.contract_id is not None:
            answer.contracts[(mapping.connection_id, mapping.contract_id)] = ct
        if sb.contract_service_id is not None:
            answer.books[service] = sb
        if row[_EXISTS] is not None:
            answer.services.add(service)
    return answer


def _slices() -> list[tuple[tuple[str, ...], int, int]]:
    """Each table's column names and where they sit in the joined row (`_context_query`)."""
    slices: list[tuple[tuple[str, ...], int, int]] = []
    for _, table in _TABLES:
        start = slices[-1][2] if slices else 0
        slices.append((tuple(c.name for c in table.c), start, start + len(table.c)))
    return slices


_SLICES = _slices()
_EXISTS = _SLICES[-1][2]  # the service's state row, if it exists


@lru_cache(maxsize=1)
def _lock_query() -> Select[Any]:
    """PostgreSQL: the subscriptions `ids`, locked FOR UPDATE in id order; the next statement
    planned with `PLANNER_FIXED`'s settings (`read_context`)."""
    return (
        select(
            subscriptions.c.id, *(setting.label(f"planner_{n}") for n, setting in enumerate(PLANNER_FIXED))
        )
        .where(any_of(subscriptions.c.id, "ids", postgres=True))
        .order_by(subscriptions.c.id)
        .with_for_update()
    )


@lru_cache(maxsize=2)
def _context_query(postgres: bool) -> Select[Any]:
    """The subscriptions `ids` with everything around them, one row each (columns as `_SLICES`)."""
    s, m, sb = subscriptions, subscription_mappings, service_books
    first = connections.alias("first_connection")
    reseller_first = select(func.min(first.c.id)).where(first.c.reseller_id == s.c.reseller_id)
    css = contract_service_state
    columns: list[Any] = [c.label(f"{prefix}_{c.name}") for prefix, table in _TABLES for c in table.c]
    columns.append(css.c.contract_service_id.label("css_exists"))
    if postgres:
        held = (
            select(css.c.contract_service_id)
            .join(
                m,
                and_(
                    m.c.connection_id == css.c.connection_id,
                    m.c.contract_service_id == css.c.contract_service_id,
                ),
            )
            .where(any_of(m.c.subscription_id, "ids", postgres))
            .order_by(css.c.connection_id, css.c.contract_service_id)
            .with_for_update(read=True, of=css)
        )
        # Evaluated once, before the first row is formed: the share locks come before any read.
        columns.append(func.array(held.scalar_subquery()).label("held"))
        # evaluated as rows are formed: after planning
        columns.extend(setting.label(f"planner_{n}") for n, setting in enumerate(PLANNER_RESET))
    joined = (
        s.join(customers, customers.c.id == s.c.customer_id)
        .join(resellers, resellers.c.id == customers.c.reseller_id)
        .outerjoin(m, m.c.subscription_id == s.c.id)
        .outerjoin(
            connections,
            connections.c.id == func.coalesce(m.c.connection_id, reseller_first.scalar_subquery()),
        )
        .outerjoin(contracts, and_(contracts.c.connection_id == m.c.connection_id, contracts.c.contract_id == m.c.contract_id))
        .outerjoin(sb, and_(sb.c.connection_id == m.c.connection_id, sb.c.contract_service_id == m.c.contract_service_id))
        .outerjoin(css, and_(css.c.connection_id == m.c.connection_id, css.c.contract_service_id == m.c.contract_service_id))
    )  # fmt: skip
    return select(*columns).select_from(joined).where(any_of(s.c.id, "ids", postgres)).order_by(s.c.id)


# --- idempotency keys ------------------------------------------------------------------------------


def stored_keys(session: Session, keys: Iterable[str]) -> dict[tuple[str, str], Any]:
    """Stored idempotency keys by (scope, key)."""
    query = _stored_keys_query(is_postgres(session))
    return {
        (row.scope, row.key): row for row in session.connection().execute(query, {"keys": sorted(set(keys))})
    }


@lru_cache(maxsize=2)
def _stored_keys_query(postgres: bool) -> Select[Any]:
    return select(operation_keys).where(any_of(operation_keys.c.key, "keys", postgres))


def store_keys(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert idempotency keys; ConcurrentChange when another transaction stored one meanwhile."""
    if not rows:
        return
    try:
        session.execute(insert(operation_keys), rows)
    except IntegrityError:
        # Another transaction applied the same key meanwhile: run again, and answer its result.
        raise ConcurrentChange(
            "an operation with the same idempotency key was applied concurrently"
        ) from None


# --- what a sweep or a margin change covers --------------------------------------------------------


def subscriptions_by_connection(session: Session, id_query: Any) -> dict[str | None, list[str]]:
    """Subscription ids (a query of them) grouped by the connection they are mapped through
    (None: unmapped)."""
    wanted = id_query.subquery()
    rows = session.execute(
        select(wanted.c.id, subscription_mappings.c.connection_id).outerjoin(
            subscription_mappings, subscription_mappings.c.subscription_id == wanted.c.id
        )
    )
    groups: dict[str | None, list[str]] = defaultdict(list)
    for subscription_id, connection_id in rows:
        groups[connection_id].append(subscription_id)
    return dict(groups)


def customer_subscriptions(customer_id: str) -> Select[Any]:
    return select(subscriptions.c.id).where(subscriptions.c.customer_id == customer_id)


def ending_before(day: date, reseller_id: str | None = None) -> Select[Any]:
    """Live subscriptions whose term ends before `day` (the sweep's), of one reseller or all."""
    query = select(subscriptions.c.id).where(
        subscriptions.c.status.in_(["active", "suspended"]), subscriptions.c.end_date < day
    )
    return query if reseller_id is None else of_reseller(query, reseller_id)


def of_reseller(query: Select[Any], reseller_id: str) -> Select[Any]:
    return query.where(subscriptions.c.reseller_id == reseller_id)


def connection_reseller(session: Session, connection_id: str) -> str:
    reseller_id: str = session.execute(
        select(connections.c.reseller_id).where(connections.c.id == connection_id)
    ).scalar_one()
    return reseller_id
