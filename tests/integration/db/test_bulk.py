"""Bulk writes store exactly what SQLAlchemy's own statements store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from contractsync.adapters.db import bulk
from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.tables import (
    connection_operations,
    connections,
    customers,
    resellers,
    subscription_history,
    subscriptions,
)

NOW = datetime(2025, 1, 1, 3, 4, 5, 678901, tzinfo=UTC)


def subscription(subscription_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": subscription_id, "customer_id": "c1", "reseller_id": "r1", "offer_id": "P:S:A", "offer_name": "E3",
        "kind": "nce", "quantity": 1, "status": "active", "term": "P1Y", "billing_cycle": "monthly",
        "start_date": date(2024, 1, 1), "end_date": date(2024, 12, 31), "auto_renew": True,
        "list_price": Decimal("10.00"), "version": 1, "created_at": NOW, "updated_at": NOW, **changes,
    }  # fmt: skip


# Every kind of value: money with trailing zeros and huge, None, dates, booleans, JSON objects and
# JSON null, text that needs quoting.
CHANGES: list[dict[str, Any]] = [
    {"quantity": 7, "status": "expired", "start_date": date(2025, 1, 1), "auto_renew": False,
     "list_price": Decimal("12345678901234567.123456789"), "promotion_discount_percent": Decimal("0.1000"),
     "price_margin_percent": None, "scheduled_next_term": None, "friendly_name": None, "updated_at": NOW},
    {"quantity": 8, "status": "active", "end_date": date(2025, 12, 31), "auto_renew": True,
     "list_price": Decimal("1E+2"), "promotion_discount_percent": None, "price_margin_percent": Decimal("-5"),
     "scheduled_next_term": {"quantity": 3, "list_price": "1.10", "term": None}, "friendly_name": 'a "b"\\c',
     "updated_at": NOW},
]  # fmt: skip


@pytest.fixture
def db(engine: Engine) -> Any:
    with engine.begin() as connection:
        connection.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        connection.execute(insert(customers).values(id="c1", reseller_id="r1", name="C", provider_margins={}))
        connection.execute(insert(connections).values(
            id="at1", reseller_id="r1", kind="autotask", username="u", secret_encrypted="x",
            integration_code="c", timezone="UTC", settle_seconds=0, policies={}, created_at=NOW))  # fmt: skip
    with engine.begin() as connection:
        yield connection


def stored(connection: Connection, table: Table, where: str, order_by: str, leave_out: set[str]) -> list[Any]:
    """The rows as the database holds them (each column as text), but for the columns left out."""
    columns = ", ".join(f"CAST({c.name} AS TEXT)" for c in table.c if c.name not in leave_out)
    query = f"SELECT {columns} FROM {table.name} WHERE {where} ORDER BY {order_by}"
    return [tuple(row) for row in connection.exec_driver_sql(query)]


def test_updates_store_what_sqlalchemy_stores(db: Connection) -> None:
    db.execute(insert(subscriptions), [subscription(f"{who}{i}") for who in "ab" for i in range(2)])
    by_version = update(subscriptions).where(
        subscriptions.c.id == bindparam("b_id"), subscriptions.c.version == bindparam("b_seen")
    )
    for i, change in enumerate(CHANGES):  # one statement per set of columns, as the sweep does
        db.execute(by_version, [{"b_id": f"a{i}", "b_seen": 1, "version": 2, **change}])
        assert bulk.update_versioned(db, subscriptions, [{"id": f"b{i}", "version": 1, **change}]) == 1
    for i in range(2):
        by_sqlalchemy = stored(db, subscriptions, f"id = 'a{i}'", "id", {"id"})
        by_bulk = stored(db, subscriptions, f"id = 'b{i}'", "id", {"id"})
        assert by_bulk == by_sqlalchemy


@pytest.mark.parametrize("together_up_to", [bulk.UPDATE_TOGETHER_UP_TO, 0], ids=["together", "per-row"])
def test_rows_updated_together_store_what_sqlalchemy_stores(
    db: Connection, together_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call, rows whose values differ in every column (on PostgreSQL one statement joining
    an array per column, or one statement a row when there are many) and rows sharing one value
    (a single parameter)."""
    monkeypatch.setattr(bulk, "UPDATE_TOGETHER_UP_TO", together_up_to)
    db.execute(insert(subscriptions), [subscription(f"{who}{i}") for who in "ab" for i in range(3)])
    changes = [
        CHANGES[0],
        {name: CHANGES[1].get(name, value) for name, value in CHANGES[0].items()},
        CHANGES[0],
    ]
    for i, change in enumerate(changes):
        db.execute(update(subscriptions).where(subscriptions.c.id == f"a{i}").values(version=2, **change))
    rows = [{"id": f"b{i}", "version": 1, **change} for i, change in enumerate(changes)]
    assert bulk.update_versioned(db, subscriptions, rows) == 3
    by_sqlalchemy = stored(db, subscriptions, "id < 'b'", "id", {"id"})
    by_bulk = stored(db, subscriptions, "id >= 'b'", "id", {"id"})
    assert by_bulk == by_sqlalchemy
    assert len({row[5] for row in by_bulk}) == 2  # the quantities differ (not all one parameter)


