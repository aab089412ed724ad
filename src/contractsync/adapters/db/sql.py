"""Small SQL building blocks shared by the repositories and views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from contractsync.adapters.db.session import is_postgres


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL written `column = ANY(:values)`: one array parameter
    whatever the count, so the statement text stays the same and psycopg keeps its parsed form
    (it parses again every statement with more than 50 parameters: ~2 ms for a few hundred)."""
    wanted = sorted(set(values))
    if is_postgres(session):
        return column == any_(bindparam(None, wanted, type_=postgresql.ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(wanted)  # type: ignore[no-any-return]


def any_of(column: Any, name: str, postgres: bool) -> ColumnElement[bool]:
    """`one_of` for a statement built once and run many times: the values come at execution, as
    the parameter `name` (a list). On PostgreSQL `column = ANY(:name)`, on SQLite an expanding
    `IN`. A statement built once skips SQLAlchemy's construction and cache-key walk per call
    (for a joined read of sixty columns, more CPU than running it)."""
    if postgres:
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


class Part:
    """Values read like a table's row (`row.id`, `row._mapping["id"]`): one table's columns of a
    joined row, or a row as it was just written."""

    __slots__ = ("_mapping",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._mapping = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None
