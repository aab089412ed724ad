"""Statements run on psycopg directly (`adapters/db/driver.py`) answer and fail as they would
through SQLAlchemy: the same values of the same types, SQLAlchemy's exceptions (a deadlock is
retried), the connection invalidated when the server ends it, the engine's listeners told."""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from contractsync.adapters.db import driver
from contractsync.adapters.db.operation_store import _context_query, _lock_query
from contractsync.adapters.db.session import is_transient
from contractsync.adapters.db.tables import subscriptions
from tests.integration.db.conftest import NOW


def test_a_read_answers_what_sqlalchemy_answers(postgres: Engine) -> None:
    parameters = {"ids": ["s2", "s1", "nobody"]}
    with postgres.begin() as db:
        through_sqlalchemy = [tuple(row) for row in db.execute(_context_query(True), parameters)]
        direct = driver.read(db, _context_query(True), parameters)

    assert direct == through_sqlalchemy
    assert [[type(value) for value in row] for row in direct] == [
        [type(value) for value in row] for row in through_sqlalchemy
    ]
    first = dict(zip(_context_query(True).selected_columns.keys(), direct[0], strict=True))
    assert first["s_id"] == "s1"
    assert first["s_list_price"] == Decimal("10.10")  # money: exact, as stored
    assert first["s_created_at"] == NOW and first["s_created_at"].tzinfo == UTC
    assert first["s_start_date"] == date(2026, 1, 1)
    assert first["cu_provider_margins"] == {"p": "5.5"}


def test_the_engines_listeners_see_the_statement(postgres: Engine) -> None:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(postgres, "before_cursor_execute", note)
    try:
        with postgres.begin() as db:
            driver.read(db, _lock_query(), {"ids": ["s1"]})
    finally:
        event.remove(postgres, "before_cursor_execute", note)
    assert len(seen) == 1 and "FOR UPDATE" in seen[0]


def test_a_failure_is_sqlalchemys_and_the_transaction_is_the_connections(postgres: Engine) -> None:
    with postgres.connect() as db:
        with db.begin():
            driver.execute(db, "DELETE FROM subscriptions WHERE id = %(id)s", {"id": "s2"}, rows=False)
            with pytest.raises(IntegrityError):  # the same exception SQLAlchemy raises
                driver.execute(db, "INSERT INTO resellers (id, name, promotion_setting) "
                               "VALUES ('r1', 'again', 'pass_through')", {}, rows=False)  # fmt: skip
        # rolled back with the connection's transaction: the delete did not happen
        assert db.execute(select(subscriptions.c.id).order_by(subscriptions.c.id)).scalars().all() == [
            "s1",
            "s2",
            "s3",
        ]


def test_a_deadlock_is_transient(postgres: Engine) -> None:
    raising = "DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$"
    with postgres.begin() as db, pytest.raises(DBAPIError) as raised:
        driver.execute(db, raising, {}, rows=False)
    assert is_transient(raised.value)  # so `retrying` runs the transaction again


def test_a_connection_the_server_ended_is_invalidated(postgres: Engine) -> None:
    with postgres.connect() as db:
        db.begin()
        backend = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(DBAPIError) as raised:
            driver.read(db, _lock_query(), {"ids": ["s1"]})
        assert raised.value.connection_invalidated and db.invalidated
    with postgres.connect() as fresh:  # the pool hands out a live connection
        assert fresh.execute(text("SELECT 1")).scalar_one() == 1


def test_a_list_sqlalchemy_would_expand_is_refused_not_sent(postgres: Engine) -> None:
    query = select(subscriptions.c.id).where(subscriptions.c.status.in_(["active", "suspended"]))
    with postgres.begin() as db, pytest.raises(ValueError, match="expands at each run"):
        driver.read(db, query, {})
