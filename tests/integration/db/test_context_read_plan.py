"""An operation's first read (`operation_store.read_context`) is planned with its joins in the
order written and index look-ups priced as cached reads, on PostgreSQL, for that statement
alone — with no statement of its own: the statements after it in the same transaction are
planned as PostgreSQL would plan them anyway."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from contractsync.adapters.db.operation_store import read_context

SETTINGS = "SELECT current_setting('join_collapse_limit'), current_setting('random_page_cost')"


def _settings(session: Session) -> tuple[str, str]:
    limit, cost = session.execute(text(SETTINGS)).one()
    return limit, cost


@contextmanager
def settings_in_the_read(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    """The settings each context read is planned under, as it starts (its own connection's)."""
    seen: list[tuple[str, str]] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT subscriptions.id AS s_id"):  # the context read
            limit, cost = cursor.connection.execute(SETTINGS).fetchone()
            seen.append((limit, cost))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_read_alone_is_planned_in_the_written_order(postgres: Engine) -> None:
    with settings_in_the_read(postgres) as seen, Session(postgres) as session, session.begin():
        before = _settings(session)
        answer = read_context(session, ["s2", "s1", "s9"])
        after = _settings(session)

    assert sorted(answer.subscriptions) == ["s1", "s2"]  # the rows themselves, as ever
    # planned with the joins in the order written, an index look-up at 1.1 pages
    assert seen == [("1", "1.1")]
    assert before == after == ("8", "4")  # PostgreSQL's defaults, before and after


def test_a_cheaper_page_price_of_the_database_is_kept(postgres: Engine) -> None:
    """An operator's random_page_cost below 1.1 (here the database's) is not raised for the
    read, and is the transaction's again after it."""
    with postgres.connect() as db:
        database = db.execute(text("SELECT current_database()")).scalar_one()
        db.execute(text(f'ALTER DATABASE "{database}" SET random_page_cost = 1'))
        db.commit()
    postgres.dispose()  # new connections take the database's setting
    with settings_in_the_read(postgres) as seen, Session(postgres) as session, session.begin():
        assert _settings(session) == ("8", "1")
        read_context(session, ["s1"])
        assert _settings(session) == ("8", "1")
    assert seen == [("1", "1")]
