"""Many rows in one go, for the sweep's thousands of subscriptions per transaction.

SQLAlchemy's executemany builds and converts every row's parameters one by one in Python, and
psycopg then sends one statement per row. Here each statement is compiled once, and each column's
values are converted by that column type's own bind processor, so money, dates, instants and JSON
are stored exactly as SQLAlchemy stores them. Then:

- PostgreSQL gets many inserts through COPY (streamed while the next rows are formatted), and
  a few, new ids and upserts as one statement reading one array per column (`unnest`);
- everything else runs through the driver's executemany (SQLite has no round trips to save, only
  Python to skip; psycopg pipelines the statements). Many updates stay one statement per row on
  PostgreSQL too: its planner joins a large `unnest` to the table by scanning the whole table
  (it prices a primary-key look-up as four page reads; 1,000 of 80,000 subscriptions: 33 ms,
  and the sweep took twice as long), while a statement per row always finds its row by primary
  key. A few (a group commit's) are one statement, which also finds them by primary key
  (`_update_arrays`): in PostgreSQL, and above all in psycopg's handling of a result per row,
  that costs less than a statement each.

psycopg gets every value in its binary format, which spares quoting and escaping each one (JSON
above all). In the `unnest` statements a column whose value is the same on every row (the
connection, `now`, a status…) is one parameter, not an array: psycopg builds arrays in Python,
element by element, and a group commit's few rows pay that per array more than per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Table,
    any_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import TableValuedAlias

from contractsync.adapters.db import driver
from contractsync.adapters.db.session import is_postgres

Row = Mapping[str, Any]
KEY, VERSION = "id", "version"


#: From this many rows on, PostgreSQL gets them by COPY (a round trip more than one INSERT).
COPY_FROM = 50
#: Up to this many rows, PostgreSQL updates them in one statement (`_update_arrays`); more, one
#: statement per row (see the module's docstring).
UPDATE_TOGETHER_UP_TO = 100


def insert_rows(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    """INSERT the rows (all with the same keys, the column names)."""
    if not rows:
        return
    if is_postgres(connection) and len(rows) >= COPY_FROM:
        _copy(connection, table, rows)
    elif is_postgres(connection):
        _execute_with_arrays(connection, table, rows, partial(_insert_arrays, table, tuple(rows[0])))
    else:
        _execute_many(connection, _insert_values(table, tuple(rows[0])), table, rows)


def insert_returning_ids(
    connection: Connection, table: Table, rows: Sequence[Row], notify: str | None = None
) -> list[int]:
    """INSERT the rows; answer their new ids, in the order of the rows. PostgreSQL: `notify`, a
    channel, is notified by the same statement (at commit)."""
    if not rows:
        return []
    names = tuple(rows[0])
    if not is_postgres(connection):
        # A statement per row, each telling its new id: SQLite has no round trips to save.
        sql, params = _driver_rows(connection, _insert_values(table, names), table, rows)
        return [int(connection.exec_driver_sql(sql, row).lastrowid) for row in params]
    statement = partial(_insert_in_order_returning_ids, table, names, notify)
    # The sequence numbers the rows in the order the SELECT hands them over (SQLAlchemy's own
    # insertmanyvalues relies on this too), so the ids in ascending order are the rows' order.
    new_ids = _execute_with_arrays(connection, table, rows, statement, returning=True).rows
    return sorted(int(new_id) for new_id, *_ in new_ids)


def upsert_rows(connection: Connection, table: Table, rows: Sequence[Row], key: tuple[str, ...]) -> None:
    """INSERT the rows; those whose `key` columns match an existing row UPDATE its other columns."""
    if not rows:
        return
    if is_postgres(connection):
        statement = partial(_upsert, connection.dialect.name, table, tuple(rows[0]), key)
        _execute_with_arrays(connection, table, rows, statement)
    else:
        _execute_many(connection, _upsert(connection.dialect.name, table, tuple(rows[0]), key), table, rows)


def update_versioned(connection: Connection, table: Table, rows: Sequence[Row]) -> int:
    """UPDATE each row `WHERE id = row["id"] AND version = row["version"]` (the version it was read
    at), setting the row's other columns and `version = version + 1`; answer how many matched.
    The rows' ids are distinct (one row each).

    Fewer than given means another transaction changed some of them (optimistic locking)."""
    if not rows:
        return 0
    if is_postgres(connection) and len(rows) <= UPDATE_TOGETHER_UP_TO:
        statement = partial(_update_arrays, table, tuple(rows[0]))
        # the ids are an array wherever the rows give them (`= ANY` needs one)
        return _execute_with_arrays(connection, table, rows, statement, arrays={KEY}).rowcount
    return _execute_many(connection, _update_by_version(table, tuple(rows[0])), table, rows).rowcount


def _execute_many(
    connection: Connection, statement: Insert | Update, table: Table, rows: Sequence[Row]
) -> CursorResult[Any]:
    return connection.exec_driver_sql(*_driver_rows(connection, statement, table, rows))


def _driver_rows(
    connection: Connection, statement: Insert | Update, table: Table, rows: Sequence[Row]
) -> tuple[str, list[Any]]:
    """The statement's SQL for the driver, and the rows as its parameters."""
    sql, positions = _compiled(connection.dialect, statement)
    columns = _driver_values(connection.dialect, table, rows)
    if positions is None:  # named parameters (psycopg)
        keys = [_param(name) for name in columns]
        return sql, [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return sql, list(zip(*(columns[name] for name in positions), strict=True))  # positional (SQLite)


def _copy(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    """PostgreSQL's COPY: the rows stream to the server while the next ones are formatted."""
    _require_values(table, tuple(rows[0]), "insert")
    columns = _driver_values(connection.dialect, table, rows)
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection  # psycopg's, in this transaction
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in zip(*columns.values(), strict=True):
            copy.write_row(row)


def _execute_with_arrays(
    connection: Connection,
    table: Table,
    rows: Sequence[Row],
    statement: Callable[[frozenset[str]], Insert | Update],
    arrays: set[str] | frozenset[str] = frozenset(),
    returning: bool = False,
) -> driver.DriverResult:
    """Run the rows as an `unnest` statement (`_arrays`): `statement(constant)` builds it for the
    columns whose value is the same on every row (`_constant`, but never those in `arrays`),
    which get that one value, every other column an array. `returning`: fetch what it returns."""
    columns = _driver_values(connection.dialect, table, rows)
    constant = _constant(columns) - arrays
    sql, _ = _compiled(connection.dialect, statement(constant))
    parameters = {_param(name): values[0] if name in constant else values for name, values in columns.items()}
    return driver.execute(connection, sql, parameters, rows=returning)


#: values whose equality is sameness in the database too (not Decimal: 1.0 and 1.00 are equal
#: but stored apart; not floats, JSON or arrays)
_PLAIN_TYPES = frozenset({str, int, bool, date, datetime})


def _constant(columns: dict[str, list[Any]]) -> frozenset[str]:
    """The columns (driver values) holding one same value on every row; never all of them, so
    that an array gives the number of rows."""
    return frozenset(name for name in list(columns)[1:] if _same(columns[name]))


def _same(values: list[Any]) -> bool:
    first = values[0]
    if all(value is first for value in values):
        return True
    kind = type(first)
    return kind in _PLAIN_TYPES and all(type(value) is kind and value == first for value in values)


def _driver_values(dialect: Dialect, table: Table, rows: Sequence[Row]) -> dict[str, list[Any]]:
    """Each column's values, converted for the driver by the column type's bind processor."""
    columns = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        convert = _bind_processor(dialect, table, name)
        if convert is None:
            columns[name] = values
        elif all(value is values[0] for value in values):  # e.g. `now` on every row: convert it once
            columns[name] = [convert(values[0])] * len(values)
        else:
            columns[name] = [convert(value) for value in values]
    return columns


# Caches are keyed by the dialect too: one entry per engine and statement.
@lru_cache(maxsize=128)
def _compiled(dialect: Dialect, statement: Insert | Update) -> tuple[str, list[str] | None]:
    """The SQL for the driver and, if its parameters are positional, the column behind each."""
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if dialect.name == "postgresql":
        sql = re.sub(r"%\((\w+)\)s", r"%(\1)b", sql)  # psycopg's binary format
    if compiled.positiontup is None:
        return sql, None
    return sql, [p.removeprefix("p_") for p in compiled.positiontup]


@lru_cache(maxsize=512)
def _bind_processor(dialect: Dialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def _require_values(table: Table, names: tuple[str, ...], statement: str) -> None:
    """The rows must carry every value: SQLAlchemy would add a column's `default` (inserts) or
    `onupdate` (updates) itself, bulk statements do not."""
    kind = "default" if statement == "insert" else "onupdate"
    missing = sorted(c.name for c in table.c if getattr(c, kind) is not None and c.name not in names)
    if missing:
        raise ValueError(f"bulk {statement}s take every value from the rows; also give {missing}")


@lru_cache(maxsize=64)
def _insert_values(table: Table, names: tuple[str, ...]) -> Insert:
    _require_values(table, names, "insert")
    return insert(table).values({name: bindparam(_param(name)) for name in names})


@lru_cache(maxsize=64)
def _insert_in_order_returning_ids(
    table: Table, names: tuple[str, ...], notify: str | None, constant: frozenset[str]
) -> Insert:
    _require_values(table, names, "insert")
    given = _arrays(table, names, constant, with_ordinality="position")
    rows = select(*_selected(table, names, given, constant)).order_by(given.c.position)
    returning: list[Any] = [table.c[KEY]]
    if notify is not None:
        assert re.fullmatch(r"\w+", notify), notify  # a channel name, written into the SQL
        returning.append(func.pg_notify(literal_column(f"'{notify}'"), literal_column("''")))
    return insert(table).from_select(list(names), rows).returning(*returning)


@lru_cache(maxsize=64)
def _insert_arrays(table: Table, names: tuple[str, ...], constant: frozenset[str]) -> Insert:
    _require_values(table, names, "insert")
    given = _arrays(table, names, constant)
    return insert(table).from_select(list(names), select(*_selected(table, names, given, constant)))


@lru_cache(maxsize=64)
def _upsert(
    dialect_name: str,
    table: Table,
    names: tuple[str, ...],
    key: tuple[str, ...],
    constant: frozenset[str] = frozenset(),
) -> Insert:
    _require_values(table, names, "insert")
    statement: postgresql.Insert | sqlite.Insert
    if dialect_name == "postgresql":
        given = _arrays(table, names, constant)
        rows = select(*_selected(table, names, given, constant))
        statement = postgresql.insert(table).from_select(list(names), rows)
    else:
        statement = sqlite.insert(table).values({name: bindparam(_param(name)) for name in names})
    others = {name: statement.excluded[name] for name in names if name not in key}
    return statement.on_conflict_do_update(index_elements=list(key), set_=others)


def _arrays(
    table: Table, names: tuple[str, ...], constant: frozenset[str], with_ordinality: str | None = None
) -> TableValuedAlias:
    """`unnest(:p_a::type_a[], :p_b::type_b[], …) AS given(a, b, …)`: one array per column but
    the `constant` ones (`_selected`)."""
    varying = [n for n in names if n not in constant]
    arrays = [bindparam(_param(n), type_=ARRAY(table.c[n].type)) for n in varying]
    columns = [column(n, table.c[n].type) for n in varying]
    given: TableValuedAlias = (
        func.unnest(*arrays)
        .table_valued(*columns, with_ordinality=with_ordinality)
        .render_derived(name="given")
    )
    return given


def _selected(
    table: Table, names: tuple[str, ...], given: TableValuedAlias, constant: frozenset[str]
) -> list[Any]:
    """The values of each row, in the order of `names`: a column of `given`, or for a constant
    column its one parameter, cast to the column's type as the array would have been."""
    return [
        cast(bindparam(_param(n)), table.c[n].type).label(n) if n in constant else given.c[n] for n in names
    ]


@lru_cache(maxsize=64)
def _update_by_version(table: Table, names: tuple[str, ...]) -> Update:
    _require_values(table, names, "update")
    return (
        update(table)
        .where(table.c[KEY] == bindparam(_param(KEY)), table.c[VERSION] == bindparam(_param(VERSION)))
        .values(
            {name: bindparam(_param(name)) for name in names if name not in (KEY, VERSION)}
            | {VERSION: table.c[VERSION] + literal_column("1")}
        )
    )


@lru_cache(maxsize=64)
def _update_arrays(table: Table, names: tuple[str, ...], constant: frozenset[str]) -> Update:
    """`_update_by_version` for all the rows at once: the table joined to `unnest` of the rows.
    `id = ANY(ids)` as well as the join, so that the planner finds the rows by primary key (it
    estimates the array's length; joined to `unnest` alone it may scan the whole table)."""
    _require_values(table, names, "update")
    given = _arrays(table, names, constant)
    value = dict(zip(names, _selected(table, names, given, constant), strict=True))
    ids = bindparam(_param(KEY), type_=ARRAY(table.c[KEY].type))
    return (
        update(table)
        .where(
            table.c[KEY] == any_(ids),
            table.c[KEY] == value[KEY],
            table.c[VERSION] == value[VERSION],
        )
        .values(
            {name: value[name] for name in names if name not in (KEY, VERSION)}
            | {VERSION: table.c[VERSION] + literal_column("1")}
        )
    )


def _param(name: str) -> str:
    # Not the column's own name: SQLAlchemy reserves that for the SET clause it renders itself.
    return f"p_{name}"