def test_inserts_store_what_sqlalchemy_stores(db: Connection) -> None:
    db.execute(insert(subscriptions), [subscription("s1"), subscription("s2")])
    snapshots = [{"id": "s1", "price": "1.00", "none": None, "nested": {"a": [1, 2]}}, {"quote": 'x"y\\z'}]
    history = [
        {"subscription_id": subscription_id, "version": version, "changed_at": NOW, "snapshot": snapshot,
         "operation_id": "sweep:1"}
        for subscription_id in ("s1", "s2")
        for version, snapshot in zip((2, 3), snapshots, strict=True)
    ]  # fmt: skip
    db.execute(insert(subscription_history), [row for row in history if row["subscription_id"] == "s1"])
    bulk.insert_rows(db, subscription_history, [row for row in history if row["subscription_id"] == "s2"])
    leave_out = {"id", "subscription_id"}
    by_sqlalchemy = stored(db, subscription_history, "subscription_id = 's1'", "version", leave_out)
    by_bulk = stored(db, subscription_history, "subscription_id = 's2'", "version", leave_out)
    assert by_bulk == by_sqlalchemy


def test_upserts_store_what_sqlalchemy_stores(db: Connection) -> None:
    def books(first: int, contract_id: int) -> list[dict[str, Any]]:
        return [
            {"connection_id": "at1", "contract_service_id": first + i, "contract_id": contract_id,
             "service_start": date(2024, 2, 1),
             "intents": [{"date": "2024-02-01", "units": i, "unit_price": "12.0000", "unit_cost": None}]}
            for i in range(3)
        ]  # fmt: skip

    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(service_books)
    statement = upsert.on_conflict_do_update(
        index_elements=["connection_id", "contract_service_id"],
        set_={name: upsert.excluded[name] for name in ("contract_id", "service_start", "intents")},
    )
    key = ("connection_id", "contract_service_id")
    for contract_id in (1, 2):  # inserted, then updated
        db.execute(statement, books(100, contract_id))
        bulk.upsert_rows(db, service_books, books(200, contract_id), key=key)
    order, leave_out = "contract_service_id", {"contract_service_id"}
    by_sqlalchemy = stored(db, service_books, "contract_service_id < 200", order, leave_out)
    by_bulk = stored(db, service_books, "contract_service_id >= 200", order, leave_out)
    assert by_bulk == by_sqlalchemy
    assert {row[1] for row in by_bulk} == {"2"}  # contract_id: updated


def test_an_update_matches_only_rows_still_at_the_version_read(db: Connection) -> None:
    db.execute(insert(subscriptions), [subscription("s1"), subscription("s2", version=5)])
    matched = bulk.update_versioned(
        db,
        subscriptions,
        [{"id": "s1", "version": 1, "status": "expired"}, {"id": "s2", "version": 4, "status": "expired"}],
    )
    assert matched == 1
    rows = db.execute(select(subscriptions.c.id, subscriptions.c.version, subscriptions.c.status)).all()
    assert sorted(tuple(row) for row in rows) == [("s1", 2, "expired"), ("s2", 5, "active")]


def test_a_lone_row_may_give_its_id_after_its_values(db: Connection) -> None:
    db.execute(insert(subscriptions), [subscription("s1")])
    assert bulk.update_versioned(db, subscriptions, [{"status": "expired", "version": 1, "id": "s1"}]) == 1
    assert db.execute(select(subscriptions.c.status, subscriptions.c.version)).one() == ("expired", 2)


def test_new_ids_come_back_in_the_order_of_the_rows(db: Connection) -> None:
    records = [
        {"connection_id": "at1", "operation_key": "k", "type": "Renew", "status": "pending",
         "subscription_id": f"s{i}", "details": {}, "created_at": NOW, "updated_at": NOW}
        for i in (5, 1, 4, 2, 3)
    ]  # fmt: skip
    for _ in range(2):
        ids = bulk.insert_returning_ids(db, connection_operations, records)
        found = dict(
            db.execute(
                select(connection_operations.c.id, connection_operations.c.subscription_id).where(
                    connection_operations.c.id.in_(ids)
                )
            ).all()
        )
        assert [found[i] for i in ids] == [r["subscription_id"] for r in records]


def test_money_must_be_decimal(db: Connection) -> None:
    db.execute(insert(subscriptions), [subscription("s1")])
    with pytest.raises(TypeError, match="never float"):
        bulk.update_versioned(db, subscriptions, [{"id": "s1", "version": 1, "list_price": 0.1}])


def test_a_value_the_rows_do_not_give_is_refused(db: Connection) -> None:
    # A column with a default would otherwise need a value the rows do not carry.
    with pytest.raises(ValueError, match="status"):
        bulk.insert_rows(db, connection_operations.metadata.tables["adjustments"], [{"operation_id": 1}])
