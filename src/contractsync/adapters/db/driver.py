"""A statement run on psycopg's cursor directly, for the few that every group commit runs.

Through SQLAlchemy a statement also gets an execution context, a `CursorResult` and its
metadata — which reads the cursor's `description`, for which psycopg builds a `Column` per
column — and a `Row` per row. For the group commit's statements that is a fifth of its thread's
CPU (`benchmarks/README.md`, session 17). `execute` keeps what the rest of the code relies on:

- it runs in the connection's transaction (the same psycopg connection);
- the engine's `before_cursor_execute` listeners see it (statement counts, plan tests,
  `benchmarks/serve_api.py`), with no execution context;
- a failure is raised as SQLAlchemy raises it (`DBAPIError` and its subclasses, so a deadlock
  is retried like any other: `session.is_transient`), and a lost connection is invalidated.

`execute` answers the values as psycopg reads them; `read` runs a SELECT built by SQLAlchemy and
converts them as SQLAlchemy would (`DecimalText`, `UtcDateTime`). Anything that reads rows by
column name or needs SQLAlchemy's `echo` log stays on SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import CompoundSelect, Select
from sqlalchemy.sql.elements import ColumnElement

from contractsync.adapters.db.session import UNPREPARED


@dataclass(frozen=True)
class DriverResult:
    rows: list[tuple[Any, ...]]
    rowcount: int


def execute(
    connection: Connection, sql: str, parameters: dict[str, Any], *, rows: bool, prepare: bool | None = None
) -> DriverResult:
    """Run `sql` (psycopg's placeholders) in `connection`'s transaction; `rows`: fetch its rows.
    `prepare=False`: planned for these values each time (`session.UNPREPARED`)."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    cursor = driver.cursor()
    try:
        for listener in connection.dispatch.before_cursor_execute:
            sql, parameters = listener(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters, prepare=prepare)
        return DriverResult(cursor.fetchall() if rows else [], cursor.rowcount)
    except psycopg.Error as error:
        invalidated = driver.closed or driver.broken  # what SQLAlchemy's psycopg dialect calls a disconnect
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql,
            parameters,
            error,
            psycopg.Error,
            hide_parameters=connection.engine.hide_parameters,
            connection_invalidated=invalidated,
            dialect=connection.dialect,
        ) from error
    finally:
        cursor.close()


def _result_processors(
    dialect: Dialect, columns: Iterable[ColumnElement[Any]]
) -> list[tuple[int, Callable[[Any], Any]]]:
    """Where the columns' types convert what they read, and how (SQLAlchemy's own processors)."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for position, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            found.append((position, process))
    return found


@dataclass(frozen=True)
class _Read:
    sql: str
    defaults: dict[str, Any]
    binds: dict[str, Callable[[Any], Any]]
    results: list[tuple[int, Callable[[Any], Any]]]
    prepare: bool | None


def read(
    connection: Connection, query: Select[Any] | CompoundSelect[Any], parameters: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of a SELECT built by SQLAlchemy, each a tuple of its values as SQLAlchemy would
    answer them (its bind and result processors applied; planned on every run if the statement
    says `UNPREPARED`)."""
    compiled = _compiled_read(connection.dialect, query)
    values = compiled.defaults | parameters
    for name, process in compiled.binds.items():
        values[name] = process(values[name])
    rows = execute(connection, compiled.sql, values, rows=True, prepare=compiled.prepare).rows
    if not compiled.results:
        return rows
    answered = []
    for row in rows:
        converted = list(row)
        for position, process in compiled.results:
            converted[position] = process(converted[position])
        answered.append(tuple(converted))
    return answered


@lru_cache(maxsize=64)
def _compiled_read(dialect: Dialect, query: Select[Any] | CompoundSelect[Any]) -> _Read:
    compiled = query.compile(dialect=dialect)
    binds: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        if bind.expanding:  # rendered by SQLAlchemy at each run (`IN` of a list)
            raise ValueError(f"{name}: a list SQLAlchemy expands at each run; give its values apart")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
    prepare = False if query.get_execution_options().get(UNPREPARED) else None
    results = _result_processors(dialect, query.selected_columns)
    return _Read(str(compiled), dict(compiled.params), binds, results, prepare)
